package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.NeighbourAdvertiser;
import dev.vigil.kernel.VirtualAddress;

/**
 * {@link NeighbourAdvertiser} sending gratuitous ARP as Ethernet frames over an AF_PACKET socket
 * and unsolicited neighbour advertisements over a raw ICMPv6 socket (the kernel fills in the
 * IPv6 header and the ICMPv6 checksum). Interface names are resolved, and the MAC read, through
 * rtnetlink once and then cached, so a take-over's burst costs no netlink round trip per frame;
 * {@link #linkChanged(LinkInfo)} (fed from link notifications) keeps the cache current, and a send
 * the kernel refuses for a vanished interface looks the name up again once. All sockets belong to
 * the network namespace of the constructing thread.
 */
public final class PacketNeighbourAdvertiser implements NeighbourAdvertiser, AutoCloseable {
    static final byte[] BROADCAST_MAC = {-1, -1, -1, -1, -1, -1};
    static final Inet6Address ALL_NODES = v6("ff02::1");
    static final int ARP_FRAME_LENGTH = 42;
    static final int NA_LENGTH = 32;
    private static final int ARP_SOCKADDR_LENGTH = 20;
    private static final int SOCKADDR_IN6_LENGTH = 28;
    private static final int ICMPV6_NEIGHBOUR_ADVERT = 136;
    private static final int NA_FLAG_OVERRIDE = 0x20;
    private static final int ND_OPT_TARGET_LINK_ADDRESS = 2;

    private final RtNetlink rtnl;
    private final NativeSocket packet;
    private final NativeSocket icmp6;
    private final Map<String, LinkInfo> links = new ConcurrentHashMap<>();

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
        try {
            sendArp(ethernet(ifname, "gratuitous ARP"), address);
        } catch (KernelException e) {
            if (!vanished(e)) {
                throw e;
            }
            links.remove(ifname);
            sendArp(ethernet(ifname, "gratuitous ARP"), address);
        }
    }

    @Override
    public void unsolicitedNeighbourAdvert(String ifname, Inet6Address address) throws KernelException {
        try {
            sendNa(ethernet(ifname, "neighbour advert"), address);
        } catch (KernelException e) {
            if (!vanished(e)) {
                throw e;
            }
            links.remove(ifname);
            sendNa(ethernet(ifname, "neighbour advert"), address);
        }
    }

    private void sendArp(LinkInfo link, Inet4Address address) throws KernelException {
        byte[] frame = arpFrame(link.mac(), address);
        packet.sendTo(Sys.buffer(frame), frame.length, Sys.sockaddrLl(Sys.ETH_P_ARP, link.index(), BROADCAST_MAC),
                ARP_SOCKADDR_LENGTH, () -> "gratuitous ARP for " + address.getHostAddress() + " on " + link.name());
    }

    private void sendNa(LinkInfo link, Inet6Address address) throws KernelException {
        byte[] message = neighbourAdvert(link.mac(), address);
        icmp6.sendTo(Sys.buffer(message), message.length, Sys.sockaddrIn6(ALL_NODES, link.index()),
                SOCKADDR_IN6_LENGTH, () -> "neighbour advert for " + address.getHostAddress() + " on " + link.name());
    }

    /** The interface the cached index named is gone (ENXIO from AF_PACKET, ENODEV from IPv6). */
    private static boolean vanished(KernelException e) {
        return e.errno() == Sys.ENXIO || e.errno() == Sys.ENODEV;
    }

    /**
     * Takes a link notification into the cache: the name now has this index and MAC, and no other
     * name has this index any more (a rename). Cheap; callable from any thread.
     */
    public void linkChanged(LinkInfo info) {
        if (info.name() == null) {
            return;
        }
        links.values().removeIf(l -> l.index() == info.index() && !l.name().equals(info.name()));
        links.put(info.name(), info);
    }

    /**
     * Runs the announcement path once per interface and address without anything reaching the
     * wire: the link is resolved (and cached), the ARP frame or neighbour advert built, and the
     * socket send made with an address the kernel refuses ({@code EINVAL}). Returns how many sends
     * the kernel refused as expected. An address whose interface does not exist (yet) or is not
     * Ethernet is skipped.
     */
    public int warmUp(Collection<VirtualAddress> addresses) {
        int refused = 0;
        for (VirtualAddress a : addresses) {
            LinkInfo link;
            try {
                link = ethernet(a.ifname(), "warm-up");
            } catch (KernelException e) {
                continue;
            }
            if (a.address() instanceof Inet4Address v4) {
                byte[] frame = arpFrame(link.mac(), v4);
                Sys.sockaddrLl(Sys.ETH_P_ARP, link.index(), BROADCAST_MAC);
                refused += packet.sendRefused(Sys.buffer(frame), frame.length) == Sys.EINVAL ? 1 : 0;
            } else if (a.address() instanceof Inet6Address v6) {
                byte[] message = neighbourAdvert(link.mac(), v6);
                Sys.sockaddrIn6(ALL_NODES, link.index());
                refused += icmp6.sendRefused(Sys.buffer(message), message.length) == Sys.EINVAL ? 1 : 0;
            }
        }
        return refused;
    }

    private LinkInfo ethernet(String ifname, String what) throws KernelException {
        LinkInfo link = links.get(ifname);
        if (link == null) {
            link = rtnl.link(ifname);
            links.put(ifname, link);
        }
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
