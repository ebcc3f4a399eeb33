package dev.vigil.kernel.linux

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.LinkInfo
import dev.vigil.kernel.VirtualAddress
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.function.Consumer

/**
 * The adapters' warm-up goes through the take-over's kernel paths without a trace: no frame on
 * the wire, no address change. The caches it fills follow link changes.
 */
@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class WarmUpSpec extends Specification {
    static final int ETH_P_ALL = 3

    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()
    @Shared @AutoCleanup NetlinkAddressManager addresses = NetNs.call(hosts.nsA) { new NetlinkAddressManager() }
    @Shared @AutoCleanup PacketNeighbourAdvertiser advertiser = NetNs.call(hosts.nsA) { new PacketNeighbourAdvertiser() }
    @Shared @AutoCleanup LinuxVrrpTransport transport = NetNs.call(hosts.nsA) { new LinuxVrrpTransport() }

    /** Frames B receives on ifB, every protocol, from a packet socket read on a thread. */
    private List<byte[]> captureOnB(Closure body) {
        def socket = NetNs.call(hosts.nsB) {
            def s = NativeSocket.open(Sys.AF_PACKET, Sys.SOCK_RAW, Sys.htons(ETH_P_ALL) & 0xffff, 'test capture')
            def ll = Sys.buffer(20)
            ll.putShort(0, (short) Sys.AF_PACKET)
            ll.putShort(2, Sys.htons(ETH_P_ALL))
            ll.putInt(4, new NetlinkAddressManager().withCloseable { it.ifindex(hosts.ifB) })
            s.bind(ll, 'capture on ' + hosts.ifB)
            s
        }
        List<byte[]> frames = new CopyOnWriteArrayList<>()
        def done = false
        def reader = Thread.start {
            def buf = Sys.buffer(2048)
            while (!done) {
                if (socket.awaitReadable(50)) {
                    int n
                    while ((n = socket.receive(buf)) > 0) {
                        frames << Sys.bytes(buf, 0, n)
                    }
                }
            }
        }
        try {
            Thread.sleep(200)
            body()
            Thread.sleep(500)
        } finally {
            done = true
            reader.join(2000)
            socket.close()
        }
        frames
    }

    /** ARP, IPv4 protocol 112 (VRRP) or an ICMPv6 neighbour advert: what a take-over sends. */
    private static boolean takeoverFrame(byte[] f) {
        int type = ((f[12] & 0xff) << 8) | (f[13] & 0xff)
        type == 0x0806 || (type == 0x0800 && f.length > 23 && (f[23] & 0xff) == 112)
                || (type == 0x86DD && f.length > 54 && (f[20] & 0xff) == 112)
                || (type == 0x86DD && f.length > 54 && (f[20] & 0xff) == 58 && (f[54] & 0xff) == 136)
    }

    private String addressesOfA() {
        TwoHosts.sh('ip', '-n', hosts.nsA, '-o', 'addr', 'show').readLines().collect { it.replaceAll(/valid_lft.*/, '') }.join('\n')
    }

    def "the warm-up of addresses, announcements and the VRRP send path sends nothing and changes no address"() {
        given:
        def vip4 = new VirtualAddress(InetAddress.getByName("10.${hosts.net}.0.100"), 24, hosts.ifA, null, null, 0)
        def vip6 = new VirtualAddress(InetAddress.getByName('fd00::100'), 64, hosts.ifA, null, null, 0)
        def before = addressesOfA()
        def monitor = new ProcessBuilder('ip', '-n', hosts.nsA, 'monitor', 'address').redirectErrorStream(true).start()
        def monitorOut = new ByteArrayOutputStream()
        def pump = Thread.start { monitorOut << monitor.inputStream }
        int refusedAddresses = -1
        int refusedAnnouncements = -1
        int refusedSend = -1

        when:
        def frames = captureOnB {
            refusedAddresses = addresses.warmUp([vip4, vip6])
            refusedAnnouncements = advertiser.warmUp([vip4, vip6])
            def channel = NetNs.call(hosts.nsA) {
                transport.open(hosts.ifA, AddressFamily.INET, null, InetAddress.getByName('224.0.0.18'), {} as Runnable)
            }
            refusedSend = channel.warmUp()
            channel.close()
        }
        monitor.destroy()
        pump.join(2000)

        then: 'every request went to the kernel and was refused'
        refusedAddresses == 4       // RTM_NEWADDR and RTM_DELADDR on ifindex 0, per address: ENODEV
        refusedAnnouncements == 2   // sendto with a too short address: EINVAL
        refusedSend == Sys.EINVAL

        and: 'no ARP, no VRRP, no neighbour advert reached B; no address came or went'
        frames.findAll { takeoverFrame(it) }.isEmpty()
        addressesOfA() == before
        !monitorOut.toString().contains('100')
    }

    def "cached interface data follows a MAC change when link notifications feed the caches"() {
        given:
        def links = NetNs.call(hosts.nsA) { new NetlinkLinkMonitor() }
        links.subscribe({ LinkInfo info -> advertiser.linkChanged(info); addresses.linkChanged(info) } as Consumer)
        def vip = (Inet4Address) InetAddress.getByName("10.${hosts.net}.0.101")

        when: 'one ARP fills the cache, then the MAC changes and the notification arrives'
        captureOnB { advertiser.gratuitousArp(hosts.ifA, vip) }
        TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'set', 'dev', hosts.ifA, 'address', '02:00:00:00:be:ef')
        Thread.sleep(300)
        def frames = captureOnB { advertiser.gratuitousArp(hosts.ifA, vip) }
        def arp = frames.find { ((it[12] & 0xff) << 8 | (it[13] & 0xff)) == 0x0806 && it[28..31] == vip.address as List }

        then: 'the frame carries the new MAC'
        arp != null
        arp[6..11] == [2, 0, 0, 0, 0xbe, 0xef].collect { it as byte }

        cleanup:
        links?.close()
    }

    def "an address request through a stale cached index is retried with the index looked up again"() {
        given: 'the cache believes ifA has an index no interface has'
        addresses.linkChanged(new LinkInfo(hosts.ifA, 99_999, true, new byte[6]))
        def vip = new VirtualAddress(InetAddress.getByName("10.${hosts.net}.0.102"), 24, hosts.ifA, null, null, 0)

        when:
        addresses.add(vip)

        then:
        TwoHosts.sh('ip', '-n', hosts.nsA, '-o', 'addr', 'show', 'dev', hosts.ifA).contains("10.${hosts.net}.0.102/24")

        cleanup:
        addresses.remove(vip)
    }

    def "an address on an interface that does not exist is skipped by the warm-up"() {
        given:
        def missing = new VirtualAddress(InetAddress.getByName("10.${hosts.net}.0.103"), 24, 'vk-missing0', null, null, 0)

        expect:
        addresses.warmUp([missing]) == 0
        advertiser.warmUp([missing]) == 0
    }
}
