package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.VirtualAddress;

/**
 * rtnetlink messages for links and addresses ({@code linux/rtnetlink.h}, {@code if_link.h},
 * {@code if_addr.h}): encoders for requests, decoders for replies and notifications, and the
 * request operations over one {@link NetlinkSocket}.
 */
final class RtNetlink implements AutoCloseable {
    static final int RTM_NEWLINK = 16;
    static final int RTM_DELLINK = 17;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_DELADDR = 21;
    static final int RTM_GETADDR = 22;

    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_LINK = 5;
    static final int IFLA_LINKINFO = 18;
    static final int IFLA_INFO_KIND = 1;
    static final int IFLA_INFO_DATA = 2;
    static final int IFLA_MACVLAN_MODE = 1;

    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_LABEL = 3;
    static final int IFA_BROADCAST = 4;
    static final int IFA_FLAGS = 8;

    static final int IFA_F_SECONDARY = 0x01;
    static final int IFA_F_NODAD = 0x02;

    static final int IFF_UP = 0x1;
    static final int IFF_RUNNING = 0x40;

    static final int RTMGRP_LINK = 0x1;

    static final int IFINFOMSG_LENGTH = 16;
    static final int IFADDRMSG_LENGTH = 8;

    static final int SCOPE_LINK = 253;

    private final NetlinkSocket socket;

    RtNetlink(String description) throws KernelException {
        this.socket = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, 0, description);
    }

    /** All links (RTM_GETLINK dump). */
    List<LinkInfo> links() throws KernelException {
        List<LinkInfo> out = new ArrayList<>();
        for (Netlink.Message m : socket.request("RTM_GETLINK", linkDump(), "link dump")) {
            if (m.type() == RTM_NEWLINK) {
                out.add(decodeLink(m));
            }
        }
        return out;
    }

    /** One link by name; ENODEV when absent. */
    LinkInfo link(String ifname) throws KernelException {
        for (Netlink.Message m : socket.request("RTM_GETLINK", linkByName(ifname), ifname)) {
            if (m.type() == RTM_NEWLINK) {
                return decodeLink(m);
            }
        }
        throw new KernelException("RTM_GETLINK", Sys.ENODEV, Sys.strerror(Sys.ENODEV) + ": " + ifname);
    }

    /** All addresses of both families (RTM_GETADDR dump), with interface names filled in. */
    List<InterfaceAddress> addresses() throws KernelException {
        Map<Integer, String> names = new HashMap<>();
        for (LinkInfo l : links()) {
            names.put(l.index(), l.name());
        }
        List<InterfaceAddress> out = new ArrayList<>();
        for (Netlink.Message m : socket.request("RTM_GETADDR", addressDump(), "address dump")) {
            if (m.type() == RTM_NEWADDR) {
                out.add(decodeAddress(m, names));
            }
        }
        return out;
    }

    /** RTM_NEWADDR (create, exclusive) or RTM_DELADDR, acknowledged; errors carry the kernel's text. */
    void changeAddress(boolean add, VirtualAddress address, int ifindex) throws KernelException {
        socket.request(add ? "RTM_NEWADDR" : "RTM_DELADDR", addressRequest(add, address, ifindex),
                address.toString());
    }

    /** RTM_NEWLINK creating a macvlan (create, exclusive), acknowledged. */
    void createMacvlan(String name, int lowerIndex, byte[] mac, int mode) throws KernelException {
        socket.request("RTM_NEWLINK", macvlanRequest(name, lowerIndex, mac, mode), "macvlan " + name);
    }

    /** RTM_NEWLINK setting IFF_UP on interface {@code ifindex}, acknowledged. */
    void setUp(int ifindex, String name) throws KernelException {
        socket.request("RTM_NEWLINK", new Netlink.Builder(RTM_NEWLINK, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
                .u8(Sys.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(IFF_UP).u32(IFF_UP), name + " up");
    }

    /** RTM_DELLINK of interface {@code ifindex}, acknowledged. */
    void deleteLink(int ifindex, String name) throws KernelException {
        socket.request("RTM_DELLINK", new Netlink.Builder(RTM_DELLINK, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
                .u8(Sys.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(0).u32(0), name);
    }

    /**
     * {@code ifinfomsg} with no flags (the link is made down), IFLA_LINK the lower device, IFLA_IFNAME, IFLA_ADDRESS and
     * IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { IFLA_MACVLAN_MODE } }
     * ({@code linux/if_link.h}).
     */
    static Netlink.Builder macvlanRequest(String name, int lowerIndex, byte[] mac, int mode) {
        return new Netlink.Builder(RTM_NEWLINK, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK | Netlink.NLM_F_CREATE
                | Netlink.NLM_F_EXCL)
                .u8(Sys.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attributeU32(IFLA_LINK, lowerIndex)
                .attributeString(IFLA_IFNAME, name)
                .attribute(IFLA_ADDRESS, mac)
                .beginNested(IFLA_LINKINFO)
                .attributeString(IFLA_INFO_KIND, "macvlan")
                .beginNested(IFLA_INFO_DATA)
                .attributeU32(IFLA_MACVLAN_MODE, mode)
                .endNested()
                .endNested();
    }

    static Netlink.Builder linkDump() {
        return new Netlink.Builder(RTM_GETLINK, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP)
                .u8(Sys.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0);
    }

    static Netlink.Builder linkByName(String ifname) {
        return new Netlink.Builder(RTM_GETLINK, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
                .u8(Sys.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attributeString(IFLA_IFNAME, ifname);
    }

    static Netlink.Builder addressDump() {
        return new Netlink.Builder(RTM_GETADDR, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP)
                .u8(Sys.AF_UNSPEC).u8(0).u8(0).u8(0).u32(0);
    }

    /**
     * {@code ifaddrmsg} plus IFA_LOCAL and IFA_ADDRESS (both the address: no peer), IFA_LABEL and
     * IFA_BROADCAST for IPv4 when set, and IFA_F_NODAD for IPv6 so a virtual address is usable at
     * once (RFC 4862 §5.4 duplicate detection would otherwise hold it tentative).
     */
    static Netlink.Builder addressRequest(boolean add, VirtualAddress address, int ifindex) {
        boolean v4 = address.address() instanceof Inet4Address;
        int flags = Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK
                | (add ? Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL : 0);
        int ifaFlags = v4 || !add ? 0 : IFA_F_NODAD;
        Netlink.Builder b = new Netlink.Builder(add ? RTM_NEWADDR : RTM_DELADDR, flags)
                .u8(v4 ? Sys.AF_INET : Sys.AF_INET6)
                .u8(address.prefixLength())
                .u8(ifaFlags)
                .u8(address.scope())
                .u32(ifindex);
        byte[] raw = address.address().getAddress();
        b.attribute(IFA_LOCAL, raw).attribute(IFA_ADDRESS, raw);
        if (v4 && add && address.label() != null) {
            b.attributeString(IFA_LABEL, address.label());
        }
        if (v4 && add && address.broadcast() != null) {
            b.attribute(IFA_BROADCAST, address.broadcast().getAddress());
        }
        if (!v4 && add) {
            b.attributeU32(IFA_FLAGS, ifaFlags);
        }
        return b;
    }

    /** RTM_NEWLINK / RTM_DELLINK to {@link LinkInfo}; up = IFF_UP and IFF_RUNNING. */
    static LinkInfo decodeLink(Netlink.Message m) {
        if (m.payload().length < IFINFOMSG_LENGTH) {
            throw new IllegalArgumentException("ifinfomsg: " + m.payload().length + " bytes (expected: >= "
                    + IFINFOMSG_LENGTH + ")");
        }
        int index = m.body().getInt(4);
        int flags = m.body().getInt(8);
        Netlink.Attributes attrs = m.attributes(IFINFOMSG_LENGTH);
        String name = attrs.string(IFLA_IFNAME);
        byte[] mac = attrs.bytes(IFLA_ADDRESS);
        boolean up = m.type() != RTM_DELLINK && (flags & IFF_UP) != 0 && (flags & IFF_RUNNING) != 0;
        return new LinkInfo(name, index, up, mac != null ? mac : new byte[0]);
    }

    /** RTM_NEWADDR to {@link InterfaceAddress}; the local address is IFA_LOCAL, else IFA_ADDRESS. */
    static InterfaceAddress decodeAddress(Netlink.Message m, Map<Integer, String> names) {
        if (m.payload().length < IFADDRMSG_LENGTH) {
            throw new IllegalArgumentException("ifaddrmsg: " + m.payload().length + " bytes (expected: >= "
                    + IFADDRMSG_LENGTH + ")");
        }
        var body = m.body();
        int family = Byte.toUnsignedInt(body.get(0));
        int prefix = Byte.toUnsignedInt(body.get(1));
        int flags = Byte.toUnsignedInt(body.get(2));
        int scope = Byte.toUnsignedInt(body.get(3));
        int index = body.getInt(4);
        Netlink.Attributes attrs = m.attributes(IFADDRMSG_LENGTH);
        flags = attrs.u32(IFA_FLAGS, flags);
        byte[] raw = attrs.has(IFA_LOCAL) ? attrs.bytes(IFA_LOCAL) : attrs.bytes(IFA_ADDRESS);
        InetAddress address;
        try {
            address = InetAddress.getByAddress(raw);
        } catch (UnknownHostException | NullPointerException e) {
            throw new IllegalArgumentException("ifaddrmsg for index " + index + ": no usable address attribute", e);
        }
        // IFA_F_SECONDARY shares its bit with IFA_F_TEMPORARY, which means something else for IPv6.
        boolean secondary = family == Sys.AF_INET && (flags & IFA_F_SECONDARY) != 0;
        return new InterfaceAddress(names.getOrDefault(index, ""), index, address, prefix, scope, secondary,
                attrs.string(IFA_LABEL));
    }

    NetlinkSocket socket() {
        return socket;
    }

    @Override
    public void close() {
        socket.close();
    }
}
