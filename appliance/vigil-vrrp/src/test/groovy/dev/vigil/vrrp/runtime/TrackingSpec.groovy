package dev.vigil.vrrp.runtime

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.FAULT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class TrackingSpec extends RouterSpecSupport {

    def 'the effective priority is base + delta within 1..254: base #base, delta #delta -> #effective'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(base).build()])

        when:
        a.router.setTracking('VI_1', delta, [] as Set)
        scheduler.runPending()

        then:
        a.router.status('VI_1').effectivePriority() == effective
        a.router.status('VI_1').basePriority() == base

        where:
        base | delta | effective
        100  | 20    | 120
        100  | -20   | 80
        250  | 50    | 254   // trackers never make a non-owner the owner
        10   | -50   | 1
        255  | -100  | 255   // nor move the owner
        255  | 10    | 255
    }

    def 'a change on MASTER is advertised at once and makes a preempting BACKUP take over'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        def b = node('b', '10.0.0.2').start([vi1(150).build()])
        advance(5.5)
        def sent = a.counters('VI_1').advertsSent()

        when:
        a.router.setTracking('VI_1', -100, [] as Set)
        scheduler.runPending()

        then: 'one advert at 100 goes out at once'
        a.counters('VI_1').advertsSent() == sent + 1
        a.sentAdverts().last().priority() == 100
        a.lines().last() == '(VI_1) effective priority 200 -> 100'

        when:
        advance(4)

        then:
        b.state('VI_1') == MASTER
        a.state('VI_1') == BACKUP

        when: 'the tracker recovers; A preempts again'
        a.router.setTracking('VI_1', 0, [] as Set)
        advance(4)

        then:
        a.state('VI_1') == MASTER
        b.state('VI_1') == BACKUP
    }

    def 'the same tracking state twice changes nothing the second time'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5.5)

        when:
        a.router.setTracking('VI_1', -10, ['track_interface eth1'] as Set)
        scheduler.runPending()
        def events = a.events.size()
        def sent = a.counters('VI_1').advertsSent()
        a.router.setTracking('VI_1', -10, ['track_interface eth1'] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == FAULT
        a.events.size() == events
        a.counters('VI_1').advertsSent() == sent
        a.router.status('VI_1').effectivePriority() == 190
    }

    def 'faults are replaced as a whole: FAULT stays while any is left'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5)

        when:
        a.router.setTracking('VI_1', 0, ['chk_a', 'chk_b'] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == FAULT
        a.lines().last() == '(VI_1) MASTER -> FAULT: fault: chk_a'
        a.sentAdverts().last().priority() == 0
        !a.addresses.has('eth0', VIP1.address())

        when:
        a.router.setTracking('VI_1', 0, ['chk_b'] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == FAULT

        when:
        a.router.setTracking('VI_1', 0, [] as Set)
        scheduler.runPending()

        then: 'RFC 5798 §6.4.1: back through BACKUP'
        a.state('VI_1') == BACKUP
        a.lines().last() == '(VI_1) FAULT -> BACKUP: fault cleared: chk_b'
    }

    def 'tracking given before start applies at start'() {
        given:
        def a = node('a', '10.0.0.1')
        a.router = new VrrpRouter([vi1(255).build()], new VrrpRouter.Ports(a.transport, a.addresses, a.advertiser, a.links),
                scheduler, { a.events << it } as RouterListener)

        when:
        a.router.setTracking('VI_1', 0, ['chk'] as Set)
        scheduler.runPending()
        a.router.start()
        advance(5)

        then:
        a.state('VI_1') == FAULT
        a.lines() == ['(VI_1) INIT -> FAULT: startup with fault: chk']
        segment.sentBy('a').isEmpty()
    }

    def 'an unknown instance is refused'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(100).build()])

        when:
        a.router.setTracking('VI_9', 0, [] as Set)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'unknown instance: VI_9 (expected: one of [VI_1])'
    }
}
