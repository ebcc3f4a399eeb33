package dev.vigil.vrrp.runtime

import dev.vigil.kernel.KernelException
import dev.vigil.kernel.ReceivedPacket
import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.codec.ChecksumMode
import dev.vigil.vrrp.codec.DecodeError
import dev.vigil.vrrp.codec.DecodeResult
import dev.vigil.vrrp.codec.VrrpAdvert
import dev.vigil.vrrp.codec.VrrpCodec
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser
import dev.vigil.vrrp.testkit.FakeSegment
import spock.lang.Specification

import java.time.Duration

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.FAULT
import static dev.vigil.vrrp.fsm.VrrpState.INIT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class VrrpRouterSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static final VirtualAddress VIP = new VirtualAddress(ip('10.0.0.100'), 24, 'eth0', null, null, 0)

    final ManualScheduler scheduler = new ManualScheduler()
    final FakeSegment segment = new FakeSegment()

    /** One appliance: its fakes and its router. */
    class Node {
        final String name
        final InetAddress address
        final FakeSegment.Transport transport
        final FakeAddressManager addresses = new FakeAddressManager()
        final FakeNeighbourAdvertiser advertiser = new FakeNeighbourAdvertiser()
        final FakeLinkMonitor links = new FakeLinkMonitor('eth0')
        final List<RouterEvent> events = []
        VrrpRouter router

        Node(String name, String address) {
            this.name = name
            this.address = ip(address)
            this.transport = segment.node(name, this.address)
        }

        Node start(InstanceParams... params) {
            router = new VrrpRouter(params as List, new VrrpRouter.Ports(transport, addresses, advertiser, links),
                    scheduler, { events << it } as RouterListener)
            router.start()
            this
        }

        def state(String instance = 'VI_1') { router.status(instance).state() }

        InstanceCounters counters(String instance = 'VI_1') { router.counters(instance) }

        List<String> lines() { events*.describe() }

        List<VrrpAdvert> sentAdverts() {
            segment.sentBy(name).collect {
                (VrrpCodec.decode(it.payload(), it.source(), it.destination(), ChecksumMode.PSEUDO_HEADER) as DecodeResult.Ok).advert()
            }
        }
    }

    static InstanceParams.Builder vi(int priority) {
        InstanceParams.builder('VI_1', 51, 'eth0').priority(priority).vip(VIP)
    }

    void advance(double seconds) {
        scheduler.advanceNanos(Math.round(seconds * 1e9) as long)
    }

    def 'two routers elect the higher priority; the master adds its VIP and announces it'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())

        when: "A's Master_Down_Interval is 3 + 56/256 s"
        advance(3.218)

        then:
        a.state() == BACKUP
        b.state() == BACKUP

        when:
        advance(0.001)

        then:
        a.state() == MASTER
        b.state() == BACKUP
        a.addresses.has('eth0', VIP.address())
        !b.addresses.has('eth0', VIP.address())
        a.advertiser.log() == ['garp eth0 10.0.0.100'] * 5
        a.lines() == ['(VI_1) INIT -> BACKUP: startup', '(VI_1) BACKUP -> MASTER: master down timer expired']
        b.router.status('VI_1') == new InstanceStatus('VI_1', BACKUP, 100, 100, a.address, 200, b.address)
        a.router.status('VI_1') == new InstanceStatus('VI_1', MASTER, 200, 200, a.address, 200, a.address)

        when: 'ten seconds pass'
        advance(10)

        then: 'one advert per second; B keeps resetting its timer'
        a.state() == MASTER
        b.state() == BACKUP
        a.counters().advertsSent() == 11
        b.counters().advertsReceived() == 11
        b.counters().becameMaster() == 0
        a.advertiser.log().size() == 10   // a second burst of 5 after garp_master_delay 5 s
        segment.sentBy('b').isEmpty()
    }

    def 'the backup takes over within Master_Down_Interval when the master goes silent'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(10)          // A is master since 3.21875 s; its last advert left at 9.21875 s

        when:
        segment.isolate('a')
        advance(2.828)       // 12.828 s: 3.609375 s after the last advert is 12.828125 s

        then:
        b.state() == BACKUP

        when:
        advance(0.001)

        then:
        b.state() == MASTER
        b.lines().last() == '(VI_1) BACKUP -> MASTER: master down timer expired'
        b.addresses.has('eth0', VIP.address())
        b.sentAdverts().first().priority() == 100
    }

    def 'graceful shutdown: the master sends priority 0 and the backup takes over after Skew_Time'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(5)

        when:
        a.router.shutdown(Duration.ofSeconds(1))
        scheduler.runPending()

        then:
        a.state() == INIT
        a.sentAdverts().last().priority() == 0
        a.counters().priorityZeroSent() == 1
        !a.addresses.has('eth0', VIP.address())
        a.lines().last() == '(VI_1) MASTER -> INIT: shutdown'
        b.counters().priorityZeroReceived() == 1
        b.state() == BACKUP

        when: 'Skew_Time for priority 100 is 156/256 s'
        advance(0.609)

        then:
        b.state() == BACKUP

        when:
        advance(0.001)

        then:
        b.state() == MASTER
        scheduler.pendingTimers() == 2   // B's advert and second GARP burst; A armed nothing after shutdown
    }

    def 'the old master preempts when it returns'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(5)
        a.router.shutdown(Duration.ofSeconds(1))
        advance(5)
        assert b.state() == MASTER

        when: 'A restarts: it ignores the lower priority adverts and its timer runs out'
        def a2 = new Node('a2', '10.0.0.1').start(vi(200).build())
        advance(3.3)

        then:
        a2.state() == MASTER
        b.state() == BACKUP
        b.lines().last() == '(VI_1) MASTER -> BACKUP: higher priority 200 advert from 10.0.0.1'
        !b.addresses.has('eth0', VIP.address())
        a2.counters().ignoredAdverts() == 3
    }

    def 'with nopreempt the returning higher priority router stays BACKUP'() {
        given:
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(5)
        assert b.state() == MASTER

        when:
        def a = new Node('a', '10.0.0.1').start(vi(200).preempt(false).build())
        advance(30)

        then:
        a.state() == BACKUP
        b.state() == MASTER
        a.router.status('VI_1').masterAddress() == b.address
    }

    def 'equal priorities: after a split the higher address keeps MASTER (RFC 5798 §6.4.3), #aAddress vs #bAddress'() {
        given:
        def a = new Node('a', aAddress).start(vi(100).build())
        def b = new Node('b', bAddress).start(vi(100).build())
        segment.isolate('a')
        advance(5)
        assert a.state() == MASTER && b.state() == MASTER

        when:
        segment.heal('a')
        advance(1)

        then:
        a.state() == aWins ? MASTER : BACKUP
        b.state() == aWins ? BACKUP : MASTER
        (aWins ? b : a).lines().last() ==
                "(VI_1) MASTER -> BACKUP: equal priority 100 advert from higher address ${aWins ? aAddress : bAddress}".toString()

        where:
        aAddress     | bAddress     | aWins
        '10.0.0.9'   | '10.0.0.10'  | false
        '10.0.0.200' | '10.0.0.20'  | true
    }

    def 'an advert with the wrong password is dropped and counted'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).password('secret'.bytes).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).password('other'.bytes).build())

        when:
        advance(5)

        then: 'B never hears A, so both are MASTER'
        a.state() == MASTER
        b.state() == MASTER
        b.counters().drops(DecodeError.AUTH_MISMATCH) == 2
        b.counters().advertsReceived() == 0
        b.lines().contains('(VI_1) advert dropped (AUTH_MISMATCH): auth password mismatch from 10.0.0.1')
        a.counters().drops(DecodeError.AUTH_MISMATCH) == 2
    }

    def 'a VIP left behind by a crash is removed at start'() {
        given:
        def a = new Node('a', '10.0.0.1')
        a.addresses.preset('eth0', VIP.address(), 24)
        a.addresses.preset('eth0', ip('10.0.0.1'), 24)

        when:
        a.start(vi(100).build())

        then:
        a.addresses.log() == ['remove 10.0.0.100/24 dev eth0']
        !a.addresses.has('eth0', VIP.address())
        a.addresses.has('eth0', ip('10.0.0.1'))
        a.lines().first() == '(VI_1) removed stale virtual address 10.0.0.100/24 dev eth0'
    }

    def 'link down puts the master in FAULT with a priority 0 advert; link up brings it back'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(5)

        when:
        a.links.set('eth0', false)
        scheduler.runPending()

        then:
        a.state() == FAULT
        a.lines().last() == '(VI_1) MASTER -> FAULT: fault: link eth0 down'
        a.sentAdverts().last().priority() == 0
        !a.addresses.has('eth0', VIP.address())

        when:
        advance(0.61)

        then:
        b.state() == MASTER

        when: 'the link returns; A is BACKUP, then preempts B'
        a.links.set('eth0', true)
        scheduler.runPending()

        then:
        a.state() == BACKUP
        a.lines().last() == '(VI_1) FAULT -> BACKUP: link eth0 up'

        when:
        advance(3.3)

        then:
        a.state() == MASTER
        b.state() == BACKUP
    }

    def 'an interface down at start means FAULT from the start'() {
        given:
        def a = new Node('a', '10.0.0.1')
        a.links.set('eth0', false)

        when:
        a.start(vi(255).build())
        advance(5)

        then:
        a.state() == FAULT
        a.lines() == ['(VI_1) INIT -> FAULT: startup with fault: link eth0 down']
        segment.sentBy('a').isEmpty()
    }

    def 'a kernel error is reported and the engine carries on'() {
        given:
        def a = new Node('a', '10.0.0.1')
        a.addresses.failNext(new KernelException('RTM_NEWADDR', 1, 'Operation not permitted'))

        when:
        a.start(vi(255).build())
        advance(2.5)

        then:
        a.state() == MASTER
        a.lines().contains('(VI_1) add 10.0.0.100/24 dev eth0 failed: RTM_NEWADDR: Operation not permitted (errno 1)')
        a.counters().kernelErrors() == 1
        a.counters().advertsSent() == 3
    }

    def 'a packet for an unknown VRID is counted'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(100).build())
        byte[] other = VrrpCodec.encode(VrrpAdvert.v2(99, 100, 1, null, [VIP.address()]), ip('10.0.0.7'), ip('224.0.0.18'),
                ChecksumMode.PSEUDO_HEADER)

        when:
        segment.inject('a', new ReceivedPacket('eth0', ip('10.0.0.7'), ip('224.0.0.18'), 255, other))
        scheduler.runPending()

        then:
        a.router.unknownVridCount() == 1
        a.lines().last() == 'advert dropped (UNKNOWN_VRID): unknown vrid 99 on eth0 from 10.0.0.7'
    }

    def 'drops are all counted but reported at most once a second per kind'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(100).build())
        byte[] other = VrrpCodec.encode(VrrpAdvert.v2(99, 100, 1, null, [VIP.address()]), ip('10.0.0.7'), ip('224.0.0.18'),
                ChecksumMode.PSEUDO_HEADER)
        def packet = new ReceivedPacket('eth0', ip('10.0.0.7'), ip('224.0.0.18'), 255, other)
        int before = a.lines().size()

        when: 'five within 0.4 s'
        5.times {
            segment.inject('a', packet)
            scheduler.advance(Duration.ofMillis(100))
        }

        then:
        a.router.unknownVridCount() == 5
        a.lines().size() - before == 1

        when: 'another one a second after the reported one'
        scheduler.advance(Duration.ofMillis(600))
        segment.inject('a', packet)
        scheduler.runPending()

        then:
        a.router.unknownVridCount() == 6
        a.lines().size() - before == 2
        a.lines().last() == 'advert dropped (UNKNOWN_VRID): unknown vrid 99 on eth0 from 10.0.0.7'
    }

    def 'a TTL other than 255 is dropped and counted'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(100).build())
        byte[] advert = VrrpCodec.encode(VrrpAdvert.v2(51, 150, 1, null, [VIP.address()]), ip('10.0.0.7'), ip('224.0.0.18'),
                ChecksumMode.PSEUDO_HEADER)

        when:
        segment.inject('a', new ReceivedPacket('eth0', ip('10.0.0.7'), ip('224.0.0.18'), 254, advert))
        scheduler.runPending()

        then:
        a.counters().drops(DecodeError.BAD_TTL) == 1
        a.lines().last() == '(VI_1) advert dropped (BAD_TTL): bad ttl: 254 (expected: 255) from 10.0.0.7'
    }

    def 'a different address list is reported but the advert is used'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(100).build())
        byte[] advert = VrrpCodec.encode(VrrpAdvert.v2(51, 150, 1, null, [ip('10.0.0.101')]), ip('10.0.0.7'), ip('224.0.0.18'),
                ChecksumMode.PSEUDO_HEADER)

        when:
        segment.inject('a', new ReceivedPacket('eth0', ip('10.0.0.7'), ip('224.0.0.18'), 255, advert))
        scheduler.runPending()

        then:
        a.counters().addressListErrors() == 1
        a.router.status('VI_1').masterAddress() == ip('10.0.0.7')
        a.lines().last() == '(VI_1) address list mismatch: [10.0.0.101] (expected: [10.0.0.100]) from 10.0.0.7'
    }

    def 'unicast peers: one copy per peer, and the election works'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).version(3).unicastPeer(ip('10.0.0.2')).unicastPeer(ip('10.0.0.3')).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).version(3).unicastPeer(ip('10.0.0.1')).build())

        when:
        advance(4)

        then:
        a.state() == MASTER
        b.state() == BACKUP
        segment.sentBy('a')*.destination().toSet() == [ip('10.0.0.2'), ip('10.0.0.3')] as Set
        a.counters().advertsSent() == 2 * b.counters().advertsReceived()
    }

    def 'VRRPv3 over IPv6 with a sub-second interval fails over in 36 ms'() {
        given:
        def vip6 = new VirtualAddress(ip('2001:db8::100'), 64, 'eth0', null, null, 0)
        def params = { int prio -> InstanceParams.builder('VI_6', 7, 'eth0').priority(prio).vip(vip6)
                .advertInterval(Duration.ofMillis(10)).build() }
        def a = new Node('a', 'fe80::1').start(params(200))
        def b = new Node('b', 'fe80::2').start(params(110))
        advance(1)
        assert a.state('VI_6') == MASTER

        when: 'after the last advert, B waits 3 x 10 ms + 146/256 x 10 ms = 35.703125 ms'
        segment.isolate('a')
        advance(0.0357)

        then:
        b.state('VI_6') == MASTER
        b.advertiser.log().first() == 'na eth0 2001:db8:0:0:0:0:0:100'
    }

    def 'a priority adjustment below the backup makes the backup preempt'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        def b = new Node('b', '10.0.0.2').start(vi(100).build())
        advance(5)

        when:
        a.router.setTracking('VI_1', -150, [] as Set)
        advance(4)

        then:
        a.router.status('VI_1').effectivePriority() == 50
        a.lines().contains('(VI_1) effective priority 200 -> 50')
        a.state() == BACKUP
        b.state() == MASTER
    }

    def 'a raised fault holds the instance in FAULT until cleared'() {
        given:
        def a = new Node('a', '10.0.0.1').start(vi(200).build())
        advance(5)

        when:
        a.router.setTracking('VI_1', 0, ['track_script chk'] as Set)
        scheduler.runPending()

        then:
        a.state() == FAULT

        when:
        a.router.setTracking('VI_1', 0, [] as Set)
        scheduler.runPending()

        then:
        a.state() == BACKUP
        a.lines().last() == '(VI_1) FAULT -> BACKUP: fault cleared: track_script chk'
    }

    def 'configuration errors are refused: #message'() {
        when:
        new VrrpRouter(params, new VrrpRouter.Ports(segment.node('x', ip('10.0.0.1')), new FakeAddressManager(),
                new FakeNeighbourAdvertiser(), new FakeLinkMonitor()), scheduler, RouterListener.NONE)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == message

        where:
        params                                                                              | message
        [vi(100).build(), vi(100).build()]                                                  | 'duplicate instance name: VI_1'
        [vi(100).build(), InstanceParams.builder('VI_2', 51, 'eth0').vip(VIP).build()]      | 'duplicate vrid 51 on eth0 INET: VI_1, VI_2'
    }

    def 'a channel that cannot be opened puts the instance in FAULT'() {
        given:
        def a = new Node('a', '10.0.0.1')
        a.transport.failOpen(new KernelException('socket', 1, 'Operation not permitted'))

        when:
        a.start(vi(255).build())

        then:
        a.state() == FAULT
        a.lines() == ['(VI_1) open VRRP channel on eth0 failed: socket: Operation not permitted (errno 1)',
                      '(VI_1) INIT -> FAULT: startup with fault: no VRRP channel']
    }
}
