package dev.vigil.kernel.linux;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.PacketBuffer;
import dev.vigil.kernel.VrrpChannel;

/**
 * One interface and family: a send socket, a receive socket and the platform daemon thread
 * {@code vrrp-rx-<ifname>-<family>} that polls the receive socket and tells the opener when
 * packets are queued; the opener takes them with {@link #receive} on its own thread into a reused
 * {@link PacketBuffer}, timed by the kernel's receive time stamp. Receive failures are counted and
 * reported; they never end the thread.
 */
public final class LinuxVrrpChannel implements VrrpChannel {
    private static final int POLL_MILLIS = 100;
    private static final long POLL_NANOS = POLL_MILLIS * 1_000_000L;
    /** A receive time stamp older than this means the realtime clock was stepped: not used. */
    private static final long MAX_AGE_NANOS = 10_000_000_000L;
    private static final int MAX_PACKET = 65_535;
    private static final int CONTROL_LENGTH = 256;
    private static final int CMSG_HEADER = 16;

    private final String ifname;
    private final int ifindex;
    private final AddressFamily family;
    private final InetAddress source;
    private final NativeSocket send;
    private final NativeSocket receive;
    private final Runnable readable;
    private final Consumer<KernelException> errorSink;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final Thread receiver;

    // Receive-path buffers, used only by the receiver thread.
    private final ByteBuffer data = Sys.buffer(MAX_PACKET);
    private final ByteBuffer name = Sys.buffer(28);
    private final ByteBuffer control = Sys.buffer(CONTROL_LENGTH);
    private final ByteBuffer iov = Sys.buffer(16);
    private final ByteBuffer msghdr = Sys.buffer(56);
    private final ByteBuffer clock = Sys.buffer(16);
    // Whether the receiver may signal readability: cleared when it has, set when a drain ends.
    private volatile boolean armed = true;
    private volatile boolean backoff;
    // What the control messages of the datagram just read said (engine thread only).
    private long controlStampNanos;
    private int controlHopLimit;
    private boolean controlDestination;

    // Send-path buffers, reused under the lock: a send builds no direct buffer and no string.
    private final Object sendLock = new Object();
    private final ByteBuffer sendBuffer = Sys.buffer(MAX_PACKET);
    private final Map<InetAddress, Destination> destinations = new HashMap<>();

    /** A destination's socket address, and its description for a send error. */
    private record Destination(ByteBuffer sockaddr, String description) implements Supplier<String> {
        @Override
        public String get() {
            return description;
        }
    }

    LinuxVrrpChannel(String ifname, int ifindex, AddressFamily family, InetAddress source, NativeSocket send,
                     NativeSocket receive, Runnable readable, Consumer<KernelException> errorSink) {
        this.ifname = ifname;
        this.ifindex = ifindex;
        this.family = family;
        this.source = source;
        this.send = send;
        this.receive = receive;
        this.readable = readable;
        this.errorSink = errorSink;
        iov.putLong(0, Sys.address(data));
        iov.putLong(8, MAX_PACKET);
        // First use of the send path happens now, not in the first advert of a take-over.
        warmUp();
        this.receiver = new Thread(this::receiveLoop,
                "vrrp-rx-" + ifname + "-" + (family == AddressFamily.INET ? "inet" : "inet6"));
        receiver.setDaemon(true);
        // As the engine thread: the receive time stamp starts the master down timer, so a late
        // wake-up here delays a take-over. Effective with -XX:ThreadPriorityPolicy=1 as root.
        receiver.setPriority(Thread.MAX_PRIORITY);
        receiver.start();
    }

    @Override
    public String ifname() {
        return ifname;
    }

    @Override
    public AddressFamily family() {
        return family;
    }

    @Override
    public InetAddress source() {
        return source;
    }

    /** Packets handed to the sink. */
    public long packetsReceived() {
        return received.get();
    }

    /** Receive failures (socket errors, malformed packets, sink exceptions). */
    public long receiveErrors() {
        return errors.get();
    }

    @Override
    public void send(InetAddress destination, byte[] vrrpMessage) throws KernelException {
        if (AddressFamily.of(destination) != family) {
            throw new IllegalArgumentException("destination: " + destination.getHostAddress() + " (expected: "
                    + family + ")");
        }
        if (closed.get()) {
            throw new KernelException("sendto", 0, "channel closed: " + ifname + " " + family);
        }
        synchronized (sendLock) {
            // Destinations are the instances' few configured groups and peers: their socket
            // address and error description are made once, so a send allocates nothing.
            Destination d = destinations.get(destination);
            if (d == null) {
                d = new Destination(Sys.sockaddr(destination, ifindex), "VRRP to " + destination.getHostAddress());
                destinations.put(destination, d);
            }
            sendBuffer.put(0, vrrpMessage);
            send.sendTo(sendBuffer, vrrpMessage.length, d.sockaddr, d.sockaddr.capacity(), d);
        }
    }

    /**
     * Runs the send path once with a socket address the kernel refuses ({@code EINVAL}, nothing
     * sent), so the first advert this channel sends does not pay for first execution. Returns the
     * errno of the refusal.
     */
    int warmUp() {
        synchronized (sendLock) {
            sendBuffer.put(0, new byte[8]);
            return send.sendRefused(sendBuffer, 8);
        }
    }

    /**
     * Waits for the receive socket to become readable and tells the opener once; the next wait
     * starts only after the opener has drained the queue ({@link #receive} found it empty).
     */
    private void receiveLoop() {
        while (!closed.get()) {
            try {
                receiveStep();
            } catch (OutOfMemoryError e) {
                // Another thread exhausted the heap for a moment: count it, re-arm and go on, since
                // nothing else would wake the engine for this socket again.
                errors.incrementAndGet();
                armed = true;
                pause();
            }
        }
    }

    private void receiveStep() {
        try {
            if (!armed) {
                LockSupport.parkNanos(this, POLL_NANOS);
                return;
            }
            if (backoff) {
                backoff = false;
                pause();
            }
            if (!receive.awaitReadable(POLL_MILLIS)) {
                return;
            }
            armed = false;
            signal();
        } catch (KernelException e) {
            if (!closed.get()) {
                report(e);
                pause();
            }
        }
    }

    private void signal() {
        try {
            readable.run();
        } catch (OutOfMemoryError e) {
            errors.incrementAndGet();
            armed = true;
            pause();
        } catch (RuntimeException e) {
            report(new KernelException("readable", 0, "VRRP readable callback failed on " + ifname + ": " + e));
            armed = true;
            pause();
        }
    }

    /**
     * Takes the next datagram, on the caller's thread (the engine's). Its age comes from the
     * kernel's receive time stamp ({@code SO_TIMESTAMPNS}, CLOCK_REALTIME) against the clock now.
     * Malformed datagrams are counted, reported and skipped.
     */
    @Override
    public boolean receive(PacketBuffer into) throws KernelException {
        if (closed.get()) {
            return false;
        }
        while (true) {
            int got;
            try {
                got = receiveOne(into);
            } catch (KernelException e) {
                errors.incrementAndGet();
                backoff = true;
                rearm();
                throw e;
            }
            if (got < 0) {
                rearm();
                return false;
            }
            if (got > 0) {
                received.incrementAndGet();
                return true;
            }
        }
    }

    private void rearm() {
        armed = true;
        LockSupport.unpark(receiver);
    }

    private void report(KernelException e) {
        errors.incrementAndGet();
        try {
            errorSink.accept(e);
        } catch (RuntimeException ignoredSecondFailure) {
            errors.incrementAndGet();
        }
    }

    private int malformed(String message) {
        report(new KernelException("recvmsg", 0, "malformed packet on " + ifname + ": " + message));
        return 0;
    }

    /** Backs off after a socket error so a persistent one cannot spin the thread. */
    private void pause() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Prepares the message header for one {@code recvmsg} into {@link #data}. */
    private void resetHeader() {
        msghdr.putLong(0, family == AddressFamily.INET ? 0 : Sys.address(name));
        msghdr.putInt(8, family == AddressFamily.INET ? 0 : name.capacity());
        msghdr.putLong(16, Sys.address(iov));
        msghdr.putLong(24, 1);
        msghdr.putLong(32, Sys.address(control));
        msghdr.putLong(40, CONTROL_LENGTH);
        msghdr.putInt(48, 0);
    }

    /**
     * Reads one datagram into {@link #data} and walks its control messages once. Returns 1 when
     * {@code into} holds a packet, 0 for a malformed one, -1 when none is queued.
     */
    private int receiveOne(PacketBuffer into) throws KernelException {
        resetHeader();
        int n = receive.receiveMessage(msghdr);
        if (n < 0) {
            return -1;
        }
        if ((msghdr.getInt(48) & Sys.MSG_TRUNC) != 0) {
            return malformed("datagram truncated");
        }
        readControl(into);
        return family == AddressFamily.INET ? ipv4(into, n) : ipv6(into, n);
    }

    /** IPv4 raw sockets deliver the IP header: TTL at byte 8, addresses at 12 and 16, IHL*4 to skip. */
    private int ipv4(PacketBuffer into, int n) {
        if (n < 20) {
            return malformed("IPv4 packet of " + n + " bytes (expected: >= 20)");
        }
        int ihl = (data.get(0) & 0x0f) * 4;
        if (ihl < 20 || ihl > n) {
            return malformed("IPv4 header length " + ihl + " (expected: 20.." + n + ")");
        }
        into.addressLength(4);
        data.get(12, into.source(), 0, 4);
        data.get(16, into.destination(), 0, 4);
        data.get(ihl, into.payload(), 0, n - ihl);
        into.set(n - ihl, Byte.toUnsignedInt(data.get(8)), age());
        return 1;
    }

    /**
     * IPv6 raw sockets deliver the payload only; the source comes from the socket address, the
     * hop limit and destination from the IPV6_HOPLIMIT and IPV6_PKTINFO control messages.
     */
    private int ipv6(PacketBuffer into, int n) {
        if (!controlDestination || controlHopLimit < 0) {
            return malformed("IPv6 packet without " + (!controlDestination ? "IPV6_PKTINFO" : "IPV6_HOPLIMIT")
                    + " control message");
        }
        into.addressLength(16);
        name.get(8, into.source(), 0, 16);
        data.get(0, into.payload(), 0, n);
        into.set(n, controlHopLimit, age());
        return 1;
    }

    /**
     * The control messages of the datagram just read: the kernel's receive time stamp
     * ({@code SCM_TIMESTAMPNS}, socket(7)) and, for IPv6, the hop limit and the destination (written
     * into {@code into}).
     */
    private void readControl(PacketBuffer into) {
        controlStampNanos = 0;
        controlHopLimit = -1;
        controlDestination = false;
        long controlLength = msghdr.getLong(40);
        int at = 0;
        while (at + CMSG_HEADER <= controlLength) {
            int length = (int) control.getLong(at);
            int level = control.getInt(at + 8);
            int type = control.getInt(at + 12);
            if (length < CMSG_HEADER || at + length > controlLength) {
                return;
            }
            if (level == Sys.SOL_SOCKET && type == Sys.SCM_TIMESTAMPNS && length >= CMSG_HEADER + 16) {
                controlStampNanos = control.getLong(at + CMSG_HEADER) * 1_000_000_000L
                        + control.getLong(at + CMSG_HEADER + 8);
            } else if (level == Sys.IPPROTO_IPV6 && type == Sys.IPV6_HOPLIMIT && length >= CMSG_HEADER + 4) {
                controlHopLimit = control.getInt(at + CMSG_HEADER);
            } else if (level == Sys.IPPROTO_IPV6 && type == Sys.IPV6_PKTINFO && length >= CMSG_HEADER + 20) {
                control.get(at + CMSG_HEADER, into.destination(), 0, 16);
                controlDestination = true;
            }
            at += (length + 7) & ~7;
        }
    }

    /**
     * How long ago the kernel received the datagram just read, its time stamp against
     * CLOCK_REALTIME now; 0 without a stamp, or when the clock was stepped in between (a negative
     * or implausibly large age).
     */
    private long age() {
        if (controlStampNanos == 0 || Sys.C.clock_gettime(Sys.CLOCK_REALTIME, clock) != 0) {
            return 0;
        }
        long age = clock.getLong(0) * 1_000_000_000L + clock.getLong(8) - controlStampNanos;
        return age >= 0 && age < MAX_AGE_NANOS ? age : 0;
    }

    /** Stops the receiver (within about {@value #POLL_MILLIS} ms), then closes both sockets. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LockSupport.unpark(receiver);
        if (Thread.currentThread() != receiver) {
            try {
                receiver.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        send.close();
        receive.close();
    }

    /** Whether the receiver thread is still running. */
    public boolean receiverAlive() {
        return receiver.isAlive();
    }
}
