package dev.vigil.vrrp.runtime

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.ReceivedPacket
import dev.vigil.kernel.VrrpChannel
import dev.vigil.kernel.VrrpTransport
import dev.vigil.vrrp.codec.ChecksumMode
import dev.vigil.vrrp.codec.VrrpAdvert
import dev.vigil.vrrp.codec.VrrpCodec
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser

import groovy.transform.CompileStatic

import java.lang.management.ManagementFactory
import java.util.function.Consumer

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

/**
 * Bytes allocated on the engine thread per advert in the steady state, measured with
 * {@code ThreadMXBean.getCurrentThreadAllocatedBytes} over 100k adverts after a warm-up. The bounds
 * are loose on purpose (the JIT decides what escapes); the figures are printed.
 */
class AllocationSpec extends RouterSpecSupport {

    static final com.sun.management.ThreadMXBean THREADS = ManagementFactory.threadMXBean as com.sun.management.ThreadMXBean
    static final int N = 100_000

    /** A transport whose channel counts what is sent and hands the receive sink to the test. */
    @CompileStatic
    static class NullTransport implements VrrpTransport {
        static final InetAddress SOURCE = InetAddress.getByName('10.0.0.1')
        Consumer<ReceivedPacket> sink
        long sent

        @Override
        VrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress group,
                         Consumer<ReceivedPacket> sink) throws KernelException {
            this.sink = sink
            new NullChannel(this, ifname, family)
        }
    }

    @CompileStatic
    static class NullChannel implements VrrpChannel {
        final NullTransport transport
        final String ifname
        final AddressFamily family

        NullChannel(NullTransport transport, String ifname, AddressFamily family) {
            this.transport = transport
            this.ifname = ifname
            this.family = family
        }

        String ifname() { ifname }

        AddressFamily family() { family }

        InetAddress source() { NullTransport.SOURCE }

        void send(InetAddress destination, byte[] message) { transport.sent = transport.sent + 1 }

        void close() {}
    }

    /** Statically compiled, so the measuring loop itself allocates nothing. */
    @CompileStatic
    static long receive(Consumer<ReceivedPacket> sink, ReceivedPacket packet, ManualScheduler scheduler, int n) {
        long before = THREADS.getCurrentThreadAllocatedBytes()
        for (int i = 0; i < n; i++) {
            sink.accept(packet)
            scheduler.advanceNanos(1_000_000_000L)
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before
    }

    @CompileStatic
    static long send(ManualScheduler scheduler, int n) {
        long before = THREADS.getCurrentThreadAllocatedBytes()
        for (int i = 0; i < n; i++) {
            scheduler.advanceNanos(1_000_000_000L)
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before
    }

    VrrpRouter router(NullTransport transport, int priority) {
        def r = new VrrpRouter([vi1(priority).build()], new VrrpRouter.Ports(transport, new FakeAddressManager(),
                new FakeNeighbourAdvertiser(), new FakeLinkMonitor('eth0')), scheduler, RouterListener.NONE)
        r.start()
        r
    }

    def 'a BACKUP hearing its master allocates little per advert'() {
        given:
        def transport = new NullTransport()
        def r = router(transport, 100)
        byte[] advert = VrrpCodec.encode(VrrpAdvert.v2(51, 200, 1, null, [VIP1.address()]), ip('10.0.0.2'),
                ip('224.0.0.18'), ChecksumMode.PSEUDO_HEADER)
        def packet = new ReceivedPacket('eth0', ip('10.0.0.2'), ip('224.0.0.18'), 255, advert)
        receive(transport.sink, packet, scheduler, 20_000)

        when:
        long bytes = receive(transport.sink, packet, scheduler, N)
        double perAdvert = bytes / (double) N
        println String.format('BACKUP receive path: %.1f bytes/advert', perAdvert)

        then:
        r.status('VI_1').state() == BACKUP
        r.counters('VI_1').advertsReceived() == 20_000 + N
        perAdvert < 512
    }

    def 'a MASTER sending allocates little per advert'() {
        given:
        def transport = new NullTransport()
        def r = router(transport, 255)
        send(scheduler, 20_000)
        long sentBefore = transport.sent

        when:
        long bytes = send(scheduler, N)
        double perAdvert = bytes / (double) (transport.sent - sentBefore)
        println String.format('MASTER send path: %.1f bytes/advert', perAdvert)

        then:
        r.status('VI_1').state() == MASTER
        transport.sent - sentBefore == N
        perAdvert < 512
    }
}
