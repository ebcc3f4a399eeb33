package dev.vigil.vrrp.runtime

import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.codec.ChecksumMode
import dev.vigil.vrrp.codec.DecodeResult
import dev.vigil.vrrp.codec.VrrpAdvert
import dev.vigil.vrrp.codec.VrrpCodec
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser
import dev.vigil.vrrp.testkit.FakeSegment
import spock.lang.Specification

/** Routers on one {@link FakeSegment} driven by one {@link ManualScheduler}. */
abstract class RouterSpecSupport extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static VirtualAddress vip(String address, String ifname = 'eth0') {
        new VirtualAddress(ip(address), 24, ifname, null, null, 0)
    }

    static final VirtualAddress VIP1 = vip('10.0.0.100')
    static final VirtualAddress VIP2 = vip('10.0.0.200')

    final ManualScheduler scheduler = new ManualScheduler()
    final FakeSegment segment = new FakeSegment()

    class Node {
        final String name
        final InetAddress address
        final FakeSegment.Transport transport
        final FakeAddressManager addresses = new FakeAddressManager()
        final FakeNeighbourAdvertiser advertiser = new FakeNeighbourAdvertiser()
        final FakeLinkMonitor links = new FakeLinkMonitor('eth0', 'eth1')
        final List<RouterEvent> events = []
        VrrpRouter router

        Node(String name, String address) {
            this.name = name
            this.address = ip(address)
            this.transport = segment.node(name, this.address)
        }

        Node start(List<InstanceParams> params, List<SyncGroupParams> groups = []) {
            router = new VrrpRouter(params, groups, new VrrpRouter.Ports(transport, addresses, advertiser, links),
                    scheduler, { events << it } as RouterListener)
            router.start()
            this
        }

        def state(String instance) { router.status(instance).state() }

        InstanceCounters counters(String instance) { router.counters(instance) }

        List<String> lines() { events*.describe() }

        List<String> groupLines() { events.findAll { it instanceof RouterEvent.GroupTransitioned }*.describe() }

        List<VrrpAdvert> sentAdverts(int vrid = -1) {
            segment.sentBy(name).collect {
                (VrrpCodec.decode(it.payload(), it.source(), it.destination(), ChecksumMode.PSEUDO_HEADER) as DecodeResult.Ok).advert()
            }.findAll { vrid < 0 || it.vrid() == vrid }
        }

        void clearLogs() {
            events.clear()
            addresses.clearLog()
            advertiser.clearLog()
        }
    }

    static InstanceParams.Builder vi1(int priority) {
        InstanceParams.builder('VI_1', 51, 'eth0').priority(priority).vip(VIP1)
    }

    static InstanceParams.Builder vi2(int priority) {
        InstanceParams.builder('VI_2', 52, 'eth0').priority(priority).vip(VIP2)
    }

    Node node(String name, String address) {
        new Node(name, address)
    }

    void advance(double seconds) {
        scheduler.advanceNanos(Math.round(seconds * 1e9) as long)
    }
}
