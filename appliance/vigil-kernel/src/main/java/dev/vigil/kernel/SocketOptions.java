package dev.vigil.kernel;

/**
 * Socket options a health checker's socket needs and Java's socket APIs do not offer, set on a
 * socket the caller already opened (a Netty channel's descriptor) before it binds or connects.
 * keepalived's checkers set the same three (check_api.c, layer4.c): the packet mark
 * ({@code fwmark}), the interface ({@code bind_if}) and, for {@code UDP_CHECK}, the extended
 * error queue.
 *
 * <p>Each call is one {@code setsockopt} on the calling thread: it neither blocks nor keeps the
 * descriptor, whose owner stays responsible for closing it. A call that fails throws a
 * {@link KernelException} naming the option and the kernel's errno, and leaves the socket as it
 * was; calling one twice with the same value is harmless.
 */
public interface SocketOptions {

    /**
     * {@code SO_MARK} (socket(7)): every packet the socket sends carries {@code mark}, for policy
     * routing ({@code ip rule fwmark}) and firewall rules ({@code meta mark}). Needs
     * {@code CAP_NET_ADMIN}.
     */
    void setMark(int fd, int mark) throws KernelException;

    /**
     * {@code SO_BINDTODEVICE} (socket(7)): the socket sends and receives only through interface
     * {@code ifname}; its route is looked up among the routes out of that interface. Fails with
     * {@code ENODEV} when no such interface exists.
     */
    void bindToDevice(int fd, String ifname) throws KernelException;

    /**
     * {@code IP_RECVERR} (ip(7)), and {@code IPV6_RECVERR} (ipv6(7)) on an IPv6 socket: ICMP errors
     * about the socket's peer are queued and reported on its next receive or send. Without it a
     * connected UDP socket reports only port unreachable (RFC 1122 §4.1.3.3) and ignores host and
     * network unreachable, which the kernel counts as soft errors.
     */
    void receiveErrors(int fd) throws KernelException;
}
