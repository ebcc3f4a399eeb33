package dev.vigil.vrrp.runtime

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.PacketBuffer
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

import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

/**
 * Bytes allocated on the engine thread per advert in the steady state, measured with
 * {@code ThreadMXBean.getCurrentThreadAllocatedBytes} over 100k adverts after a warm-up: none, on
 * the receive path (readable callback, drain into the reused packet buffer, validation, the
 * machine, re-arming the master down alarm) and on the send path (advert timer, send, re-arm).
 * The figures are printed.
 */
class AllocationSpec extends RouterSpecSupport {

    static final com.sun.management.ThreadMXBean THREADS = ManagementFactory.threadMXBean as com.sun.management.ThreadMXBean
    static final int N = 100_000

    /**
     * A transport whose channel counts what is sent and, when the test {@link #deliver delivers},
     * has one packet queued: the same bytes every time, copied into the caller's buffer.
     */
    @CompileStatic
    static class NullTransport implements VrrpTransport {
        static final InetAddress SOURCE = InetAddress.getByName('10.0.0.1')
        Runnable readable
        long sent
        byte[] payload
        byte[] source
        byte[] destination
        boolean queued

        @Override
        VrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress group,
                         Runnable readable) throws KernelException {
            this.readable = readable
            new NullChannel(this, ifname, family)
        }

        void deliver() {
            queued = true
            readable.run()
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

        boolean receive(PacketBuffer into) {
            if (!transport.queued) {
                return false
            }
            transport.queued = false
            into.addressLength(4)
            System.arraycopy(transport.source, 0, into.source(), 0, 4)
            System.arraycopy(transport.destination, 0, into.destination(), 0, 4)
            System.arraycopy(transport.payload, 0, into.payload(), 0, transport.payload.length)
            into.set(transport.payload.length, 255, 0)
            true
        }

        void close() {}
    }

    /** Statically compiled, so the measuring loop itself allocates nothing. */
    @CompileStatic
    static long receive(NullTransport transport, ManualScheduler scheduler, int n) {
        long before = THREADS.getCurrentThreadAllocatedBytes()
        for (int i = 0; i < n; i++) {
            transport.deliver()
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

    def 'a BACKUP hearing its master allocates nothing per advert'() {
        given:
        def transport = new NullTransport()
        def r = router(transport, 100)
        byte[] advert = VrrpCodec.encode(VrrpAdvert.v2(51, 200, 1, null, [VIP1.address()]), ip('10.0.0.2'),
                ip('224.0.0.18'), ChecksumMode.PSEUDO_HEADER)
        transport.payload = advert
        transport.source = ip('10.0.0.2').address
        transport.destination = ip('224.0.0.18').address
        receive(transport, scheduler, 20_000)

        when:
        long bytes = receive(transport, scheduler, N)
        double perAdvert = bytes / (double) N
        println String.format('BACKUP receive path: %.1f bytes/advert', perAdvert)

        then:
        r.status('VI_1').state() == BACKUP
        r.counters('VI_1').advertsReceived() == 20_000 + N
        perAdvert < 1
    }

    def 'a MASTER sending allocates nothing per advert'() {
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
        perAdvert < 1
    }
}
