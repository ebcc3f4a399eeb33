package dev.vigil.dsl

import dev.vigil.api.NotifierEvent
import spock.lang.AutoCleanup
import spock.lang.Specification

import java.time.Clock
import java.time.Duration
import java.time.Instant
import java.time.ZoneOffset

/** The limits of a run: time, loop cap, consecutive failures; a broken policy does not stop the others. */
class LimitsSpec extends Specification {

    static final Instant T0 = Instant.parse('2026-11-30T10:00:00Z')
    static final NotifierEvent DOWN = new NotifierEvent('real_server.down', 'lb1', T0,
            [virtual_server: '10.9.0.50:80', real_server: '10.9.0.11:80', from: 'UP', to: 'DOWN'])

    @AutoCleanup
    PolicyEngine engine

    static CompiledPolicy compile(String name, String handler) {
        new PolicyCompiler().compile(name, 1, """policy('${name}') {
    on realServerDown { event ->
        ${handler}
    }
}
""")
    }

    static SimulatedWorld world() {
        def w = new SimulatedWorld(T0)
        w.instances.VI_1 = new InstanceView('VI_1', 'MASTER', 100, 100, null)
        w
    }

    def 'an endless loop is stopped by the time limit, located at the loop'() {
        given:
        engine = new PolicyEngine(new PolicyLimits(Duration.ofMillis(200), Long.MAX_VALUE, 3), Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('spin', 'while (true) { }'))

        when:
        long start = System.nanoTime()
        def outcomes = engine.onEvent(DOWN, world())
        long tookMs = (System.nanoTime() - start).intdiv(1_000_000)

        then:
        outcomes.size() == 1
        outcomes[0].error() == 'spin r1:3:9: time limit of 200 ms exceeded'
        outcomes[0].actions().isEmpty()
        tookMs >= 200
        tookMs < 200 + 1500       // generous slack: the host is shared
        engine.stats().spin.timeouts() == 1
    }

    def 'an endless loop that catches the limit still fails, and acts on nothing'() {
        given:
        engine = new PolicyEngine(new PolicyLimits(Duration.ofMillis(100), Long.MAX_VALUE, 3), Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('sly', "instance('VI_1').lowerPriority(10); try { while (true) { } } catch (Throwable t) { }; note('escaped')"))

        when:
        def outcomes = engine.onEvent(DOWN, world())

        then:
        outcomes[0].failed()
        outcomes[0].error().startsWith('sly r1:3:')
        outcomes[0].error().endsWith('time limit of 100 ms exceeded')
        outcomes[0].actions().isEmpty()
    }

    def 'the loop cap stops a loop, and counts closure calls such as each and times'() {
        given:
        engine = new PolicyEngine(new PolicyLimits(Duration.ofSeconds(10), 1000, 3), Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('loops', code))

        when:
        def outcomes = engine.onEvent(DOWN, world())

        then:
        outcomes[0].error() == "loops r1:3:${column}: loop cap of 1000 iterations exceeded"
        engine.stats().loops.loopCaps() == 1

        where:
        code                                            | column
        'for (int i = 0; i < 5000; i++) { }'            | 9
        'int i = 0; while (i < 5000) { i++ }'           | 9
        '5000.times { int i -> }'                       | 9
        '(1..5000).each { int i -> }'                   | 9
        'int i = 0; do { i++ } while (i < 5000)'        | 9
    }

    def 'a run under the cap is not stopped'() {
        given:
        engine = new PolicyEngine(new PolicyLimits(Duration.ofSeconds(10), 1000, 3), Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('fine', 'int n = 0; 900.times { int i -> n++ }; note("n=" + n)'))

        expect:
        engine.onEvent(DOWN, world())[0].actions() == [new PolicyAction.Note('n=900')]
    }

    def 'three consecutive failures disable a policy; the other policies go on'() {
        given:
        engine = new PolicyEngine(PolicyLimits.DEFAULT, Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('broken', "instance('VI_9').lowerPriority(10)"))
        engine.install(compile('healthy', "instance('VI_1').lowerPriority(10)"))

        when:
        def runs = (1..4).collect { engine.onEvent(DOWN, world()) }

        then:
        runs[0].collect { it.policy() } == ['broken', 'healthy']
        runs[0][0].error() == "broken r1:3:9: no instance named 'VI_9'"
        runs[0][1].actions() == [new PolicyAction.Priority('VI_1', -10)]
        runs[1].size() == 2
        runs[2][0].failed()
        engine.disabled('broken')
        runs[3].collect { it.policy() } == ['healthy']
        runs[3][0].actions() == [new PolicyAction.Priority('VI_1', -10)]
        engine.stats().broken == new PolicyStats(3, 0, 3, 0, 0, true, "broken r1:3:9: no instance named 'VI_9'")
        engine.stats().healthy.runs() == 4
        engine.stats().healthy.actions() == 4

        when: 'it is installed again'
        engine.install(compile('broken', "instance('VI_1').raisePriority(5)"))

        then:
        !engine.disabled('broken')
        engine.onEvent(DOWN, world())*.actions().flatten() == [new PolicyAction.Priority('VI_1', 5), new PolicyAction.Priority('VI_1', -10)]
    }

    def 'a success between failures resets the count'() {
        given:
        engine = new PolicyEngine(PolicyLimits.DEFAULT, Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('flaky', "if (event.reason == 'bad') { instance('nope').handOver() }"))
        def bad = new NotifierEvent('real_server.down', 'lb1', T0, [reason: 'bad'])
        def good = new NotifierEvent('real_server.down', 'lb1', T0, [reason: 'good'])

        when:
        [bad, bad, good, bad, bad].each { engine.onEvent(it, world()) }

        then:
        !engine.disabled('flaky')
        engine.stats().flaky.failures() == 4
    }

    def 'a worker that does not come back is abandoned and replaced'() {
        given: 'a world that blocks (a daemon lock held too long)'
        engine = new PolicyEngine(new PolicyLimits(Duration.ofMillis(100), 100_000, 3), Clock.fixed(T0, ZoneOffset.UTC))
        engine.install(compile('stuck', "instance('VI_1').lowerPriority(1)"))
        def plain = world()
        PolicyWorld blocking = new PolicyWorld() {
            Instant now() { T0 }
            InstanceView instance(String name) { Thread.sleep(5_000); plain.instance(name) }
            Collection<InstanceView> instances() { plain.instances() }
            Collection<ServiceView> services() { plain.services() }
            TrackerView tracker(String name) { null }
            List<NotifierEvent> recentEvents() { [] }
        }

        when:
        long start = System.nanoTime()
        def first = engine.onEvent(DOWN, blocking)
        long tookMs = (System.nanoTime() - start).intdiv(1_000_000)
        def second = engine.onEvent(DOWN, world())

        then:
        first[0].error() == 'stuck r1:3:9: time limit of 100 ms exceeded'
        tookMs < 100 + 250 + 1500
        second[0].actions() == [new PolicyAction.Priority('VI_1', -1)]
    }

    def 'the policy block itself is limited when it is compiled: its loop cap, and at least 5 s (a cold JVM loads classes in it)'() {
        when:
        long t0 = System.nanoTime()
        new PolicyCompiler(new PolicyLimits(Duration.ofMillis(100), Long.MAX_VALUE, 3)).compile('block', 1, """policy('block') {
    while (true) { }
    on realServerDown { event -> note('x') }
}""")

        then:
        def e = thrown(PolicyCompileException)
        e.message == 'block r1:2:5: time limit of 5000 ms exceeded'
        (System.nanoTime() - t0) / 1_000_000 < 5000 + 1500 + 3000

        when:
        new PolicyCompiler(new PolicyLimits(Duration.ofMillis(100), 1000, 3)).compile('capped', 1, """policy('capped') {
    while (true) { }
    on realServerDown { event -> note('x') }
}""")

        then:
        def capped = thrown(PolicyCompileException)
        capped.message.startsWith('capped r1:2:')
        capped.message.contains('1000')
    }
}
