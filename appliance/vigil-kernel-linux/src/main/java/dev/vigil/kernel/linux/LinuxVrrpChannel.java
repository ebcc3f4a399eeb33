package dev.vigil.kernel.linux;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.ReceivedPacket;
import dev.vigil.kernel.VrrpChannel;

/**
 * One interface and family: a send socket, a receive socket and the platform daemon thread
 * {@code vrrp-rx-<ifname>-<family>} that polls the receive socket, copies each packet and hands
 * it to the sink. Receive failures are counted and reported; they never end the thread.
 */
public final class LinuxVrrpChannel implements VrrpChannel {
    private static final int POLL_MILLIS = 100;
    private static final int MAX_PACKET = 65_535;
    private static final int CONTROL_LENGTH = 256;
    private static final int CMSG_HEADER = 16;

    private final String ifname;
    private final int ifindex;
    private final AddressFamily family;
    private final InetAddress source;
    private final NativeSocket send;
    private final NativeSocket receive;
    private final Consumer<ReceivedPacket> sink;
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

    // Send-path buffers, reused under the lock: a send builds no direct buffer and no string.
    private final Object sendLock = new Object();
    private final ByteBuffer sendBuffer = Sys.buffer(MAX_PACKET);
    private final Map<InetAddress, ByteBuffer> sockaddrs = new HashMap<>();

    LinuxVrrpChannel(String ifname, int ifindex, AddressFamily family, InetAddress source, NativeSocket send,
                     NativeSocket receive, Consumer<ReceivedPacket> sink, Consumer<KernelException> errorSink) {
        this.ifname = ifname;
        this.ifindex = ifindex;
        this.family = family;
        this.source = source;
        this.send = send;
        this.receive = receive;
        this.sink = sink;
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
            // Destinations are the instances' few configured groups and peers.
            ByteBuffer sockaddr = sockaddrs.computeIfAbsent(destination, d -> Sys.sockaddr(d, ifindex));
            sendBuffer.put(0, vrrpMessage);
            send.sendTo(sendBuffer, vrrpMessage.length, sockaddr, sockaddr.capacity(),
                    () -> "VRRP to " + destination.getHostAddress());
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

    private void receiveLoop() {
        while (!closed.get()) {
            try {
                if (!receive.awaitReadable(POLL_MILLIS)) {
                    continue;
                }
                ReceivedPacket packet;
                while (!closed.get() && (packet = family == AddressFamily.INET ? receive4() : receive6()) != null) {
                    received.incrementAndGet();
                    deliver(packet);
                }
            } catch (KernelException e) {
                if (!closed.get()) {
                    report(e);
                    pause();
                }
            } catch (RuntimeException e) {
                report(new KernelException("recvfrom", 0, "malformed packet on " + ifname + ": " + e.getMessage()));
            }
        }
    }

    private void deliver(ReceivedPacket packet) {
        try {
            sink.accept(packet);
        } catch (RuntimeException e) {
            report(new KernelException("sink", 0, "VRRP packet sink failed on " + ifname + ": " + e));
        }
    }

    private void report(KernelException e) {
        errors.incrementAndGet();
        try {
            errorSink.accept(e);
        } catch (RuntimeException ignoredSecondFailure) {
            errors.incrementAndGet();
        }
    }

    /** Backs off after a socket error so a persistent one cannot spin the thread. */
    private void pause() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** IPv4 raw sockets deliver the IP header: TTL at byte 8, addresses at 12 and 16, IHL*4 to skip. */
    private ReceivedPacket receive4() throws KernelException {
        int n = receive.receive(data);
        if (n < 0) {
            return null;
        }
        if (n > MAX_PACKET) {
            throw new KernelException("recvfrom", 0, "datagram of " + n + " bytes truncated on " + ifname);
        }
        if (n < 20) {
            throw new IllegalArgumentException("IPv4 packet of " + n + " bytes (expected: >= 20)");
        }
        int ihl = (data.get(0) & 0x0f) * 4;
        if (ihl < 20 || ihl > n) {
            throw new IllegalArgumentException("IPv4 header length " + ihl + " (expected: 20.." + n + ")");
        }
        int ttl = Byte.toUnsignedInt(data.get(8));
        InetAddress src = address(Sys.bytes(data, 12, 4));
        InetAddress dst = address(Sys.bytes(data, 16, 4));
        return new ReceivedPacket(ifname, src, dst, ttl, Sys.bytes(data, ihl, n - ihl));
    }

    /**
     * IPv6 raw sockets deliver the payload only; the source comes from the socket address, the
     * hop limit and destination from the IPV6_HOPLIMIT and IPV6_PKTINFO control messages.
     */
    private ReceivedPacket receive6() throws KernelException {
        msghdr.putLong(0, Sys.address(name));
        msghdr.putInt(8, name.capacity());
        msghdr.putLong(16, Sys.address(iov));
        msghdr.putLong(24, 1);
        msghdr.putLong(32, Sys.address(control));
        msghdr.putLong(40, CONTROL_LENGTH);
        msghdr.putInt(48, 0);
        int n = receive.receiveMessage(msghdr);
        if (n < 0) {
            return null;
        }
        if ((msghdr.getInt(48) & Sys.MSG_TRUNC) != 0) {
            throw new KernelException("recvmsg", 0, "datagram truncated on " + ifname);
        }
        InetAddress src = address(Sys.bytes(name, 8, 16));
        InetAddress dst = null;
        int hopLimit = -1;
        long controlLength = msghdr.getLong(40);
        int at = 0;
        while (at + CMSG_HEADER <= controlLength) {
            int length = (int) control.getLong(at);
            int level = control.getInt(at + 8);
            int type = control.getInt(at + 12);
            if (length < CMSG_HEADER || at + length > controlLength) {
                break;
            }
            if (level == Sys.IPPROTO_IPV6 && type == Sys.IPV6_HOPLIMIT && length >= CMSG_HEADER + 4) {
                hopLimit = control.getInt(at + CMSG_HEADER);
            } else if (level == Sys.IPPROTO_IPV6 && type == Sys.IPV6_PKTINFO && length >= CMSG_HEADER + 20) {
                dst = address(Sys.bytes(control, at + CMSG_HEADER, 16));
            }
            at += (length + 7) & ~7;
        }
        if (dst == null || hopLimit < 0) {
            throw new IllegalArgumentException("IPv6 packet without " + (dst == null ? "IPV6_PKTINFO" : "IPV6_HOPLIMIT")
                    + " control message");
        }
        return new ReceivedPacket(ifname, src, dst, hopLimit, Sys.bytes(data, 0, n));
    }

    private InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of " + raw.length + " bytes: " + Arrays.toString(raw), e);
        }
    }

    /** Stops the receiver (within about {@value #POLL_MILLIS} ms), then closes both sockets. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
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
