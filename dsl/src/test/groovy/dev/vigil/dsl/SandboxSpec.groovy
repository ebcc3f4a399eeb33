package dev.vigil.dsl

import dev.vigil.api.NotifierEvent
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Path
import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset

/**
 * Escape attempts against the policy sandbox: each is refused, at compile time or when it runs,
 * with a located message, and none of them takes effect (the marker file stays absent).
 */
class SandboxSpec extends Specification {

    @TempDir
    Path dir

    static final Instant T0 = Instant.parse('2026-11-30T10:00:00Z')

    static String inHandler(String snippet) {
        """policy('escape') {
    on realServerDown { event ->
        ${snippet}
    }
}
"""
    }

    static String atTop(String snippet) {
        """${snippet}
policy('escape') {
    on realServerDown { event -> note('x') }
}
"""
    }

    @Unroll
    def 'escape attempt #attempt is refused: #problem'() {
        given:
        File marker = dir.resolve('marker').toFile()
        String source = (where == 'top' ? atTop(attempt) : inHandler(attempt)).replace('MARKER', marker.absolutePath)
        int line = where == 'top' ? 1 : 3

        when:
        String error = compileAndRun(source)

        then:
        error != null
        error.startsWith("escape r1:${line}:")
        problem.split(' OR ').any { error.contains(it) }
        !marker.exists()

        where:
        where     | attempt                                                         | problem
        'handler' | "System.exit(1)"                                                | 'java.lang.System#exit is not allowed'
        'handler' | "'touch MARKER'.execute()"                                      | "'execute' is not allowed"
        'handler' | "new File('MARKER').text = 'x'"                                 | 'creating objects with new is not allowed (File)'
        'handler' | "new ProcessBuilder('touch', 'MARKER').start()"                 | 'creating objects with new is not allowed'
        'handler' | "Runtime.getRuntime().exec('touch MARKER')"                     | 'java.lang.Runtime#getRuntime is not allowed'
        'handler' | "Class.forName('java.lang.Runtime')"                            | "'forName' is not allowed"
        'handler' | "def l = this.getClass().classLoader"                           | "is not allowed"
        'handler' | "def c = event.class"                                           | "'class' is not allowed"
        'handler' | "String.metaClass.foo = { -> 1 }"                               | "'metaClass' is not allowed"
        'handler' | "def m = 'exit'; System.\"\$m\"(0)"                             | 'dynamic method names are not allowed'
        'handler' | "def p = System.&exit"                                          | 'method pointers (.&) are not allowed'
        'handler' | "def p = Integer::parseInt"                                     | 'method references (::) are not allowed'
        'handler' | "def p = event.@event"                                          | 'direct field access (.@) is not allowed'
        'top'     | "@groovy.transform.ASTTest(value={ new File('MARKER').text = 'x' })\ndef x = 1" | 'annotations are not allowed (@ASTTest)'
        'top'     | "@Grab(group='org.example', module='evil', version='1')\ndef x = 1" | 'annotations are not allowed (@Grab)'
        'handler' | "Eval.me('1')"                                                  | 'groovy.util.Eval#me is not allowed'
        'handler' | "evaluate('System.exit(0)')"                                    | "'evaluate' is not allowed"
        'handler' | "def s = new GroovyShell()"                                     | 'creating objects with new is not allowed (GroovyShell)'
        'handler' | "Closure c = { -> 1 }; c.delegate = System"                     | "'delegate' is not allowed"
        'handler' | "invokeMethod('note', 'x')"                                     | "'invokeMethod' is not allowed"
        'handler' | "def b = getProperty('binding')"                                | "'getProperty' is not allowed"
        'handler' | "Thread.start { -> System.exit(0) }"                            | 'is not allowed'
        'handler' | "def h = System.getenv('HOME')"                                 | 'java.lang.System#getenv is not allowed'
        'handler' | "def p = System.properties"                                     | "'properties' is not allowed"
        'handler' | "def s = 'x' * 1000000000"                                      | 'StringGroovyMethods#multiply on java.lang.CharSequence is not allowed (it may use unbounded memory)'
        'handler' | "def s = 'x'.repeat(1000000000)"                                | 'java.lang.String#repeat is not allowed'
        'handler' | "println 'x'"                                                   | "'println' is not allowed"
        'handler' | "sleep(10000)"                                                  | "'sleep' is not allowed"
        'top'     | "class Evil { static { System.exit(0) } }"                      | 'class declarations are not allowed'
        'top'     | "def evil() { System.exit(0) }"                                 | 'method definitions are not allowed'
        'top'     | "import java.io.File"                                           | 'is not allowed'
        'handler' | "java.nio.file.Files.writeString(java.nio.file.Path.of('MARKER'), 'x')" | 'is not allowed'
        'handler' | "synchronized (event) { note('x') }"                            | 'synchronized is not allowed'
        'handler' | "def v = Integer.getInteger('user.home')"                       | 'java.lang.Integer#getInteger is not allowed'
        'handler' | "def f = { int x -> x }.curry(1)"                               | 'groovy.lang.Closure#curry is not allowed'
        'handler' | "def b = this.binding"                                          | "'binding' is not allowed"
        'handler' | "super.run()"                                                   | "is not allowed"
        'handler' | "Object o = System; o.exit(0)"                                  | 'exit'
        'handler' | "def c = 'java.lang.Runtime' as Class"                          | 'casts to java.lang.Class are not allowed'
        'handler' | "Class c = 'java.lang.Runtime'"                                 | 'variables of type java.lang.Class are not allowed'
        'handler' | "def o = event.toString().getBytes()"                           | 'java.lang.String#getBytes is not allowed'
        'handler' | "def w = System.out"                                            | "property 'out' of java.lang.Class"
        'handler' | "def t = Thread.currentThread()"                                | 'java.lang.Thread#currentThread is not allowed'
        'handler' | "remember('k', [new File('MARKER')])"                           | 'creating objects with new is not allowed'
        'handler' | "remember('k', [1, 2])"                                         | 'remember: only numbers and texts can be remembered'
        'handler' | "def s = (1..2000000000).sum()"                                 | 'sum() on a range is not allowed without a closure'
        'handler' | "(1..2000000000).each { int i -> }"                            | 'loop cap of 100000 iterations exceeded OR time limit of 200 ms exceeded'
        'handler' | "boolean b = ('a' + 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!') ==~ '(a+)+b'" | 'regular expressions are not allowed'
        'handler' | "boolean b = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('(a+)+b')" | 'java.lang.String#matches is not allowed'
        'handler' | "def p = ~'(a+)+b'"                                             | 'regular expressions are not allowed'
        'handler' | "Closure c; c = { -> c.call() }; c.call()"                     | 'stack overflow OR time limit of 200 ms exceeded'
    }

    /** The compile error, or the first run's error, or {@code null}. */
    static String compileAndRun(String source) {
        CompiledPolicy p
        try {
            p = new PolicyCompiler().compile('escape', 1, source)
        } catch (PolicyCompileException e) {
            return e.message
        }
        def engine = new PolicyEngine(PolicyLimits.DEFAULT, Clock.fixed(T0, ZoneOffset.UTC))
        try {
            engine.install(p)
            def outcomes = engine.onEvent(new NotifierEvent('real_server.down', 'lb1', T0, [:]), new SimulatedWorld(T0))
            return outcomes.find { it.failed() }?.error()
        } finally {
            engine.close()
        }
    }
}
