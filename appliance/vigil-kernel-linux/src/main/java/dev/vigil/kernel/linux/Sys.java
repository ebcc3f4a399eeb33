package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.vigil.kernel.KernelException;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/** Constants (x86_64 Linux), errno handling and socket-address encoders shared by the adapters. */
final class Sys {
    static final LibC C = LibC.INSTANCE;
    private static final Runtime RUNTIME = Runtime.getRuntime(C);

    static final int AF_UNSPEC = 0;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int AF_NETLINK = 16;
    static final int AF_PACKET = 17;

    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;

    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_BINDTODEVICE = 25;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_MARK = 36;
    static final int SO_DOMAIN = 39;
    /** socket(7): receive time stamps as struct timespec; the control message type is the same number. */
    static final int SO_TIMESTAMPNS = 35;
    static final int SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
    static final int CLOCK_REALTIME = 0;

    static final int IPPROTO_IP = 0;
    static final int IP_TOS = 1;
    static final int IP_TTL = 2;
    static final int IP_RECVERR = 11;
    static final int IP_MULTICAST_IF = 32;
    static final int IP_MULTICAST_TTL = 33;
    static final int IP_MULTICAST_LOOP = 34;
    static final int IP_ADD_MEMBERSHIP = 35;
    static final int IP_MULTICAST_ALL = 49;

    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_CHECKSUM = 7;
    static final int IPV6_UNICAST_HOPS = 16;
    static final int IPV6_MULTICAST_IF = 17;
    static final int IPV6_MULTICAST_HOPS = 18;
    static final int IPV6_MULTICAST_LOOP = 19;
    static final int IPV6_ADD_MEMBERSHIP = 20;
    static final int IPV6_RECVERR = 25;
    static final int IPV6_MULTICAST_ALL = 29;
    static final int IPV6_RECVPKTINFO = 49;
    static final int IPV6_PKTINFO = 50;
    static final int IPV6_RECVHOPLIMIT = 51;
    static final int IPV6_HOPLIMIT = 52;
    static final int IPV6_TCLASS = 67;

    static final int IPPROTO_ICMPV6 = 58;
    static final int ICMP6_FILTER = 1;
    static final int IPPROTO_VRRP = 112;

    static final int ETH_P_ARP = 0x0806;
    static final int ETH_P_IPV6 = 0x86DD;
    static final int ARPHRD_ETHER = 1;

    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_TRUNC = 0x20;

    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;

    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENODEV = 19;
    static final int ENXIO = 6;
    static final int EINVAL = 22;
    static final int EEXIST = 17;
    static final int EADDRNOTAVAIL = 99;
    static final int ENOBUFS = 105;

    private Sys() {
    }

    /** errno of the last native call made by this thread. */
    static int errno() {
        return RUNTIME.getLastError();
    }

    static String strerror(int errno) {
        String text = C.strerror(errno);
        return text != null ? text : "errno " + errno;
    }

    /** The failure of {@code call} with the given errno, described with {@code context}. */
    static KernelException failure(String call, int errno, String context) {
        return new KernelException(call, errno, strerror(errno) + (context.isEmpty() ? "" : ": " + context));
    }

    /** Returns {@code rc} when non-negative; otherwise throws with the thread's errno. */
    static long check(String call, long rc, String context) throws KernelException {
        if (rc < 0) {
            throw failure(call, errno(), context);
        }
        return rc;
    }

    /** A zeroed direct buffer in native order. */
    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
    }

    /** A direct native-order buffer holding {@code bytes}, position 0. */
    static ByteBuffer buffer(byte[] bytes) {
        ByteBuffer b = buffer(bytes.length);
        b.put(0, bytes);
        return b;
    }

    /** The native address of a direct buffer (for structures that point at other buffers). */
    static long address(ByteBuffer direct) {
        return Pointer.wrap(RUNTIME, direct).address();
    }

    static ByteBuffer intValue(int value) {
        ByteBuffer b = buffer(4);
        b.putInt(0, value);
        return b;
    }

    /** {@code struct sockaddr_in} (16 bytes) with port 0. */
    static ByteBuffer sockaddrIn(Inet4Address address) {
        ByteBuffer b = buffer(16);
        b.putShort(0, (short) AF_INET);
        b.put(4, address.getAddress());
        return b;
    }

    /** {@code struct sockaddr_in6} (28 bytes) with port 0; {@code scopeId} is the interface index or 0. */
    static ByteBuffer sockaddrIn6(Inet6Address address, int scopeId) {
        ByteBuffer b = buffer(28);
        b.putShort(0, (short) AF_INET6);
        b.put(8, address.getAddress());
        b.putInt(24, scopeId);
        return b;
    }

    /** {@code sockaddr_in} or {@code sockaddr_in6}; the scope id is used for link-local IPv6 only. */
    static ByteBuffer sockaddr(InetAddress address, int ifindex) {
        if (address instanceof Inet4Address v4) {
            return sockaddrIn(v4);
        }
        Inet6Address v6 = (Inet6Address) address;
        boolean linkScoped = v6.isLinkLocalAddress() || v6.isMCLinkLocal() || v6.isMCNodeLocal();
        return sockaddrIn6(v6, linkScoped ? ifindex : 0);
    }

    /** {@code struct sockaddr_nl} (12 bytes): port id 0 (kernel assigns) and the given group mask. */
    static ByteBuffer sockaddrNl(int groups) {
        ByteBuffer b = buffer(12);
        b.putShort(0, (short) AF_NETLINK);
        b.putInt(8, groups);
        return b;
    }

    /** {@code struct sockaddr_ll} (20 bytes) for sending to {@code mac} out of {@code ifindex}. */
    static ByteBuffer sockaddrLl(int ethertype, int ifindex, byte[] mac) {
        ByteBuffer b = buffer(20);
        b.putShort(0, (short) AF_PACKET);
        b.putShort(2, htons(ethertype));
        b.putInt(4, ifindex);
        b.putShort(8, (short) ARPHRD_ETHER);
        b.put(11, (byte) mac.length);
        b.put(12, mac);
        return b;
    }

    /** A 16-bit value in network order, as a native short. */
    static short htons(int value) {
        short s = (short) value;
        return ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? s : Short.reverseBytes(s);
    }

    /** Reads {@code length} bytes at {@code offset} of a buffer without moving its position. */
    static byte[] bytes(ByteBuffer b, int offset, int length) {
        byte[] out = new byte[length];
        b.get(offset, out);
        return out;
    }
}
