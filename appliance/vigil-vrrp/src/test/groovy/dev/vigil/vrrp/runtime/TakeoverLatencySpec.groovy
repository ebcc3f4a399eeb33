package dev.vigil.vrrp.runtime

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.ReceivedPacket
import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.codec.ChecksumMode
import dev.vigil.vrrp.codec.VrrpAdvert
import dev.vigil.vrrp.codec.VrrpCodec
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser
import dev.vigil.vrrp.testkit.FakeSegment
import spock.lang.Specification

import java.time.Duration

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.INIT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

/** What the router does to keep a take-over short: timers from receive time, the warm-up. */
class TakeoverLatencySpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static final VirtualAddress VIP = new VirtualAddress(ip('10.0.0.100'), 24, 'eth0', null, null, 0)
    static final VirtualAddress VIP6 = new VirtualAddress(ip('fd00::100'), 64, 'eth0', null, null, 0)

    /**
     * A {@link ManualScheduler} whose engine queue can be held: tasks submitted while held wait
     * until released, as when the engine thread is busy or slow to wake up while the clock runs.
     */
    static class HeldScheduler implements Scheduler {
        final ManualScheduler clock = new ManualScheduler()
        final List<Runnable> held = []
        boolean holding

        void execute(Runnable task) { holding ? held << task : clock.execute(task) }

        Scheduler.Cancellable schedule(Runnable task, long delayNanos) { clock.schedule(task, delayNanos) }

        Scheduler.Alarm alarm(Runnable task) { clock.alarm(task) }

        long nanoTime() { clock.nanoTime() }

        boolean inEngineThread() { true }

        void release() {
            holding = false
            held.each { clock.execute(it) }
            held.clear()
            clock.runPending()
        }

        void advance(double seconds) { clock.advanceNanos(Math.round(seconds * 1e9) as long) }
    }

    final HeldScheduler scheduler = new HeldScheduler()
    final FakeSegment segment = new FakeSegment({ scheduler.nanoTime() } as java.util.function.LongSupplier)
    final FakeSegment.Transport transport = segment.node('b', ip('10.0.0.2'))
    final FakeAddressManager addresses = new FakeAddressManager()
    final FakeNeighbourAdvertiser advertiser = new FakeNeighbourAdvertiser()
    final FakeLinkMonitor links = new FakeLinkMonitor('eth0')
    final List<RouterEvent> events = []

    VrrpRouter router(InstanceParams... params) {
        new VrrpRouter(params as List, new VrrpRouter.Ports(transport, addresses, advertiser, links), scheduler,
                { events << it } as RouterListener)
    }

    static InstanceParams.Builder vi(int priority) {
        InstanceParams.builder('VI_1', 51, 'eth0').priority(priority).vip(VIP)
    }

    /** A VRRPv2 advert of the master at 10.0.0.1 (priority 200, 1 s), as the receive thread delivers it. */
    void masterAdvertArrives() {
        byte[] advert = VrrpCodec.encode(VrrpAdvert.v2(51, 200, 1, null, [VIP.address()]), ip('10.0.0.1'),
                ip('224.0.0.18'), ChecksumMode.PSEUDO_HEADER)
        segment.inject('b', new ReceivedPacket('eth0', ip('10.0.0.1'), ip('224.0.0.18'), 255, advert))
    }

    def 'the master down timer runs from the advert\'s receive time stamp, not from when the engine thread takes it'() {
        given: 'a backup at priority 100: Master_Down_Interval 3 s + skew 0.609 s (RFC 5798 §6.1)'
        def r = router(vi(100).build())
        r.start()
        scheduler.advance(1)

        when: 'an advert arrives (is stamped) at 1 s but the engine thread only takes it at 3 s'
        scheduler.holding = true
        masterAdvertArrives()
        scheduler.advance(2)
        scheduler.release()

        then:
        r.status('VI_1').state() == BACKUP
        r.status('VI_1').masterAddress() == ip('10.0.0.1')

        when: 'just before receive time + 3.609 s'
        scheduler.advance(4.6 - 3)

        then:
        r.status('VI_1').state() == BACKUP

        when: 'just after it (from the processing time it would be 6.609 s)'
        scheduler.advance(4.62 - 4.6)

        then:
        r.status('VI_1').state() == MASTER
        events*.describe().contains('(VI_1) BACKUP -> MASTER: master down timer expired')
    }

    def 'an advert queued before the deadline but not yet taken keeps the master: the expiring timer looks first'() {
        given: 'a backup at priority 100 that heard its master at 1 s: down at 4.609 s'
        def r = router(vi(100).build())
        r.start()
        scheduler.advance(1)
        masterAdvertArrives()
        scheduler.advance(0)

        when: 'the next advert arrives at 4.5 s, but its drain is held (a starved receiver)'
        scheduler.advance(3.5)
        scheduler.holding = true
        masterAdvertArrives()

        and: 'the master down timer expires at 4.609 s'
        scheduler.advance(0.2)

        then: 'it took the queued advert, stamped 4.5 s, and runs to 8.109 s instead'
        r.status('VI_1').state() == BACKUP
        r.counters('VI_1').advertsReceived() == 2

        when:
        scheduler.release()
        scheduler.advance(8.1 - 4.7)

        then:
        r.status('VI_1').state() == BACKUP

        when:
        scheduler.advance(0.02)

        then:
        r.status('VI_1').state() == MASTER
    }

    def 'the warm-up runs scratch take-overs and leaves no trace'() {
        given: 'an IPv4 instance, an IPv6 unicast one and an address owner'
        def r = router(vi(100).build(),
                InstanceParams.builder('VI_6', 52, 'eth0').version(3).family(AddressFamily.INET6).priority(150)
                        .advertInterval(Duration.ofMillis(10)).vip(VIP6).unicastPeer(ip('fd00::1')).sourceAddress(ip('fd00::2')).build(),
                InstanceParams.builder('VI_O', 53, 'eth0').priority(255).vip(
                        new VirtualAddress(ip('10.0.0.53'), 24, 'eth0', null, null, 0)).build())

        when:
        Duration took = r.warmUp(300)

        then: 'nothing sent, added, announced, reported or scheduled, no state or counter moved'
        took < Duration.ofSeconds(5)
        segment.sent().isEmpty()
        addresses.log().isEmpty()
        advertiser.log().isEmpty()
        events.isEmpty()
        scheduler.clock.pendingTimers() == 0
        transport.opened() == 0
        ['VI_1', 'VI_6', 'VI_O'].every { r.status(it).state() == INIT }
        ['VI_1', 'VI_6', 'VI_O'].every {
            def c = r.counters(it)
            c.advertsSent() == 0 && c.transitions() == 0 && c.becameMaster() == 0 && c.kernelErrors() == 0
        }

        when: 'the router then starts as it would have without the warm-up'
        r.start()
        scheduler.advance(4)

        then:
        r.status('VI_1').state() == MASTER
        r.status('VI_6').state() == MASTER
        r.status('VI_O').state() == MASTER
        r.counters('VI_1').transitions() == 2
        r.counters('VI_O').transitions() == 1
        addresses.has('eth0', VIP.address())
        addresses.has('eth0', VIP6.address())
        !events.any { it instanceof RouterEvent.InternalError || it instanceof RouterEvent.KernelError }
    }

    def 'the warm-up is refused once the router runs'() {
        given:
        def r = router(vi(100).build())
        r.start()

        when:
        r.warmUp(1)

        then:
        thrown(IllegalStateException)
    }
}
