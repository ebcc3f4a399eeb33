package dev.vigil.daemon.policy

import dev.vigil.api.NotifierEvent
import dev.vigil.daemon.event.EventBus
import dev.vigil.daemon.track.EventLog
import dev.vigil.daemon.track.PolicyTracking
import dev.vigil.daemon.track.TrackingSink
import dev.vigil.dsl.InstanceView
import dev.vigil.dsl.PolicyCompiler
import dev.vigil.dsl.PolicyEngine
import dev.vigil.dsl.PolicyLimits
import dev.vigil.dsl.RealServerView
import dev.vigil.dsl.ServiceView
import spock.lang.AutoCleanup
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.time.Clock
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The daemon's policy runner with the real compiler and engine: events from the bus run the active
 * policies; their actions reach the router's tracking (priority offsets), the audit trail, the log
 * and the bus as policy.action events; a replaced or removed policy's offsets go with it.
 */
class PolicyRunnerSpec extends Specification {

    List<List> pushed = new CopyOnWriteArrayList<>()
    List<String> audit = new CopyOnWriteArrayList<>()
    List<String> logged = new CopyOnWriteArrayList<>()
    List<NotifierEvent> published = new CopyOnWriteArrayList<>()
    EventLog log = { level, subject, message -> logged << "${level} ${subject}: ${message}".toString() } as EventLog
    EventBus bus = new EventBus('lb', Clock.systemUTC(), log)
    PolicyTracking tracking = new PolicyTracking({ String i, int d, Set<String> f -> pushed << [i, d] } as TrackingSink)
    /** The healthy state of 10.9.0.11..13 the world reads. */
    Map<String, Boolean> healthy = ['10.9.0.11': true, '10.9.0.12': true, '10.9.0.13': true]
    /** The event being handled when the runner took each snapshot of the world. */
    List<String> snapshots = new CopyOnWriteArrayList<>()
    @AutoCleanup
    PolicyRunner runner

    def setup() {
        bus.subscribe { e, lvs -> published << e }
        def effects = new PolicyEffects(tracking, { null }, { marks -> })
        runner = new PolicyRunner(new PolicyEngine(PolicyLimits.DEFAULT, Clock.systemUTC()), effects, { recent ->
            snapshots << recent.last().type()
            new LiveWorld(Clock.systemUTC().instant(), [new InstanceView('VI_1', 'MASTER', 150, 150, null)],
                    [new ServiceView('10.9.0.50', 80, 'tcp', 0, null,
                            healthy.collect { ip, up -> new RealServerView(ip, 80, up, 1, 1) }, true)], [], recent)
        }, bus, { p, r, kind, detail -> audit << "${p} r${r} ${kind}: ${detail}".toString() }, log, Clock.systemUTC())
        bus.subscribe(runner)
        tracking.setTracking('VI_1', 0, [] as Set)
    }

    static String source() {
        Files.readString(Path.of('../../dsl/examples/web-capacity.groovy'))
    }

    void await(String what, Closure<Boolean> c) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
        while (!c()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}; log: ${logged}"
            Thread.sleep(20)
        }
    }

    def 'a real server going down below two healthy lowers VI_1 by 50; coming back resets it'() {
        given:
        runner.install(['web-capacity': new PolicyCompiler().compile('web-capacity', 3, source())])
        await('running') { runner.status().running?.containsKey('web-capacity') }

        when: 'an event no handler takes, then two of three go down (the first leaves two healthy: no action)'
        bus.instance('VI_1', 'BACKUP', 'MASTER', 150, 'master down timer expired')
        healthy['10.9.0.12'] = false
        bus.realServer('[10.9.0.50]:tcp:80', '[10.9.0.12]:80', false, 'HTTP_GET failed').with { bus.publish(it, null) }
        healthy['10.9.0.13'] = false
        bus.realServer('[10.9.0.50]:tcp:80', '[10.9.0.13]:80', false, 'HTTP_GET failed').with { bus.publish(it, null) }
        await('the offset') { pushed.contains(['VI_1', -50]) }

        then: 'the offset reached the router once, the audit trail and the bus have it'
        pushed.count { it == ['VI_1', -50] } == 1

        and: 'the world was read for the real-server events only: the instance event, which no handler takes, took no snapshot'
        !snapshots.isEmpty()
        snapshots.every { it == 'real_server.down' }
        await('the audit entry') { audit.any { it.startsWith('web-capacity r3 action: priority VI_1 offset -50') } }
        await('the policy.action event') {
            published.any { it.type() == 'policy.action' && it.detail('policy') == 'web-capacity' && it.detail('target') == 'VI_1' }
        }

        when: 'one comes back: two healthy again'
        healthy['10.9.0.12'] = true
        bus.realServer('[10.9.0.50]:tcp:80', '[10.9.0.12]:80', true, 'HTTP_GET passed').with { bus.publish(it, null) }

        then:
        await('the reset') { pushed.last() == ['VI_1', 0] }
        runner.status() != null
    }

    def 'a replaced or removed policy takes its offset with it'() {
        given:
        healthy['10.9.0.12'] = false
        healthy['10.9.0.13'] = false
        runner.install(['web-capacity': new PolicyCompiler().compile('web-capacity', 1, source())])
        bus.realServer('[10.9.0.50]:tcp:80', '[10.9.0.13]:80', false, 'x').with { bus.publish(it, null) }
        await('the offset') { pushed.contains(['VI_1', -50]) }

        when:
        runner.install([:])

        then:
        await('the offset released') { pushed.last() == ['VI_1', 0] }
        await('removed') { !runner.status().running?.containsKey('web-capacity') }
    }
}
