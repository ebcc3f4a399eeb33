package dev.vigil.kernel.linux

import dev.vigil.kernel.KernelException
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.ByteBuffer

@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class PacketNeighbourAdvertiserSpec extends Specification {
    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()
    @Shared @AutoCleanup PacketNeighbourAdvertiser advertiser = NetNs.call(hosts.nsA) { new PacketNeighbourAdvertiser() }

    /** A packet socket in B's namespace receiving frames of {@code ethertype} arriving on ifB. */
    private NativeSocket capture(int ethertype) {
        NetNs.call(hosts.nsB) {
            def s = NativeSocket.open(Sys.AF_PACKET, Sys.SOCK_RAW, Sys.htons(ethertype) & 0xffff, 'test capture')
            def ll = Sys.buffer(20)
            ll.putShort(0, (short) Sys.AF_PACKET)
            ll.putShort(2, Sys.htons(ethertype))
            ll.putInt(4, new NetlinkAddressManager().withCloseable { it.ifindex(hosts.ifB) })
            s.bind(ll, 'capture on ' + hosts.ifB)
            s
        }
    }

    /** The first frame accepted by {@code match} within two seconds, or null. */
    private static byte[] firstFrame(NativeSocket s, Closure<Boolean> match) {
        def buf = Sys.buffer(2048)
        long deadline = System.nanoTime() + 2_000_000_000L
        while (System.nanoTime() < deadline) {
            if (s.awaitReadable(100)) {
                int n = s.receive(buf)
                if (n > 0) {
                    def frame = Sys.bytes(buf, 0, n)
                    if (match(frame)) {
                        return frame
                    }
                }
            }
        }
        null
    }

    /** RFC 1071 sum over the IPv6 pseudo-header and the ICMPv6 message; 0xffff when the checksum is right. */
    private static int icmp6Sum(byte[] src, byte[] dst, byte[] message) {
        def pseudo = ByteBuffer.allocate(40 + message.length)
        pseudo.put(src).put(dst).putInt(message.length).putInt(58).put(message)
        def bytes = pseudo.array()
        long sum = 0
        for (int i = 0; i < bytes.length; i += 2) {
            sum += ((bytes[i] & 0xff) << 8) | (i + 1 < bytes.length ? bytes[i + 1] & 0xff : 0)
        }
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16)
        }
        sum as int
    }

    def "a gratuitous ARP request for the VIP arrives in B as a broadcast from A's MAC"() {
        given:
        def s = capture(Sys.ETH_P_ARP)
        def vip = (Inet4Address) InetAddress.getByName("10.${hosts.net}.0.100")
        def macA = TwoHosts.mac(hosts.nsA, hosts.ifA)

        when:
        advertiser.gratuitousArp(hosts.ifA, vip)
        def frame = firstFrame(s) { byte[] f -> f.length >= 42 && f[28..31] == vip.address as List }

        then:
        frame != null
        frame[0..5] == [-1, -1, -1, -1, -1, -1] as byte[]
        frame[6..11] == macA as List
        frame[12..13] == [0x08, 0x06] as byte[]
        frame[14..21] == [0, 1, 8, 0, 6, 4, 0, 1] as byte[]  // Ethernet/IPv4, request
        frame[22..27] == macA as List                       // sender hardware address
        frame[28..31] == vip.address as List                // sender protocol address
        frame[32..37] == [0, 0, 0, 0, 0, 0] as byte[]       // target hardware address
        frame[38..41] == vip.address as List                // target protocol address

        cleanup:
        s?.close()
    }

    def "an unsolicited neighbour advert arrives in B for ff02::1 with hop limit 255, Override and A's MAC"() {
        given:
        def s = capture(Sys.ETH_P_IPV6)
        def vip = (Inet6Address) InetAddress.getByName('2001:db8::100')
        def macA = TwoHosts.mac(hosts.nsA, hosts.ifA)
        def llA = TwoHosts.linkLocal(hosts.nsA, hosts.ifA)

        when:
        advertiser.unsolicitedNeighbourAdvert(hosts.ifA, vip)
        def frame = firstFrame(s) { byte[] f -> f.length >= 86 && f[20] == 58 && (f[54] & 0xff) == 136 }

        then:
        frame != null
        frame[0..5] == [0x33, 0x33, 0, 0, 0, 1] as byte[]
        frame[6..11] == macA as List
        (frame[21] & 0xff) == 255                                      // hop limit
        frame[22..37] == llA.address as List                           // source: A's link-local
        frame[38..53] == InetAddress.getByName('ff02::1').address as List
        def icmp = frame[54..85] as byte[]
        icmp[0..1] == [136 as byte, 0] as byte[]
        icmp[4] == 0x20 as byte                                        // Override; Router, Solicited clear
        icmp[8..23] == vip.address as List
        icmp[24..25] == [2, 1] as byte[]                               // target link-layer address option
        icmp[26..31] == macA as List
        icmp6Sum(llA.address, InetAddress.getByName('ff02::1').address, icmp) == 0xffff

        cleanup:
        s?.close()
    }

    def "an unknown interface is ENODEV"() {
        when:
        advertiser.gratuitousArp('nosuchif0', (Inet4Address) InetAddress.getByName('10.0.0.1'))

        then:
        def e = thrown(KernelException)
        e.call() == 'RTM_GETLINK'
        e.errno() == 19
        e.message == 'RTM_GETLINK: No such device: nosuchif0 (errno 19)'
    }
}
