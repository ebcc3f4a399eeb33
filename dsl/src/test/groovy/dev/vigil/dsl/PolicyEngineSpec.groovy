package dev.vigil.dsl

import dev.vigil.api.NotifierEvent
import spock.lang.AutoCleanup
import spock.lang.Specification

import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset

/** The engine: which handlers run on which events, timers, memory, installing and removing. */
class PolicyEngineSpec extends Specification {

    static final Instant T0 = Instant.parse('2026-11-30T10:00:00Z')

    @AutoCleanup
    PolicyEngine engine = new PolicyEngine(PolicyLimits.DEFAULT, Clock.fixed(T0, ZoneOffset.UTC))

    static CompiledPolicy compile(String name, String body, int revision = 1) {
        new PolicyCompiler().compile(name, revision, "policy('${name}') {\n${body}\n}\n")
    }

    static SimulatedWorld world(Instant now = T0) {
        def w = new SimulatedWorld(now)
        w.instances.VI_1 = new InstanceView('VI_1', 'MASTER', 100, 100, 'G1')
        w.services << new ServiceView('10.9.0.50', 80, 'tcp', 0, null,
                [new RealServerView('10.9.0.11', 80, true, 100, 100), new RealServerView('10.9.0.12', 80, false, 0, 100)], true)
        w.trackers.chk_nginx = new TrackerView('chk_nginx', 'script', 'UP')
        w
    }

    static NotifierEvent event(String type, Map<String, String> details, Instant time = T0) {
        new NotifierEvent(type, 'lb1', time, details)
    }

    def 'the example of the language reference compiles and means what it says'() {
        given:
        engine.install(new PolicyCompiler().compile('web-capacity', 3, '''
policy('web-capacity') {
    on realServerDown { event ->
        if (service('10.9.0.50:80').healthyCount() < 2) {
            instance('VI_1').lowerPriority(50)
        }
    }
}
'''))

        when:
        def outcomes = engine.onEvent(event('real_server.down', [virtual_server: '10.9.0.50:80', real_server: '10.9.0.12:80']), world())

        then:
        outcomes == [new PolicyOutcome('web-capacity', 3, 'real_server.down', [new PolicyAction.Priority('VI_1', -50)], null)]
        outcomes[0].actions()[0].describe() == 'priority VI_1 offset -50'
    }

    def 'each trigger answers its events: #word'() {
        given:
        engine.install(compile('t', "    on ${word} { event -> note(event.type + ' ' + event.to) }"))

        expect:
        engine.onEvent(event(type, [to: to]), world())*.actions().flatten() == (runs ? [new PolicyAction.Note("${type} ${to}")] : [])

        where:
        word             | type               | to       | runs
        'realServerDown' | 'real_server.down' | 'DOWN'   | true
        'realServerDown' | 'real_server.up'   | 'UP'     | false
        'realServerUp'   | 'real_server.up'   | 'UP'     | true
        'instanceChange' | 'vrrp.instance'    | 'BACKUP' | true
        'becameMaster'   | 'vrrp.instance'    | 'MASTER' | true
        'becameMaster'   | 'vrrp.instance'    | 'BACKUP' | false
        'becameBackup'   | 'vrrp.instance'    | 'BACKUP' | true
        'fault'          | 'vrrp.instance'    | 'FAULT'  | true
        'fault'          | 'vrrp.group'       | 'FAULT'  | false
        'groupChange'    | 'vrrp.group'       | 'FAULT'  | true
        'quorumLost'     | 'quorum.down'      | 'DOWN'   | true
        'quorumGained'   | 'quorum.up'        | 'UP'     | true
        'trackerChange'  | 'tracker'          | 'DOWN'   | true
        'trackerChange'  | 'daemon.start'     | null     | false
    }

    def 'the event gives typed fields, null when absent, and field(name)'() {
        given:
        engine.install(compile('f', '''    on realServerDown { event ->
        note([event.type, event.node, event.time.toString(), event.virtualServer, event.realServer, event.reason,
              event.from, event.to, event.instance, event.field('healthy')].join('|'))
    }'''))

        expect:
        engine.onEvent(event('real_server.down', [virtual_server: '10.9.0.50:80', real_server: '10.9.0.11:80', reason: 'refused', from: 'UP', to: 'DOWN', healthy: '1']), world())[0].actions() ==
                [new PolicyAction.Note('real_server.down|lb1|2026-11-30T10:00:00Z|10.9.0.50:80|10.9.0.11:80|refused|UP|DOWN|null|1')]
    }

    def 'reads see the world: instances, services, real servers, trackers, now'() {
        given:
        engine.install(compile('r', '''    on realServerDown { event ->
        def i = instance('VI_1')
        def s = service('10.9.0.50:80')
        def rs = s.realServer('10.9.0.12:80')
        note("${i.name} ${i.state} ${i.priority}/${i.basePriority} master=${i.master} group=${i.group}")
        note("${s.name} healthy=${s.healthyCount()} quorum=${s.quorumUp} servers=${s.realServers*.name}")
        note("${rs.name} healthy=${rs.healthy} weight=${rs.weight}/${rs.configuredWeight}")
        note("${tracker('chk_nginx').state} ${tracker('chk_nginx').up} ${now}")
    }'''))

        expect:
        engine.onEvent(event('real_server.down', [:]), world())[0].actions()*.describe() == [
                'note: VI_1 MASTER 100/100 master=true group=G1',
                'note: 10.9.0.50:80/tcp healthy=1 quorum=true servers=[10.9.0.11:80, 10.9.0.12:80]',
                'note: 10.9.0.12:80 healthy=false weight=0/100',
                'note: UP true 2026-11-30T10:00:00Z']
    }

    def 'acts append actions in order'() {
        given:
        engine.install(compile('a', '''    on realServerDown { event ->
        def i = instance('VI_1')
        i.lowerPriority(20); i.raisePriority(5); i.resetPriority(); i.handOver()
        def rs = service('10.9.0.50:80').realServer('10.9.0.11')
        rs.drain(); rs.weight(7); rs.restoreWeight()
        def t = tracker('chk_nginx')
        t.markDown('maintenance'); t.markUp(); t.clear()
        notify('hello'); notify('careful', 'warning'); note('done')
    }'''))

        expect:
        engine.onEvent(event('real_server.down', [:]), world())[0].actions() == [
                new PolicyAction.Priority('VI_1', -20), new PolicyAction.Priority('VI_1', 5), new PolicyAction.Priority('VI_1', 0),
                new PolicyAction.HandOver('VI_1'),
                new PolicyAction.Weight('10.9.0.50:80/tcp', '10.9.0.11:80', 0), new PolicyAction.Weight('10.9.0.50:80/tcp', '10.9.0.11:80', 7),
                new PolicyAction.Weight('10.9.0.50:80/tcp', '10.9.0.11:80', null),
                new PolicyAction.Tracker('chk_nginx', 'DOWN', 'maintenance'), new PolicyAction.Tracker('chk_nginx', 'UP', null),
                new PolicyAction.Tracker('chk_nginx', null, null),
                new PolicyAction.Notify('hello', 'info'), new PolicyAction.Notify('careful', 'warning'), new PolicyAction.Note('done')]
    }

    def 'timers run when due, restart on install, and nextTick says when'() {
        given:
        def clock = Clock.fixed(T0, ZoneOffset.UTC)
        engine = new PolicyEngine(PolicyLimits.DEFAULT, clock)
        engine.install(compile('tick', "    every 10.seconds { note('ten') }\n    every 1.minute { note('sixty') }"))

        expect:
        engine.nextTick() == T0.plusSeconds(10)
        engine.onTick(world(T0.plusSeconds(9))).isEmpty()
        engine.onTick(world(T0.plusSeconds(10)))*.trigger() == ['every 10s']
        engine.nextTick() == T0.plusSeconds(20)
        engine.onTick(world(T0.plusSeconds(60)))*.trigger() == ['every 10s', 'every 1m']
        engine.nextTick() == T0.plusSeconds(70)

        when: 'installed again'
        engine.remove('tick')

        then:
        engine.nextTick() == null
        engine.installed().isEmpty()
    }

    def 'memory carries over between runs; a failed run remembers nothing'() {
        given:
        engine.install(compile('mem', '''    on realServerDown { event ->
        int n = recall('downs', 0) + 1
        remember('downs', n)
        remember('last', event.realServer)
        if (event.reason == 'fail') { instance('nope').handOver() }
        note("downs=${n} last=${recall('last')}")
    }'''))

        when:
        def a = engine.onEvent(event('real_server.down', [real_server: 'a']), world())
        def b = engine.onEvent(event('real_server.down', [real_server: 'b', reason: 'fail']), world())
        def c = engine.onEvent(event('real_server.down', [real_server: 'c']), world())

        then:
        a[0].actions() == [new PolicyAction.Note('downs=1 last=a')]
        b[0].failed()
        c[0].actions() == [new PolicyAction.Note('downs=2 last=c')]
    }

    def 'recentEvents filters by type and age'() {
        given:
        engine.install(compile('recent', '''    on realServerDown { event ->
        note("${recentEvents().size()} ${recentEvents('real_server.down').size()} ${recentEvents('real_server.down', 60.seconds).size()}")
    }'''))
        def w = world(T0.plusSeconds(100))
        w.recent.addAll([event('real_server.down', [:], T0), event('real_server.up', [:], T0.plusSeconds(50)),
                         event('real_server.down', [:], T0.plusSeconds(90))])

        expect:
        engine.onEvent(event('real_server.down', [:], T0.plusSeconds(100)), w)[0].actions() == [new PolicyAction.Note('3 2 1')]
    }

    def 'the compiled policy tells its description and handlers'() {
        when:
        def p = compile('d', "    description 'drains flapping servers'\n    on realServerDown { event -> note('x') }\n    every 5.minutes { note('y') }")

        then:
        p.description() == 'drains flapping servers'
        p.handlers() == ['on realServerDown', 'every 5m']
    }
}
