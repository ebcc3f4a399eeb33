package dev.vigil.daemon.policy

import dev.vigil.daemon.forward.MemoryServices
import dev.vigil.daemon.forward.ServiceManager
import dev.vigil.daemon.track.PolicyTracking
import dev.vigil.daemon.track.TrackingSink
import dev.vigil.dsl.PolicyAction
import dev.vigil.kernel.forward.InMemoryForwarder
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Instant
import java.util.concurrent.TimeUnit

/** A policy's weight actions reach the forwarder's table; names that do not exist are refused, not applied. */
class PolicyEffectsSpec extends Specification {

    @TempDir
    Path dir

    final InMemoryForwarder forwarder = new InMemoryForwarder()
    @AutoCleanup
    ServiceManager manager = MemoryServices.manager(forwarder)
    PolicyEffects effects = new PolicyEffects(new PolicyTracking({ i, d, f -> } as TrackingSink), { manager }, { marks -> })

    def setup() {
        MemoryServices.configure(manager, dir)
    }

    LiveWorld world() {
        new LiveWorld(Instant.now(), [], manager.currentViews().get(5, TimeUnit.SECONDS), [], [])
    }

    int weightOf(String ip) {
        manager.currentViews().get(5, TimeUnit.SECONDS).first().realServer(ip).weight()
    }

    def 'drain, restore and re-weight a real server through the forwarder'() {
        when:
        def drained = effects.apply('p', new PolicyAction.Weight('10.0.0.50:80', '10.0.0.2:8080', 0), world())

        then:
        drained.applied()
        drained.detail() == 'weight 3 -> 0'
        weightOf('10.0.0.2') == 0

        when:
        def restored = effects.apply('p', new PolicyAction.Weight('10.0.0.50:80/tcp', '10.0.0.2:8080', null), world())

        then:
        restored.applied()
        restored.detail() == 'weight 0 -> 3'
        weightOf('10.0.0.2') == 3
    }

    def 'an unknown virtual or real server is not applied and says which'() {
        expect:
        with(effects.apply('p', new PolicyAction.Weight('10.0.0.99:80', '10.0.0.2:8080', 0), world())) {
            !applied()
            detail() == 'no virtual server 10.0.0.99:80'
        }
        with(effects.apply('p', new PolicyAction.Weight('10.0.0.50:80', '10.0.0.9:8080', 0), world())) {
            !applied()
            detail() == 'no real server 10.0.0.9:8080 in 10.0.0.50:80/tcp'
        }
    }
}
