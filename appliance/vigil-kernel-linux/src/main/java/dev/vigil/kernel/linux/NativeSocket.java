package dev.vigil.kernel.linux;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import dev.vigil.kernel.KernelException;

/**
 * One socket file descriptor with checked option, bind, send and poll helpers. Every failure
 * becomes a {@link KernelException} naming the call, errno and what this socket is for.
 */
final class NativeSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NativeSocket.class.getName());

    private final int fd;
    private final String description;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ByteBuffer pollfd = Sys.buffer(8);

    private NativeSocket(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /** {@code socket(domain, type | SOCK_CLOEXEC, protocol)}; {@code description} appears in errors. */
    static NativeSocket open(int domain, int type, int protocol, String description) throws KernelException {
        int fd = (int) Sys.check("socket", Sys.C.socket(domain, type | Sys.SOCK_CLOEXEC, protocol), description);
        return new NativeSocket(fd, description);
    }

    int fd() {
        return fd;
    }

    String description() {
        return description;
    }

    void setInt(int level, int option, String optionName, int value) throws KernelException {
        set(level, option, optionName, Sys.intValue(value));
    }

    void set(int level, int option, String optionName, ByteBuffer value) throws KernelException {
        Sys.check("setsockopt", Sys.C.setsockopt(fd, level, option, value, value.capacity()),
                optionName + " on " + description);
    }

    int getInt(int level, int option, String optionName) throws KernelException {
        ByteBuffer value = Sys.buffer(4);
        ByteBuffer length = Sys.intValue(4);
        Sys.check("getsockopt", Sys.C.getsockopt(fd, level, option, value, length), optionName + " on " + description);
        return value.getInt(0);
    }

    /** {@code SO_BINDTODEVICE}: only traffic of {@code ifname} is received, and sent out of it. */
    void bindToDevice(String ifname) throws KernelException {
        byte[] name = (ifname + "\0").getBytes(StandardCharsets.US_ASCII);
        set(Sys.SOL_SOCKET, Sys.SO_BINDTODEVICE, "SO_BINDTODEVICE " + ifname, Sys.buffer(name));
    }

    void bind(ByteBuffer sockaddr, String what) throws KernelException {
        Sys.check("bind", Sys.C.bind(fd, sockaddr, sockaddr.capacity()), what + " for " + description);
    }

    /** Sends {@code length} bytes of {@code data} to {@code sockaddr}; a short send is an error. */
    void sendTo(ByteBuffer data, int length, ByteBuffer sockaddr, String what) throws KernelException {
        sendTo(data, length, sockaddr, sockaddr == null ? 0 : sockaddr.capacity(), () -> what);
    }

    /**
     * Sends {@code length} bytes of {@code data} to the first {@code sockaddrLength} bytes of
     * {@code sockaddr}; a short send is an error. {@code what} is only evaluated for the error
     * message, so a send that works builds no strings.
     */
    void sendTo(ByteBuffer data, int length, ByteBuffer sockaddr, int sockaddrLength, Supplier<String> what)
            throws KernelException {
        long rc = Sys.C.sendto(fd, data, length, 0, sockaddr, sockaddrLength);
        if (rc < 0) {
            throw Sys.failure("sendto", Sys.errno(), what.get() + " on " + description);
        }
        if (rc != length) {
            throw new KernelException("sendto", 0, "sent " + rc + " of " + length + " bytes: " + what.get()
                    + " on " + description);
        }
    }

    /**
     * Goes through the send path once with a socket address too short for any family, which the
     * kernel refuses with {@code EINVAL} before anything is built or sent (raw IPv4 and IPv6,
     * AF_PACKET). Returns the errno the kernel gave, 0 if the call unexpectedly succeeded.
     */
    int sendRefused(ByteBuffer data, int length) {
        try {
            sendTo(data, length, WARM_UP_SOCKADDR, 2, () -> "warm-up send");
            return 0;
        } catch (KernelException e) {
            return e.errno();
        }
    }

    /** Two bytes: shorter than any socket address, so {@link #sendRefused} cannot send. */
    private static final ByteBuffer WARM_UP_SOCKADDR = Sys.buffer(2);

    /**
     * Waits up to {@code timeoutMillis} for data. Returns {@code false} on timeout or signal
     * interruption; throws when poll fails or reports an error condition on the socket.
     */
    boolean awaitReadable(int timeoutMillis) throws KernelException {
        pollfd.putInt(0, fd);
        pollfd.putShort(4, Sys.POLLIN);
        pollfd.putShort(6, (short) 0);
        int rc = Sys.C.poll(pollfd, 1, timeoutMillis);
        if (rc < 0) {
            int errno = Sys.errno();
            if (errno == Sys.EINTR) {
                return false;
            }
            throw Sys.failure("poll", errno, description);
        }
        if (rc == 0) {
            return false;
        }
        short revents = pollfd.getShort(6);
        if ((revents & Sys.POLLNVAL) != 0) {
            throw new KernelException("poll", 0, "descriptor " + fd + " is not open: " + description);
        }
        return (revents & (Sys.POLLIN | Sys.POLLERR | Sys.POLLHUP)) != 0;
    }

    /**
     * Receives one datagram without blocking. Returns its full length (which may exceed the buffer
     * when truncated, see {@code MSG_TRUNC}), or -1 when nothing is queued.
     */
    int receive(ByteBuffer buffer) throws KernelException {
        long n = Sys.C.recvfrom(fd, buffer, buffer.capacity(), Sys.MSG_DONTWAIT | Sys.MSG_TRUNC, null, null);
        if (n < 0) {
            int errno = Sys.errno();
            if (errno == Sys.EAGAIN || errno == Sys.EINTR) {
                return -1;
            }
            throw Sys.failure("recvfrom", errno, description);
        }
        return (int) n;
    }

    /** {@code recvmsg(MSG_DONTWAIT)}; returns the byte count or -1 when nothing is queued. */
    int receiveMessage(ByteBuffer msghdr) throws KernelException {
        long n = Sys.C.recvmsg(fd, msghdr, Sys.MSG_DONTWAIT);
        if (n < 0) {
            int errno = Sys.errno();
            if (errno == Sys.EAGAIN || errno == Sys.EINTR) {
                return -1;
            }
            throw Sys.failure("recvmsg", errno, description);
        }
        return (int) n;
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Closes the descriptor once. A failing close is logged: there is nothing a caller could do. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && Sys.C.close(fd) < 0) {
            int errno = Sys.errno();
            LOG.log(Level.WARNING, "close: {0}: {1} (errno {2})", description, Sys.strerror(errno), errno);
        }
    }

    @Override
    public String toString() {
        return description + " (fd " + fd + ")";
    }
}
