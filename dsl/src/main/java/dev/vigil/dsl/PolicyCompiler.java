package dev.vigil.dsl;

import groovy.lang.GroovyClassLoader;
import groovy.lang.GroovyCodeSource;
import groovy.transform.CompileStatic;
import org.codehaus.groovy.ast.ASTNode;
import org.codehaus.groovy.ast.AnnotatedNode;
import org.codehaus.groovy.ast.AnnotationNode;
import org.codehaus.groovy.ast.ClassCodeVisitorSupport;
import org.codehaus.groovy.ast.ClassHelper;
import org.codehaus.groovy.ast.ClassNode;
import org.codehaus.groovy.ast.ImportNode;
import org.codehaus.groovy.ast.ModuleNode;
import org.codehaus.groovy.ast.VariableScope;
import org.codehaus.groovy.ast.expr.ArgumentListExpression;
import org.codehaus.groovy.ast.expr.AttributeExpression;
import org.codehaus.groovy.ast.expr.BinaryExpression;
import org.codehaus.groovy.ast.expr.BitwiseNegationExpression;
import org.codehaus.groovy.ast.expr.CastExpression;
import org.codehaus.groovy.ast.expr.ClosureExpression;
import org.codehaus.groovy.ast.expr.DeclarationExpression;
import org.codehaus.groovy.ast.expr.ConstantExpression;
import org.codehaus.groovy.ast.expr.ConstructorCallExpression;
import org.codehaus.groovy.ast.expr.Expression;
import org.codehaus.groovy.ast.expr.MethodCallExpression;
import org.codehaus.groovy.ast.expr.MethodPointerExpression;
import org.codehaus.groovy.ast.expr.MethodReferenceExpression;
import org.codehaus.groovy.ast.expr.PropertyExpression;
import org.codehaus.groovy.ast.expr.StaticMethodCallExpression;
import org.codehaus.groovy.ast.expr.TupleExpression;
import org.codehaus.groovy.ast.expr.VariableExpression;
import org.codehaus.groovy.ast.stmt.BlockStatement;
import org.codehaus.groovy.ast.stmt.DoWhileStatement;
import org.codehaus.groovy.ast.stmt.ExpressionStatement;
import org.codehaus.groovy.ast.stmt.ForStatement;
import org.codehaus.groovy.ast.stmt.LoopingStatement;
import org.codehaus.groovy.ast.stmt.Statement;
import org.codehaus.groovy.ast.stmt.SynchronizedStatement;
import org.codehaus.groovy.ast.stmt.WhileStatement;
import org.codehaus.groovy.classgen.GeneratorContext;
import org.codehaus.groovy.control.CompilationFailedException;
import org.codehaus.groovy.control.CompilePhase;
import org.codehaus.groovy.control.CompilerConfiguration;
import org.codehaus.groovy.control.MultipleCompilationErrorsException;
import org.codehaus.groovy.control.SourceUnit;
import org.codehaus.groovy.control.customizers.ASTTransformationCustomizer;
import org.codehaus.groovy.control.customizers.CompilationCustomizer;
import org.codehaus.groovy.control.customizers.ImportCustomizer;
import org.codehaus.groovy.control.customizers.SecureASTCustomizer;
import org.codehaus.groovy.control.messages.ExceptionMessage;
import org.codehaus.groovy.control.messages.Message;
import org.codehaus.groovy.control.messages.SimpleMessage;
import org.codehaus.groovy.control.messages.SyntaxErrorMessage;
import org.codehaus.groovy.syntax.SyntaxException;
import org.codehaus.groovy.syntax.Types;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compiles a policy's text in the sandbox. The layers, in the order the compiler meets them:
 * <ol>
 *   <li>the text is at most {@value #MAX_SOURCE} characters;</li>
 *   <li>(conversion) no annotations at all: {@code @ASTTest} and {@code @Grab} would run code while
 *       compiling; Grape's global transformation is disabled as well;</li>
 *   <li>(conversion) the file's shape: one statement, {@code policy('NAME') { ... }}, with the name it
 *       is stored under; no classes, methods, imports or {@code new}; no names that reach the
 *       meta-object protocol or a closure's plumbing ({@code metaClass}, {@code class},
 *       {@code delegate}, ...); no regular expressions (a pattern's matching time has no bound);</li>
 *   <li>(canonicalization) {@link SecureASTCustomizer}: no method pointers ({@code .&}, {@code ::}),
 *       no direct field access ({@code .@}), no {@code synchronized}, no package or imports;</li>
 *   <li>(canonicalization) a {@link PolicyGuard#tick()} call at the top of every loop body and closure
 *       body: the loop cap and the time limit of a run;</li>
 *   <li>(instruction selection) {@code @CompileStatic} with the allow-list extension
 *       ({@code dev.vigil.dsl.sandbox.SandboxExtension}): every call resolves at compile time to one
 *       method, which must be on the list; dynamic names ({@code "$m"()}) do not compile.</li>
 * </ol>
 * Then the policy block runs once (within the default limits) to collect the handlers, so a
 * mistake there is a compile error too.
 */
public final class PolicyCompiler {

    /** The longest policy text, in characters. */
    public static final int MAX_SOURCE = 64 * 1024;

    /** Names a policy may not use, as a variable, property or method: they reach the meta-object protocol or a closure's plumbing. */
    static final Set<String> FORBIDDEN_NAMES = Set.of("class", "metaClass", "getMetaClass", "setMetaClass", "getClass",
            "delegate", "setDelegate", "getDelegate", "owner", "getOwner", "thisObject", "getThisObject",
            "resolveStrategy", "setResolveStrategy", "directive", "setDirective", "rehydrate", "dehydrate",
            "binding", "getBinding", "setBinding", "properties", "getProperties", "invokeMethod", "getProperty",
            "setProperty", "methodMissing", "propertyMissing", "classLoader", "getClassLoader", "declaringClass",
            "evaluate", "run", "println", "print", "printf", "sleep", "execute", "with", "tap", "identity",
            "use", "mixin", "asType", "forName", "newInstance", "wait", "notifyAll", "super");

    private final PolicyLimits limits;

    /** A compiler whose policy blocks run within {@link PolicyLimits#DEFAULT}. */
    public PolicyCompiler() {
        this(PolicyLimits.DEFAULT);
    }

    /** A compiler whose policy blocks run within {@code limits} (its time limit and loop cap). */
    public PolicyCompiler(PolicyLimits limits) {
        this.limits = limits;
    }

    /**
     * Compiles revision {@code revision} of policy {@code name}.
     *
     * @throws PolicyCompileException located as {@code NAME rREV:LINE:COL: message}
     */
    public CompiledPolicy compile(String name, int revision, String source) throws PolicyCompileException {
        if (name == null || name.isBlank()) {
            throw new PolicyCompileException(String.valueOf(name), revision, 1, 1, "a policy needs a name");
        }
        if (source == null || source.isBlank()) {
            throw new PolicyCompileException(name, revision, 1, 1, "the policy is empty (expected: policy('" + name + "') { ... })");
        }
        if (source.length() > MAX_SOURCE) {
            throw new PolicyCompileException(name, revision, 1, 1, "the policy has " + source.length() + " characters (expected: <= " + MAX_SOURCE + ")");
        }
        String className = className(name, revision);
        Map<String, Integer> columns = Collections.synchronizedMap(new TreeMap<>());
        CompilerConfiguration cc = configuration(name, columns);
        Class<?> cls;
        try (GroovyClassLoader loader = new GroovyClassLoader(PolicyScript.class.getClassLoader(), cc)) {
            cls = loader.parseClass(new GroovyCodeSource(source, className + ".groovy", "/vigil/policy"), false);
        } catch (MultipleCompilationErrorsException e) {
            throw located(name, revision, e);
        } catch (CompilationFailedException e) {
            throw new PolicyCompileException(name, revision, 1, 1, e.getMessage());
        } catch (java.io.IOException e) {
            throw new PolicyCompileException(name, revision, 1, 1, e.toString());
        }
        CompiledPolicy p = new CompiledPolicy(name, revision, cls.asSubclass(PolicyScript.class), className, Map.copyOf(columns));
        p.define(definitionLimits(limits));
        return p;
    }

    /** The shortest time limit of the policy block's one run at compile time. */
    static final java.time.Duration DEFINITION_TIME = java.time.Duration.ofSeconds(5);

    /**
     * The limits of the policy block's run at compile time: its loop cap, and a time limit of at
     * least {@link #DEFINITION_TIME}. That run is the first code of the policy a JVM executes,
     * often a cold one (the command line's), so its time is mostly class loading; the handlers'
     * runs keep the configured limit.
     */
    static PolicyLimits definitionLimits(PolicyLimits limits) {
        return limits.runTime().compareTo(DEFINITION_TIME) >= 0 ? limits
                : new PolicyLimits(DEFINITION_TIME, limits.loopIterations(), limits.failuresToDisable());
    }

    /** The name the file's {@code policy('NAME')} declares, or {@code null} (for {@code vigil policy test}). */
    public static String declaredName(String source) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\s*policy\\s*\\(?\\s*(['\"])([^'\"\\n]+)\\1").matcher(source);
        return m.find() ? m.group(2) : null;
    }

    static String className(String name, int revision) {
        StringBuilder b = new StringBuilder("Policy_");
        for (char c : name.toCharArray()) {
            b.append(Character.isLetterOrDigit(c) && c < 128 ? c : '_');
        }
        return b.append("_r").append(revision).toString();
    }

    private static CompilerConfiguration configuration(String name, Map<String, Integer> columns) {
        CompilerConfiguration cc = new CompilerConfiguration();
        cc.setScriptBaseClass(PolicyScript.class.getName());
        cc.setDisabledGlobalASTTransformations(Set.of("groovy.grape.GrabAnnotationTransformation"));
        SecureASTCustomizer secure = new SecureASTCustomizer();
        secure.setPackageAllowed(false);
        secure.setMethodDefinitionAllowed(false);
        secure.setIndirectImportCheckEnabled(false);
        List<String> types = List.of(PolicyEvent.class.getName(), PolicyInstance.class.getName(), PolicyService.class.getName(),
                PolicyRealServer.class.getName(), PolicyTracker.class.getName());
        ImportCustomizer imports = new ImportCustomizer();
        imports.addImports(types.toArray(String[]::new));
        secure.setAllowedImports(types);
        secure.setAllowedStarImports(List.of());
        secure.setAllowedStaticImports(List.of());
        secure.setAllowedStaticStarImports(List.of());
        secure.setDisallowedExpressions(List.of(MethodPointerExpression.class, MethodReferenceExpression.class, AttributeExpression.class));
        secure.setDisallowedStatements(List.of(SynchronizedStatement.class));
        cc.addCompilationCustomizers(
                new RejectAnnotations(),
                new CheckShape(name, columns),
                imports,
                secure,
                new InsertGuards(),
                new ASTTransformationCustomizer(Map.of("extensions", List.of("dev.vigil.dsl.sandbox.SandboxExtension")), CompileStatic.class));
        return cc;
    }

    private static PolicyCompileException located(String name, int revision, MultipleCompilationErrorsException e) {
        List<? extends Message> errors = e.getErrorCollector().getErrors();
        for (Message m : errors) {
            if (m instanceof SyntaxErrorMessage s) {
                SyntaxException x = s.getCause();
                return new PolicyCompileException(name, revision, Math.max(1, x.getLine()), Math.max(1, x.getStartColumn()), clean(x.getOriginalMessage()));
            }
        }
        for (Message m : errors) {
            if (m instanceof ExceptionMessage x) {
                return new PolicyCompileException(name, revision, 1, 1, clean(String.valueOf(x.getCause().getMessage())));
            }
            if (m instanceof SimpleMessage x) {
                return new PolicyCompileException(name, revision, 1, 1, clean(x.getMessage()));
            }
        }
        return new PolicyCompileException(name, revision, 1, 1, clean(e.getMessage()));
    }

    private static String clean(String message) {
        String m = message.replace("[Static type checking] - ", "").strip();
        if (m.startsWith("Unexpected input: '") && (m.contains("\\n") || m.length() > 60)) {
            return "Unexpected input (is a bracket, parenthesis or quote not closed before this?)";
        }
        int nl = m.indexOf('\n');
        return nl > 0 ? m.substring(0, nl).strip() : m;
    }

    private static void error(SourceUnit source, String message, ASTNode at) {
        source.getErrorCollector().addError(new SyntaxErrorMessage(
                new SyntaxException(message, Math.max(1, at.getLineNumber()), Math.max(1, at.getColumnNumber())), source));
    }

    /** Any annotation written in the policy (the compiler's own, such as {@code @BaseScript}, have no line). */
    static final class RejectAnnotations extends CompilationCustomizer {

        RejectAnnotations() {
            super(CompilePhase.CONVERSION);
        }

        @Override
        public void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
            ModuleNode module = source.getAST();
            List<AnnotatedNode> extra = new ArrayList<>();
            if (module.getPackage() != null) {
                extra.add(module.getPackage());
            }
            extra.addAll(module.getImports());
            extra.addAll(module.getStarImports());
            extra.addAll(module.getStaticImports().values());
            extra.addAll(module.getStaticStarImports().values());
            for (AnnotatedNode n : extra) {
                check(source, n);
            }
            new ClassCodeVisitorSupport() {
                @Override
                protected SourceUnit getSourceUnit() {
                    return source;
                }

                @Override
                public void visitAnnotations(AnnotatedNode node) {
                    check(source, node);
                }
            }.visitClass(classNode);
        }

        private static void check(SourceUnit source, AnnotatedNode n) {
            for (AnnotationNode a : n.getAnnotations()) {
                if (a.getLineNumber() > 0) {
                    error(source, "policy sandbox: annotations are not allowed (@" + a.getClassNode().getNameWithoutPackage() + ")", a);
                }
            }
        }
    }

    /** The file's shape, the names it may not use, and where each line's first statement starts (per closure depth). */
    static final class CheckShape extends CompilationCustomizer {

        private final String name;
        private final Map<String, Integer> columns;

        CheckShape(String name, Map<String, Integer> columns) {
            super(CompilePhase.CONVERSION);
            this.name = name;
            this.columns = columns;
        }

        @Override
        public void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
            ModuleNode module = source.getAST();
            if (!classNode.isScript()) {
                error(source, "policy sandbox: class declarations are not allowed", classNode);
                return;
            }
            if (!module.getMethods().isEmpty()) {
                error(source, "policy sandbox: method definitions are not allowed", module.getMethods().get(0));
            }
            List<Statement> top = module.getStatementBlock().getStatements();
            if (top.isEmpty()) {
                error(source, "the file declares no policy (expected: policy('" + name + "') { ... })", classNode);
            } else {
                checkPolicy(source, top.get(0));
                for (int i = 1; i < top.size(); i++) {
                    error(source, "a policy file holds one statement, policy('" + name + "') { ... }; this is outside it", top.get(i));
                }
            }
            module.getStatementBlock().visit(new ClassCodeVisitorSupport() {
                @Override
                protected SourceUnit getSourceUnit() {
                    return source;
                }

                private int depth;

                @Override
                protected void visitStatement(Statement s) {
                    if (s.getLineNumber() > 0 && !(s instanceof BlockStatement)) {
                        columns.merge(CompiledPolicy.key(s.getLineNumber(), depth), Math.max(1, s.getColumnNumber()), Math::min);
                    }
                }

                @Override
                public void visitClosureExpression(ClosureExpression e) {
                    depth++;
                    super.visitClosureExpression(e);
                    depth--;
                }

                @Override
                public void visitVariableExpression(VariableExpression e) {
                    forbidden(source, e.getName(), e);
                    super.visitVariableExpression(e);
                }

                @Override
                public void visitPropertyExpression(PropertyExpression e) {
                    String p = e.getPropertyAsString();
                    if (p == null) {
                        error(source, "policy sandbox: dynamic property names are not allowed", e);
                    } else {
                        forbidden(source, p, e);
                    }
                    super.visitPropertyExpression(e);
                }

                @Override
                public void visitMethodCallExpression(MethodCallExpression e) {
                    String m = e.getMethodAsString();
                    if (m == null) {
                        error(source, "policy sandbox: dynamic method names are not allowed", e);
                    } else {
                        forbidden(source, m, e);
                    }
                    super.visitMethodCallExpression(e);
                }

                @Override
                public void visitStaticMethodCallExpression(StaticMethodCallExpression e) {
                    forbidden(source, e.getMethod(), e);
                    super.visitStaticMethodCallExpression(e);
                }

                @Override
                public void visitMethodPointerExpression(MethodPointerExpression e) {
                    error(source, "policy sandbox: method pointers (.&) are not allowed", e);
                    super.visitMethodPointerExpression(e);
                }

                @Override
                public void visitMethodReferenceExpression(MethodReferenceExpression e) {
                    error(source, "policy sandbox: method references (::) are not allowed", e);
                    super.visitMethodReferenceExpression(e);
                }

                @Override
                public void visitAttributeExpression(AttributeExpression e) {
                    error(source, "policy sandbox: direct field access (.@) is not allowed", e);
                    super.visitAttributeExpression(e);
                }

                @Override
                public void visitSynchronizedStatement(SynchronizedStatement s) {
                    error(source, "policy sandbox: synchronized is not allowed", s);
                    super.visitSynchronizedStatement(s);
                }

                @Override
                public void visitBinaryExpression(BinaryExpression e) {
                    int op = e.getOperation().getType();
                    if (op == Types.FIND_REGEX || op == Types.MATCH_REGEX) {
                        error(source, "policy sandbox: regular expressions are not allowed (their matching time has no bound)", e);
                    }
                    super.visitBinaryExpression(e);
                }

                @Override
                public void visitBitwiseNegationExpression(BitwiseNegationExpression e) {
                    error(source, "policy sandbox: regular expressions are not allowed (their matching time has no bound)", e);
                    super.visitBitwiseNegationExpression(e);
                }

                @Override
                public void visitCastExpression(CastExpression e) {
                    String t = e.getType().getName();
                    if (t.equals("Class") || t.equals("java.lang.Class")) {
                        error(source, "policy sandbox: casts to java.lang.Class are not allowed", e);
                    }
                    super.visitCastExpression(e);
                }

                @Override
                public void visitDeclarationExpression(DeclarationExpression e) {
                    String t = e.getLeftExpression().getType().getName();
                    if (t.equals("Class") || t.equals("java.lang.Class")) {
                        error(source, "policy sandbox: variables of type java.lang.Class are not allowed", e);
                    }
                    super.visitDeclarationExpression(e);
                }

                @Override
                public void visitConstructorCallExpression(ConstructorCallExpression e) {
                    error(source, "policy sandbox: creating objects with new is not allowed (" + e.getType().getName() + ")", e);
                    super.visitConstructorCallExpression(e);
                }
            });
        }

        private static void forbidden(SourceUnit source, String n, ASTNode at) {
            if (FORBIDDEN_NAMES.contains(n)) {
                error(source, "policy sandbox: '" + n + "' is not allowed", at);
            }
        }

        private void checkPolicy(SourceUnit source, Statement s) {
            String expected = "policy('" + name + "') { ... }";
            if (!(s instanceof ExpressionStatement es) || !(es.getExpression() instanceof MethodCallExpression call)
                    || !call.isImplicitThis() || !"policy".equals(call.getMethodAsString())) {
                error(source, "a policy file holds one statement, " + expected, s);
                return;
            }
            List<Expression> args = call.getArguments() instanceof TupleExpression t ? t.getExpressions() : List.of();
            if (args.size() != 2 || !(args.get(0) instanceof ConstantExpression c) || !(c.getValue() instanceof String declared)
                    || !(args.get(1) instanceof ClosureExpression)) {
                error(source, "expected " + expected, call);
                return;
            }
            if (!declared.equals(name)) {
                error(source, "the file declares policy '" + declared + "', but it is stored as '" + name + "'", c);
            }
        }
    }

    /** Inserts {@code dev.vigil.dsl.PolicyGuard.tick()} at the top of every loop body and closure body. */
    static final class InsertGuards extends CompilationCustomizer {

        InsertGuards() {
            super(CompilePhase.CANONICALIZATION);
        }

        @Override
        public void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
            new ClassCodeVisitorSupport() {
                @Override
                protected SourceUnit getSourceUnit() {
                    return source;
                }

                @Override
                public void visitForLoop(ForStatement s) {
                    super.visitForLoop(s);
                    guard(s, s);
                }

                @Override
                public void visitWhileLoop(WhileStatement s) {
                    super.visitWhileLoop(s);
                    guard(s, s);
                }

                @Override
                public void visitDoWhileLoop(DoWhileStatement s) {
                    super.visitDoWhileLoop(s);
                    guard(s, s);
                }

                @Override
                public void visitClosureExpression(ClosureExpression e) {
                    super.visitClosureExpression(e);
                    Statement code = e.getCode();
                    if (code instanceof BlockStatement b) {
                        b.getStatements().add(0, tick(e));
                    } else {
                        BlockStatement b = new BlockStatement(new ArrayList<>(List.of(tick(e), code)), new VariableScope(e.getVariableScope()));
                        e.setCode(b);
                    }
                }
            }.visitClass(classNode);
        }

        private static void guard(LoopingStatement loop, ASTNode at) {
            Statement body = loop.getLoopBlock();
            if (body instanceof BlockStatement b) {
                b.getStatements().add(0, tick(at));
            } else {
                loop.setLoopBlock(new BlockStatement(new ArrayList<>(List.of(tick(at), body)), new VariableScope()));
            }
        }

        private static Statement tick(ASTNode at) {
            StaticMethodCallExpression call = new StaticMethodCallExpression(ClassHelper.make(PolicyGuard.class), "tick", ArgumentListExpression.EMPTY_ARGUMENTS);
            call.setSourcePosition(at);
            ExpressionStatement s = new ExpressionStatement(call);
            s.setSourcePosition(at);
            return s;
        }
    }
}
