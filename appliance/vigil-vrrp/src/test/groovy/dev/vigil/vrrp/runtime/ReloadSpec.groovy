package dev.vigil.vrrp.runtime

import java.time.Duration

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.FAULT
import static dev.vigil.vrrp.fsm.VrrpState.INIT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class ReloadSpec extends RouterSpecSupport {

    def 'an unchanged MASTER keeps its VIP, timers and state'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(100).build()])
        advance(10.5)
        a.clearLogs()
        segment.clearLog()

        when:
        def report = a.router.reconfigure([vi1(200).build(), vi2(100).build()], [])
        advance(3)

        then:
        report.unchanged() == ['VI_1', 'VI_2']
        report.isEmpty()
        a.state('VI_1') == MASTER
        a.addresses.log().isEmpty()
        a.advertiser.log().isEmpty()
        a.events.isEmpty()
        a.sentAdverts(51)*.priority() == [200, 200, 200]   // one per second, on the old schedule
        a.transport.opened() == 1
    }

    def 'a priority change is applied in place and advertised at once'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        def b = node('b', '10.0.0.2').start([vi1(150).build()])
        advance(5.5)
        a.clearLogs()

        when:
        def report = a.router.reconfigure([vi1(100).build()], [])

        then:
        report.changed() == [VI_1: ['priority 200 -> 100']]
        report.restarted().isEmpty()
        report.describe() == ['VI_1: priority 200 -> 100']
        a.sentAdverts().last().priority() == 100
        a.state('VI_1') == MASTER
        a.router.status('VI_1').basePriority() == 100
        a.addresses.log().isEmpty()

        when:
        advance(4)

        then:
        b.state('VI_1') == MASTER
        a.state('VI_1') == BACKUP
    }

    def 'a MASTER adds new VIPs, removes dropped ones and announces only the new ones'() {
        given:
        def vip3 = vip('10.0.0.103')
        def a = node('a', '10.0.0.1').start([vi1(200).vip(vip3).build()])
        advance(10)
        a.clearLogs()

        when:
        def report = a.router.reconfigure([InstanceParams.builder('VI_1', 51, 'eth0').priority(200).vip(vip3).vip(VIP2).build()], [])
        advance(1)

        then:
        report.changed() == [VI_1: ['virtual_ipaddress +10.0.0.200/24 dev eth0 -10.0.0.100/24 dev eth0']]
        a.addresses.log() == ['remove 10.0.0.100/24 dev eth0', 'add 10.0.0.200/24 dev eth0']
        a.advertiser.log() == ['garp eth0 10.0.0.200'] * 5
        a.addresses.has('eth0', vip3.address())
        a.state('VI_1') == MASTER
        a.sentAdverts().last().addresses() == [vip3.address(), VIP2.address()]
        a.events.findAll { it instanceof RouterEvent.Transitioned }.isEmpty()
    }

    def 'an added instance starts, after its stale VIPs are removed'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5)
        a.addresses.preset('eth0', VIP2.address(), 24)
        a.clearLogs()

        when:
        def report = a.router.reconfigure([vi1(200).build(), vi2(200).build()], [])

        then:
        report.added() == ['VI_2']
        report.unchanged() == ['VI_1']
        a.addresses.log() == ['remove 10.0.0.200/24 dev eth0']
        a.lines() == ['(VI_2) removed stale virtual address 10.0.0.200/24 dev eth0', '(VI_2) INIT -> BACKUP: startup']
        a.transport.opened() == 1   // same interface and group: the channel is shared

        when:
        advance(4)

        then:
        a.state('VI_2') == MASTER
        a.addresses.has('eth0', VIP2.address())
        a.addresses.has('eth0', VIP1.address())
    }

    def 'a removed instance stops like at shutdown; its tracking state is dropped'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()])
        def b = node('b', '10.0.0.2').start([vi2(100).build()])
        advance(5)
        a.router.setTracking('VI_2', -50, [] as Set)
        scheduler.runPending()
        a.clearLogs()

        when:
        def report = a.router.reconfigure([vi1(200).build()], [])

        then:
        report.removed() == ['VI_2']
        a.sentAdverts(52).last().priority() == 0
        a.addresses.log() == ['remove 10.0.0.200/24 dev eth0']
        a.lines() == ['(VI_2) MASTER -> INIT: removed by reload']
        a.router.status()*.name() == ['VI_1']
        a.state('VI_1') == MASTER

        when: 'B takes over after Skew_Time; a re-added VI_2 starts without the old delta'
        advance(1)
        a.router.reconfigure([vi1(200).build(), vi2(200).build()], [])

        then:
        b.state('VI_2') == MASTER
        a.router.status('VI_2').effectivePriority() == 200
    }

    def 'an identity change stops and starts the instance'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5)
        a.clearLogs()

        when:
        def report = a.router.reconfigure([InstanceParams.builder('VI_1', 61, 'eth0').priority(200).vip(VIP1).build()], [])

        then:
        report.restarted() == ['VI_1']
        report.describe() == ['VI_1: restarted: virtual_router_id 51 -> 61']
        a.sentAdverts(51).last().priority() == 0
        a.lines() == ['(VI_1) MASTER -> INIT: restarted by reload: virtual_router_id 51 -> 61',
                      '(VI_1) INIT -> BACKUP: startup']
        a.state('VI_1') == BACKUP

        when:
        advance(4)

        then:
        a.state('VI_1') == MASTER
        a.sentAdverts(61).size() > 0
    }

    def 'a channel no longer used is closed, a new one opened'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5)

        when:
        def report = a.router.reconfigure([InstanceParams.builder('VI_1', 51, 'eth1').priority(200).vip(vip('10.0.0.100', 'eth1')).build()], [])
        advance(4)

        then:
        report.restarted() == ['VI_1']
        a.transport.opened() == 2
        segment.sentBy('a').last().payload() != null
        a.state('VI_1') == MASTER
        a.addresses.has('eth1', VIP1.address())
        !a.addresses.has('eth0', VIP1.address())
    }

    def 'sync group membership changes: joining a group with a faulty member means FAULT, leaving it ends it'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build(), vi2(200).build()])
        advance(5)
        a.router.setTracking('VI_1', 0, ['chk'] as Set)
        scheduler.runPending()
        assert a.state('VI_2') == MASTER

        when:
        def report = a.router.reconfigure([vi1(200).build(), vi2(200).build()], [SyncGroupParams.of('G', 'VI_1', 'VI_2')])

        then:
        report.groupChanges() == ['sync group G: added [VI_1, VI_2]']
        report.unchanged() == ['VI_1', 'VI_2']
        a.state('VI_2') == FAULT
        a.router.groupStates() == [G: FAULT]

        when:
        report = a.router.reconfigure([vi1(200).build(), vi2(200).build()], [])

        then:
        report.groupChanges() == ['sync group G: removed']
        a.state('VI_2') == BACKUP
        a.router.groupStates() == [:]
    }

    def 'a refused configuration changes nothing'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5)

        when:
        a.router.reconfigure([vi1(200).build(), InstanceParams.builder('VI_2', 51, 'eth0').vip(VIP2).build()], [])

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'duplicate vrid 51 on eth0 INET: VI_1, VI_2'
        a.router.status()*.name() == ['VI_1']
        a.state('VI_1') == MASTER
    }

    def 'changed timers: a new advert_int on a MASTER takes effect at once'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(200).build()])
        advance(5.5)
        segment.clearLog()

        when:
        def report = a.router.reconfigure([vi1(200).advertInterval(Duration.ofSeconds(2)).build()], [])
        advance(6.1)

        then:
        report.changed() == [VI_1: ['advert_int 1s -> 2s']]
        a.sentAdverts().size() == 3
        a.sentAdverts().every { it.advertInterval() == 2 }
    }
}
