package dev.vigil.vrrp.runtime

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.FAULT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class SyncGroupSpec extends RouterSpecSupport {

    static final List<SyncGroupParams> G = [SyncGroupParams.of('G', 'VI_1', 'VI_2')]

    def 'a sync group goes MASTER with all its members, reported once'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()], G)
        def b = node('b', '10.0.0.2').start([vi1(100).build(), vi2(100).build()], G)

        when:
        advance(5)

        then:
        a.state('VI_1') == MASTER
        a.state('VI_2') == MASTER
        b.state('VI_1') == BACKUP
        b.state('VI_2') == BACKUP
        a.router.groupStates() == [G: MASTER]
        b.router.groupStates() == [G: BACKUP]
        a.addresses.has('eth0', VIP1.address())
        a.addresses.has('eth0', VIP2.address())
        a.groupLines() == ['(G) INIT -> BACKUP: VI_1 INIT -> BACKUP: startup',
                           '(G) BACKUP -> MASTER: VI_2 BACKUP -> MASTER: master down timer expired']
        b.groupLines() == ['(G) INIT -> BACKUP: VI_1 INIT -> BACKUP: startup']
        a.lines().count { it.startsWith('(VI_1) BACKUP -> MASTER') } == 1
        a.lines().count { it.startsWith('(VI_2) BACKUP -> MASTER') } == 1
    }

    def 'a member whose timer expires waits until every member can go MASTER'() {
        given: 'c is master for VRID 52 only'
        def c = node('c', '10.0.0.3').start([vi2(250).build()])
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()], G)

        when:
        advance(10)

        then: "A's VI_1 timer ran out long ago, but VI_2 hears a master"
        c.state('VI_2') == MASTER
        a.state('VI_1') == BACKUP
        a.state('VI_2') == BACKUP
        !a.addresses.has('eth0', VIP1.address())
        a.sentAdverts().isEmpty()

        when: "c goes silent; A's VI_2 times out 3 + 56/256 s after c's last advert (9.0234375 s)"
        segment.isolate('c')
        advance(2.24)

        then:
        a.state('VI_1') == BACKUP

        when:
        advance(0.01)

        then: 'both members go MASTER together'
        a.state('VI_1') == MASTER
        a.state('VI_2') == MASTER
        a.lines().contains('(VI_1) BACKUP -> MASTER: sync group G going MASTER with VI_2')
        a.groupLines().last() == '(G) BACKUP -> MASTER: VI_2 BACKUP -> MASTER: master down timer expired'
    }

    def 'a member that falls to BACKUP pulls the others to BACKUP, without priority 0'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()], G)
        advance(5)
        assert a.router.groupStates() == [G: MASTER]

        when: 'c, with a higher priority for VRID 51 only, preempts it'
        def c = node('c', '10.0.0.3').start([vi1(250).build()])
        advance(3.1)

        then:
        c.state('VI_1') == MASTER
        a.state('VI_1') == BACKUP
        a.state('VI_2') == BACKUP
        a.lines().contains('(VI_1) MASTER -> BACKUP: higher priority 250 advert from 10.0.0.3')
        a.lines().contains('(VI_2) MASTER -> BACKUP: sync group G: VI_1 left MASTER')
        !a.addresses.has('eth0', VIP1.address())
        !a.addresses.has('eth0', VIP2.address())
        a.sentAdverts(52).every { it.priority() == 200 }
        a.groupLines().count { it.startsWith('(G) MASTER -> BACKUP') } == 1
        a.groupLines().last() == '(G) MASTER -> BACKUP: VI_1 MASTER -> BACKUP: higher priority 250 advert from 10.0.0.3'

        when: "VI_2's timer runs out, but VI_1 still hears c"
        advance(10)

        then:
        a.state('VI_2') == BACKUP
        a.router.groupStates() == [G: BACKUP]
    }

    def 'a member in FAULT takes the whole group to FAULT, and they come back together'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()], G)
        def b = node('b', '10.0.0.2').start([vi1(100).build(), vi2(100).build()], G)
        advance(5)

        when:
        a.router.setTracking('VI_1', 0, ['track_script chk'] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == FAULT
        a.state('VI_2') == FAULT
        a.lines().contains('(VI_2) MASTER -> FAULT: fault: sync group G member VI_1 in FAULT')
        a.sentAdverts(51).last().priority() == 0
        a.sentAdverts(52).last().priority() == 0
        !a.addresses.has('eth0', VIP2.address())
        a.groupLines().last() == '(G) MASTER -> FAULT: VI_1 MASTER -> FAULT: fault: track_script chk'

        when: "priority 0 makes B's members time out after Skew_Time"
        advance(1)

        then:
        b.state('VI_1') == MASTER
        b.state('VI_2') == MASTER
        a.state('VI_2') == FAULT

        when:
        a.router.setTracking('VI_1', 0, [] as Set)
        scheduler.runPending()

        then: 'both leave FAULT together'
        a.state('VI_1') == BACKUP
        a.state('VI_2') == BACKUP
        a.groupLines().last() == '(G) FAULT -> BACKUP: VI_1 FAULT -> BACKUP: fault cleared: track_script chk'
        a.groupLines().count { it.contains('-> FAULT') } == 1

        when: 'A preempts B again'
        advance(4)

        then:
        a.router.groupStates() == [G: MASTER]
        b.router.groupStates() == [G: BACKUP]
    }

    def 'a member with its own fault keeps the group in FAULT when the first one clears'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()], G)
        advance(5)

        when:
        a.router.setTracking('VI_1', 0, ['chk1'] as Set)
        a.router.setTracking('VI_2', 0, ['chk2'] as Set)
        a.router.setTracking('VI_1', 0, [] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == FAULT
        a.state('VI_2') == FAULT

        when:
        a.router.setTracking('VI_2', 0, [] as Set)
        scheduler.runPending()

        then:
        a.state('VI_1') == BACKUP
        a.state('VI_2') == BACKUP
    }

    def 'dual master: opposite priorities make each router MASTER for one instance'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(100).build()])
        def b = node('b', '10.0.0.2').start([vi1(100).build(), vi2(200).build()])

        when:
        advance(5)

        then:
        a.state('VI_1') == MASTER
        a.state('VI_2') == BACKUP
        b.state('VI_1') == BACKUP
        b.state('VI_2') == MASTER
        a.addresses.has('eth0', VIP1.address()) && !a.addresses.has('eth0', VIP2.address())
        b.addresses.has('eth0', VIP2.address()) && !b.addresses.has('eth0', VIP1.address())
        a.transport.opened() == 1

        when: 'B fails: A takes both'
        segment.isolate('b')
        advance(4)

        then:
        a.state('VI_1') == MASTER
        a.state('VI_2') == MASTER
    }

    def 'sync groups are checked: #message'() {
        when:
        new VrrpRouter([vi1(100).build(), vi2(100).build()], groups, new VrrpRouter.Ports(segment.node('x', ip('10.0.0.1')),
                new dev.vigil.vrrp.testkit.FakeAddressManager(), new dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser(),
                new dev.vigil.vrrp.testkit.FakeLinkMonitor()), scheduler, RouterListener.NONE)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == message

        where:
        groups                                                                    | message
        [SyncGroupParams.of('G', 'VI_1', 'VI_9')]                                 | 'sync group G: unknown instance VI_9'
        [SyncGroupParams.of('G', 'VI_1'), SyncGroupParams.of('H', 'VI_1')]        | 'instance VI_1 in sync groups G and H'
        [SyncGroupParams.of('G', 'VI_1'), SyncGroupParams.of('G', 'VI_2')]        | 'duplicate sync group name: G'
    }
}
