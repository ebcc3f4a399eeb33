package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.NeighbourAdvertiser;

/**
 * {@link NeighbourAdvertiser} sending gratuitous ARP as Ethernet frames over an AF_PACKET socket
 * and unsolicited neighbour advertisements over a raw ICMPv6 socket (the kernel fills in the
 * IPv6 header and the ICMPv6 checksum). Interface names are resolved, and the MAC read, through
 * rtnetlink on each call, so a changed MAC is picked up. All sockets belong to the network
 * namespace of the constructing thread.
 */
public final class PacketNeighbourAdvertiser implements NeighbourAdvertiser, AutoCloseable {
    static final byte[] BROADCAST_MAC = {-1, -1, -1, -1, -1, -1};
    static final Inet6Address ALL_NODES = v6("ff02::1");
    static final int ARP_FRAME_LENGTH = 42;
    static final int NA_LENGTH = 32;
    private static final int ICMPV6_NEIGHBOUR_ADVERT = 136;
    private static final int NA_FLAG_OVERRIDE = 0x20;
    private static final int ND_OPT_TARGET_LINK_ADDRESS = 2;

    private final RtNetlink rtnl;
    private final NativeSocket packet;
    private final NativeSocket icmp6;

    /** Opens the rtnetlink, packet and ICMPv6 sockets in the calling thread's namespace. */
    public PacketNeighbourAdvertiser() throws KernelException {
        RtNetlink r = new RtNetlink("rtnetlink link lookups for neighbour adverts");
        NativeSocket p = null;
        NativeSocket i = null;
        try {
            // Protocol 0: the socket receives nothing and only sends.
            p = NativeSocket.open(Sys.AF_PACKET, Sys.SOCK_RAW, 0, "ARP packet socket");
            i = NativeSocket.open(Sys.AF_INET6, Sys.SOCK_RAW, Sys.IPPROTO_ICMPV6, "ICMPv6 neighbour advert socket");
            ByteBuffer blockAll = Sys.buffer(32);
            for (int k = 0; k < 32; k += 4) {
                blockAll.putInt(k, -1);
            }
            i.set(Sys.IPPROTO_ICMPV6, Sys.ICMP6_FILTER, "ICMP6_FILTER block all", blockAll);
            // RFC 4861 §7.1.2: neighbour discovery messages carry hop limit 255.
            i.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", 255);
            i.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", 255);
        } catch (KernelException e) {
            r.close();
            if (p != null) {
                p.close();
            }
            if (i != null) {
                i.close();
            }
            throw e;
        }
        this.rtnl = r;
        this.packet = p;
        this.icmp6 = i;
    }

    @Override
    public void gratuitousArp(String ifname, Inet4Address address) throws KernelException {
        LinkInfo link = ethernet(ifname, "gratuitous ARP");
        byte[] frame = arpFrame(link.mac(), address);
        packet.sendTo(Sys.buffer(frame), frame.length, Sys.sockaddrLl(Sys.ETH_P_ARP, link.index(), BROADCAST_MAC),
                "gratuitous ARP for " + address.getHostAddress());
    }

    @Override
    public void unsolicitedNeighbourAdvert(String ifname, Inet6Address address) throws KernelException {
        LinkInfo link = ethernet(ifname, "neighbour advert");
        byte[] message = neighbourAdvert(link.mac(), address);
        icmp6.sendTo(Sys.buffer(message), message.length, Sys.sockaddrIn6(ALL_NODES, link.index()),
                "neighbour advert for " + address.getHostAddress() + " on " + ifname);
    }

    private LinkInfo ethernet(String ifname, String what) throws KernelException {
        LinkInfo link = rtnl.link(ifname);
        if (link.mac().length != 6) {
            throw new KernelException(what, 0, ifname + " has a " + link.mac().length
                    + "-byte hardware address (expected: 6, Ethernet)");
        }
        return link;
    }

    /**
     * A broadcast Ethernet frame carrying an ARP request (RFC 826) in the gratuitous form of
     * RFC 5227 §3: sender and target protocol address both {@code address}, target hardware
     * address zero.
     */
    static byte[] arpFrame(byte[] mac, Inet4Address address) {
        ByteBuffer b = ByteBuffer.allocate(ARP_FRAME_LENGTH).order(ByteOrder.BIG_ENDIAN);
        b.put(BROADCAST_MAC).put(mac).putShort((short) Sys.ETH_P_ARP);
        b.putShort((short) Sys.ARPHRD_ETHER)   // hardware type
                .putShort((short) 0x0800)      // protocol type IPv4
                .put((byte) 6).put((byte) 4)   // address lengths
                .putShort((short) 1)           // op: request
                .put(mac).put(address.getAddress())
                .put(new byte[6]).put(address.getAddress());
        return b.array();
    }

    /**
     * An ICMPv6 neighbour advertisement (RFC 4861 §4.4) as sent unsolicited (§7.2.6): Override
     * set, Solicited clear, Router clear, target link-layer address option with {@code mac}. The
     * checksum is left zero for the kernel to fill in.
     */
    static byte[] neighbourAdvert(byte[] mac, Inet6Address target) {
        ByteBuffer b = ByteBuffer.allocate(NA_LENGTH).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) ICMPV6_NEIGHBOUR_ADVERT).put((byte) 0).putShort((short) 0);
        b.put((byte) NA_FLAG_OVERRIDE).put(new byte[3]);
        b.put(target.getAddress());
        b.put((byte) ND_OPT_TARGET_LINK_ADDRESS).put((byte) 1).put(mac);
        return b.array();
    }

    private static Inet6Address v6(String literal) {
        try {
            return (Inet6Address) InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public void close() {
        packet.close();
        icmp6.close();
        rtnl.close();
    }
}
