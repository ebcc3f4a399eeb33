package dev.vigil.dsl.sandbox

import org.codehaus.groovy.ast.ClassHelper
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.CodeVisitorSupport
import org.codehaus.groovy.ast.MethodNode
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.PropertyExpression
import org.codehaus.groovy.transform.stc.ExtensionMethodNode
import org.codehaus.groovy.transform.stc.GroovyTypeCheckingExtensionSupport

/**
 * The policy sandbox's allow-list, as a static type checking extension: the policy is compiled
 * with {@code @CompileStatic}, so every method call resolves to one method at compile time, and
 * this extension refuses any method whose declaring class and name are not listed. GDK methods
 * ({@link ExtensionMethodNode}) are judged by the helper class that really holds them
 * ({@code DefaultGroovyMethods}, {@code ProcessGroovyMethods}, ...), never by the receiver's class:
 * {@code 'id'.execute()} has a {@code String} receiver but lives in {@code ProcessGroovyMethods}.
 * Property reads are judged by their receiver's type. Nothing that takes a regular expression is
 * listed ({@code String#matches}, {@code split}, {@code grep}): a pattern's matching time has no bound.
 */
class SandboxExtension extends GroovyTypeCheckingExtensionSupport.TypeCheckingDSL {

    /** Every public method of these is part of the language. */
    static final Set<String> LANGUAGE = [
            'dev.vigil.dsl.PolicyScript', 'dev.vigil.dsl.PolicyEvent', 'dev.vigil.dsl.PolicyInstance',
            'dev.vigil.dsl.PolicyService', 'dev.vigil.dsl.PolicyRealServer', 'dev.vigil.dsl.PolicyTracker',
            'dev.vigil.dsl.PolicyDurations', 'dev.vigil.dsl.PolicyGuard'] as Set

    static final Set<String> NUMBER = ['intValue', 'longValue', 'doubleValue', 'floatValue', 'compareTo', 'equals',
            'hashCode', 'toString', 'valueOf', 'parseInt', 'parseLong', 'parseDouble', 'max', 'min', 'abs', 'signum',
            'booleanValue', 'compare', 'sum'] as Set
    static final Set<String> COLLECTION = ['size', 'isEmpty', 'get', 'contains', 'containsKey', 'containsValue', 'add',
            'put', 'remove', 'keySet', 'values', 'entrySet', 'indexOf', 'subList', 'getKey', 'getValue', 'hasNext',
            'next', 'iterator', 'getOrDefault', 'clear', 'equals', 'hashCode', 'toString', 'getFrom', 'getTo'] as Set

    /** Listed methods of library classes. */
    static final Map<String, Set<String>> LIBRARY = [
            'java.lang.Object'      : ['equals', 'hashCode', 'toString'] as Set,
            'java.lang.String'      : ['length', 'isEmpty', 'isBlank', 'startsWith', 'endsWith', 'contains', 'equals',
                                       'equalsIgnoreCase', 'compareTo', 'compareToIgnoreCase', 'indexOf', 'lastIndexOf',
                                       'substring', 'toLowerCase', 'toUpperCase', 'trim', 'strip', 'charAt',
                                       'hashCode', 'toString', 'valueOf', 'concat'] as Set,
            'java.lang.CharSequence': ['length', 'charAt', 'isEmpty', 'toString'] as Set,
            'java.lang.Comparable'  : ['compareTo'] as Set,
            'java.lang.Math'        : ['max', 'min', 'abs', 'floor', 'ceil', 'round', 'floorDiv', 'floorMod', 'signum', 'sqrt', 'pow'] as Set,
            'java.lang.Number'      : NUMBER, 'java.lang.Integer': NUMBER, 'java.lang.Long': NUMBER,
            'java.lang.Double'      : NUMBER, 'java.lang.Boolean': NUMBER, 'java.math.BigDecimal': NUMBER,
            'java.math.BigInteger'  : NUMBER,
            'java.lang.Iterable'    : COLLECTION, 'java.util.Collection': COLLECTION, 'java.util.List': COLLECTION,
            'java.util.Set'         : COLLECTION, 'java.util.Map': COLLECTION, 'java.util.Map$Entry': COLLECTION,
            'java.util.Iterator'    : COLLECTION, 'java.util.ArrayList': COLLECTION, 'java.util.LinkedHashMap': COLLECTION,
            'java.util.HashMap'     : COLLECTION, 'java.util.AbstractMap': COLLECTION, 'java.util.AbstractList': COLLECTION,
            'java.util.AbstractCollection': COLLECTION, 'java.util.LinkedHashSet': COLLECTION, 'java.util.HashSet': COLLECTION,
            'groovy.lang.Range'     : COLLECTION, 'groovy.lang.IntRange': COLLECTION,
            'java.time.Instant'     : ['isBefore', 'isAfter', 'plus', 'minus', 'plusSeconds', 'minusSeconds', 'toEpochMilli',
                                       'getEpochSecond', 'compareTo', 'equals', 'hashCode', 'toString', 'until'] as Set,
            'java.time.Duration'    : ['ofSeconds', 'ofMinutes', 'ofMillis', 'ofHours', 'between', 'toMillis', 'toSeconds',
                                       'getSeconds', 'toMinutes', 'compareTo', 'plus', 'minus', 'isNegative', 'isZero',
                                       'equals', 'hashCode', 'toString'] as Set,
            'groovy.lang.Closure'   : ['call'] as Set,
    ]

    /** GDK methods ({@code DefaultGroovyMethods}, {@code StringGroovyMethods}) a policy may use. */
    static final Set<String> GDK = ['each', 'eachWithIndex', 'collect', 'findAll', 'find', 'any', 'every', 'count',
            'size', 'isEmpty', 'contains', 'join', 'first', 'last', 'max', 'min', 'sum', 'toInteger', 'toLong',
            'toDouble', 'toBigDecimal', 'isInteger', 'isNumber', 'isLong', 'isDouble', 'toString', 'times', 'upto',
            'downto', 'abs', 'plus', 'minus', 'getAt', 'putAt', 'leftShift', 'asBoolean', 'isCase', 'compareTo',
            'equals', 'div', 'multiply', 'power', 'mod', 'intdiv', 'round', 'capitalize', 'tokenize', 'startsWith',
            'endsWith', 'sort', 'unique', 'reverse', 'take', 'drop', 'inject', 'groupBy', 'countBy', 'collectEntries',
            'findResult', 'subMap', 'next', 'previous', 'toList', 'asList', 'containsKey', 'get', 'toUpperCase',
            'toLowerCase', 'trim', 'negative', 'positive', 'and', 'or', 'xor', 'leftShift', 'isEmpty'] as Set
    static final Set<String> GDK_OWNERS = ['org.codehaus.groovy.runtime.DefaultGroovyMethods',
            'org.codehaus.groovy.runtime.StringGroovyMethods'] as Set
    /** GDK methods that may grow memory out of proportion to a loop's iterations: only on numbers. */
    static final Set<String> NUMBERS_ONLY = ['multiply', 'power', 'toList', 'leftShift'] as Set

    /** Types whose properties a policy may read. */
    static final Set<String> PROPERTY_RECEIVERS = LANGUAGE + (['java.lang.String', 'java.lang.Integer', 'java.lang.Long',
            'java.lang.Double', 'java.math.BigDecimal', 'java.lang.Number', 'java.lang.Boolean', 'java.util.List',
            'java.util.Map', 'java.util.Map$Entry', 'java.util.Collection', 'java.util.Set', 'java.util.ArrayList',
            'java.util.LinkedHashMap', 'java.time.Instant', 'java.time.Duration', 'groovy.lang.IntRange',
            'groovy.lang.Range', 'int', 'long', 'double', 'boolean'] as Set)

    static String verdict(MethodNode m) {
        boolean ext = m instanceof ExtensionMethodNode
        MethodNode real = ext ? ((ExtensionMethodNode) m).extensionMethodNode : m
        String owner = real.declaringClass.name
        String name = m.name
        if (owner in LANGUAGE) {
            return null
        }
        if (ext && owner in GDK_OWNERS && name in GDK) {
            if (name in NUMBERS_ONLY) {
                ClassNode self = real.parameters.length > 0 ? real.parameters[0].type : ClassHelper.OBJECT_TYPE
                if (name == 'leftShift' && self.name in ['java.util.List', 'java.util.Collection', 'java.util.Map']) {
                    return null       // list << x: one element per iteration, bounded by the loop cap
                }
                if (!(ClassHelper.getWrapper(self).name in ['java.lang.Number', 'java.lang.Integer', 'java.lang.Long',
                        'java.lang.Double', 'java.math.BigDecimal', 'java.math.BigInteger'])) {
                    return "policy sandbox: ${owner}#${name} on ${self.name} is not allowed (it may use unbounded memory)"
                }
            }
            return null
        }
        if (!ext && name != '<init>' && LIBRARY[owner]?.contains(name)) {
            return null
        }
        return "policy sandbox: ${owner}#${name} is not allowed"
    }

    /** Range methods that take no time in proportion to the range's size. */
    static final Set<String> RANGE_CONSTANT = ['size', 'contains', 'getAt', 'isEmpty', 'getFrom', 'getTo', 'equals',
            'hashCode', 'toString', 'isCase'] as Set

    /**
     * {@code (1..2_000_000_000).sum()} would spend its time inside the GDK, where the loop guard cannot
     * see it: a range may only be walked by a method that calls a closure per element (which the
     * guard counts), or asked what takes constant time.
     */
    static String rangeVerdict(ClassNode receiver, MethodNode m) {
        if (receiver == null || !receiver.isDerivedFrom(ClassHelper.make(Range)) && !receiver.implementsInterface(ClassHelper.make(Range))
                && receiver.name != 'groovy.lang.Range') {
            return null
        }
        if (m.name in RANGE_CONSTANT) {
            return null
        }
        MethodNode real = m instanceof ExtensionMethodNode ? ((ExtensionMethodNode) m).extensionMethodNode : m
        if (real.parameters.any { it.type.name == 'groovy.lang.Closure' }) {
            return null
        }
        return "policy sandbox: ${m.name}() on a range is not allowed without a closure (it could run unbounded)"
    }

    @Override
    Object run() {
        def support = this
        onMethodSelection { Expression expr, MethodNode m ->
            String no = verdict(m)
            if (no == null && expr instanceof MethodCallExpression) {
                no = rangeVerdict((ClassNode) support.getType(((MethodCallExpression) expr).objectExpression), m)
            }
            if (no != null) {
                addStaticTypeError(no, expr)
            }
        }
        afterVisitMethod { MethodNode mn ->
            mn.code?.visit(new CodeVisitorSupport() {
                @Override
                void visitPropertyExpression(PropertyExpression pe) {
                    super.visitPropertyExpression(pe)
                    ClassNode t = (ClassNode) support.getType(pe.objectExpression)
                    boolean script = t != null && t.isDerivedFrom(ClassHelper.make('dev.vigil.dsl.PolicyScript'))
                    boolean ok = script || t != null && (t.name in PROPERTY_RECEIVERS || t.isDerivedFrom(ClassHelper.make(Number)))
                    if (!ok) {
                        support.addStaticTypeError("policy sandbox: property '${pe.propertyAsString}' of ${t?.name} is not allowed", pe)
                    }
                }
            })
        }
        null
    }
}
