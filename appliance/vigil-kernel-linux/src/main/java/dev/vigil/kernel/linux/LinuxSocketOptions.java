package dev.vigil.kernel.linux;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.SocketOptions;

/**
 * {@link SocketOptions} through libc's {@code setsockopt} on the caller's descriptor. The levels
 * and numbers are those of the kernel's uapi headers: {@code SOL_SOCKET} 1 with {@code SO_MARK}
 * 36 and {@code SO_BINDTODEVICE} 25 (asm-generic/socket.h), {@code SOL_IP} 0 with
 * {@code IP_RECVERR} 11 (linux/in.h), {@code SOL_IPV6} 41 with {@code IPV6_RECVERR} 25
 * (linux/in6.h).
 */
public final class LinuxSocketOptions implements SocketOptions {

    /** The one instance: it keeps no state. */
    public static final LinuxSocketOptions INSTANCE = new LinuxSocketOptions();

    private LinuxSocketOptions() {
    }

    @Override
    public void setMark(int fd, int mark) throws KernelException {
        set(fd, Sys.SOL_SOCKET, Sys.SO_MARK, Sys.intValue(mark), "SO_MARK " + Integer.toUnsignedString(mark));
    }

    @Override
    public void bindToDevice(int fd, String ifname) throws KernelException {
        // socket(7): the name is a NUL-terminated string of at most IFNAMSIZ (16) bytes.
        byte[] name = (ifname + "\0").getBytes(StandardCharsets.US_ASCII);
        if (ifname.isEmpty() || name.length > 16) {
            throw new KernelException("setsockopt", 0, "SO_BINDTODEVICE \"" + ifname + "\": not an interface name (1-15 characters)");
        }
        set(fd, Sys.SOL_SOCKET, Sys.SO_BINDTODEVICE, Sys.buffer(name), "SO_BINDTODEVICE " + ifname);
    }

    @Override
    public void receiveErrors(int fd) throws KernelException {
        // An IPv6 socket (Netty opens dual-stack ones) carries IPv4 to v4-mapped peers: the IPv4
        // errors of those follow IP_RECVERR, which the kernel accepts at SOL_IP on an IPv6 UDP
        // socket too (ipv6_setsockopt hands SOL_IP to the UDP protocol), the IPv6 ones IPV6_RECVERR.
        set(fd, Sys.IPPROTO_IP, Sys.IP_RECVERR, Sys.intValue(1), "IP_RECVERR");
        if (domain(fd) == Sys.AF_INET6) {
            set(fd, Sys.IPPROTO_IPV6, Sys.IPV6_RECVERR, Sys.intValue(1), "IPV6_RECVERR");
        }
    }

    /** {@code SO_DOMAIN}: the socket's address family. */
    static int domain(int fd) throws KernelException {
        return get(fd, Sys.SOL_SOCKET, Sys.SO_DOMAIN, "SO_DOMAIN");
    }

    /** An int option's value, for the specs' read-back. */
    static int get(int fd, int level, int option, String what) throws KernelException {
        ByteBuffer value = Sys.buffer(4);
        ByteBuffer length = Sys.intValue(4);
        Sys.check("getsockopt", Sys.C.getsockopt(fd, level, option, value, length), what + " of descriptor " + fd);
        return value.getInt(0);
    }

    private static void set(int fd, int level, int option, ByteBuffer value, String what) throws KernelException {
        Sys.check("setsockopt", Sys.C.setsockopt(fd, level, option, value, value.capacity()), what + " on descriptor " + fd);
    }
}
