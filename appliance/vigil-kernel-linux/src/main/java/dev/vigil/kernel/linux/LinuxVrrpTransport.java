package dev.vigil.kernel.linux;

import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VrrpChannel;
import dev.vigil.kernel.VrrpTransport;

/**
 * {@link VrrpTransport} over raw IP sockets for protocol 112. Each channel has a send socket
 * bound to the source address and a receive socket bound to the interface only (a raw socket
 * bound to an address would see nothing sent to the group). Sockets are created in the network
 * namespace of the thread calling {@link #open}.
 */
public final class LinuxVrrpTransport implements VrrpTransport, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LinuxVrrpTransport.class.getName());

    private final NetlinkAddressManager addresses;
    private final boolean ownsAddresses;
    private final Consumer<KernelException> errorSink;

    /** Uses its own rtnetlink socket (calling thread's namespace); receive errors are logged. */
    public LinuxVrrpTransport() throws KernelException {
        this(new NetlinkAddressManager(), true, e -> LOG.log(Level.ERROR, e.getMessage(), e));
    }

    /**
     * @param addresses looks up interface indexes and default source addresses
     * @param errorSink told of every receive failure (after it is counted); must not block
     */
    public LinuxVrrpTransport(NetlinkAddressManager addresses, Consumer<KernelException> errorSink) {
        this(addresses, false, errorSink);
    }

    private LinuxVrrpTransport(NetlinkAddressManager addresses, boolean owns, Consumer<KernelException> errorSink) {
        this.addresses = addresses;
        this.ownsAddresses = owns;
        this.errorSink = errorSink;
    }

    @Override
    public LinuxVrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress multicastGroup,
                                 Runnable readable) throws KernelException {
        return open(ifname, ifname, family, source, multicastGroup, readable);
    }

    /**
     * A channel whose sockets are bound to {@code ifname} (adverts leave with its MAC) and whose
     * default source is {@code addressIfname}'s primary IPv4 address, or its IPv6 link-local one,
     * which must then be on {@code ifname} too (the kernel binds link-local addresses per interface).
     */
    @Override
    public LinuxVrrpChannel open(String ifname, String addressIfname, AddressFamily family, InetAddress source,
                                 InetAddress multicastGroup, Runnable readable) throws KernelException {
        if (source != null && AddressFamily.of(source) != family) {
            throw new IllegalArgumentException("source: " + source.getHostAddress() + " (expected: " + family + ")");
        }
        if (multicastGroup != null && (AddressFamily.of(multicastGroup) != family
                || !multicastGroup.isMulticastAddress())) {
            throw new IllegalArgumentException("multicastGroup: " + multicastGroup.getHostAddress()
                    + " (expected: " + family + " multicast)");
        }
        int ifindex = addresses.ifindex(ifname);
        InetAddress src = source != null ? source : defaultSource(addressIfname, family);
        NativeSocket send = null;
        NativeSocket receive = null;
        try {
            if (family == AddressFamily.INET) {
                send = openSend4(ifname, ifindex, (Inet4Address) src);
                receive = openReceive4(ifname, ifindex, (Inet4Address) multicastGroup);
            } else {
                send = openSend6(ifname, ifindex, (Inet6Address) src);
                receive = openReceive6(ifname, ifindex, (Inet6Address) multicastGroup);
            }
            return new LinuxVrrpChannel(ifname, ifindex, family, src, send, receive, readable, errorSink);
        } catch (KernelException | RuntimeException e) {
            if (send != null) {
                send.close();
            }
            if (receive != null) {
                receive.close();
            }
            throw e;
        }
    }

    private InetAddress defaultSource(String ifname, AddressFamily family) throws KernelException {
        if (family == AddressFamily.INET) {
            return addresses.primaryIpv4(ifname).orElseThrow(() -> new KernelException("RTM_GETADDR",
                    Sys.EADDRNOTAVAIL, "no primary IPv4 address on " + ifname));
        }
        return addresses.linkLocal(ifname).orElseThrow(() -> new KernelException("RTM_GETADDR",
                Sys.EADDRNOTAVAIL, "no IPv6 link-local address on " + ifname));
    }

    /** {@code struct ip_mreqn}: group, local address 0, interface index. */
    private static ByteBuffer mreqn(Inet4Address group, int ifindex) {
        ByteBuffer b = Sys.buffer(12);
        if (group != null) {
            b.put(0, group.getAddress());
        }
        b.putInt(8, ifindex);
        return b;
    }

    /** Socket options applied to a freshly opened VRRP socket. */
    private interface Setup {
        void apply(NativeSocket s) throws KernelException;
    }

    /**
     * A raw protocol-112 socket bound to {@code ifname} and configured by {@code setup}; closed
     * again if any step fails.
     */
    private static NativeSocket open(int family, String what, String ifname, Setup setup) throws KernelException {
        NativeSocket s = NativeSocket.open(family, Sys.SOCK_RAW, Sys.IPPROTO_VRRP, what + " on " + ifname);
        try {
            s.bindToDevice(ifname);
            setup.apply(s);
            return s;
        } catch (KernelException e) {
            s.close();
            throw e;
        }
    }

    private static NativeSocket openSend4(String ifname, int ifindex, Inet4Address src) throws KernelException {
        return open(Sys.AF_INET, "VRRP IPv4 send socket", ifname, s -> {
            s.bind(Sys.sockaddrIn(src), "source " + src.getHostAddress());
            // RFC 5798 §5.1.1.3: TTL 255, for multicast and unicast alike.
            s.set(Sys.IPPROTO_IP, Sys.IP_MULTICAST_IF, "IP_MULTICAST_IF", mreqn(null, ifindex));
            s.setInt(Sys.IPPROTO_IP, Sys.IP_MULTICAST_TTL, "IP_MULTICAST_TTL", 255);
            s.setInt(Sys.IPPROTO_IP, Sys.IP_TTL, "IP_TTL", 255);
            s.setInt(Sys.IPPROTO_IP, Sys.IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", 0);
            s.setInt(Sys.IPPROTO_IP, Sys.IP_TOS, "IP_TOS", 0xc0);
            // Send-only: keep the queue of protocol-112 packets addressed to the source minimal.
            s.setInt(Sys.SOL_SOCKET, Sys.SO_RCVBUF, "SO_RCVBUF", 0);
        });
    }

    private static NativeSocket openReceive4(String ifname, int ifindex, Inet4Address group) throws KernelException {
        return open(Sys.AF_INET, "VRRP IPv4 receive socket", ifname, s -> {
            s.setInt(Sys.IPPROTO_IP, Sys.IP_MULTICAST_ALL, "IP_MULTICAST_ALL", 0);
            // The master down timer runs from an advert's arrival (RFC 5798 §6.4.2), so the kernel's time.
            s.setInt(Sys.SOL_SOCKET, Sys.SO_TIMESTAMPNS, "SO_TIMESTAMPNS", 1);
            if (group != null) {
                s.set(Sys.IPPROTO_IP, Sys.IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP " + group.getHostAddress(),
                        mreqn(group, ifindex));
            }
        });
    }

    private static NativeSocket openSend6(String ifname, int ifindex, Inet6Address src) throws KernelException {
        return open(Sys.AF_INET6, "VRRP IPv6 send socket", ifname, s -> {
            s.bind(Sys.sockaddr(src, ifindex), "source " + src.getHostAddress());
            // RFC 5798 §5.2.8: the kernel computes the checksum over the IPv6 pseudo-header.
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_CHECKSUM, "IPV6_CHECKSUM", 6);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF", ifindex);
            // RFC 5798 §5.1.2.3: hop limit 255.
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", 255);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", 255);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP", 0);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_TCLASS, "IPV6_TCLASS", 0xc0);
            s.setInt(Sys.SOL_SOCKET, Sys.SO_RCVBUF, "SO_RCVBUF", 0);
        });
    }

    private static NativeSocket openReceive6(String ifname, int ifindex, Inet6Address group) throws KernelException {
        return open(Sys.AF_INET6, "VRRP IPv6 receive socket", ifname, s -> {
            // The kernel verifies the checksum and drops bad packets (RFC 5798 §7.1 check 3).
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_CHECKSUM, "IPV6_CHECKSUM", 6);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT", 1);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", 1);
            s.setInt(Sys.IPPROTO_IPV6, Sys.IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL", 0);
            s.setInt(Sys.SOL_SOCKET, Sys.SO_TIMESTAMPNS, "SO_TIMESTAMPNS", 1);
            if (group != null) {
                ByteBuffer mreq = Sys.buffer(20);
                mreq.put(0, group.getAddress());
                mreq.putInt(16, ifindex);
                s.set(Sys.IPPROTO_IPV6, Sys.IPV6_ADD_MEMBERSHIP, "IPV6_ADD_MEMBERSHIP " + group.getHostAddress(),
                        mreq);
            }
        });
    }

    /** Closes the rtnetlink socket if this transport opened it; open channels stay usable. */
    @Override
    public void close() {
        if (ownsAddresses) {
            addresses.close();
        }
    }
}
