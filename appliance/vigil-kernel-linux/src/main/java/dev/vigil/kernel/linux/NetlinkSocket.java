package dev.vigil.kernel.linux;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.vigil.kernel.KernelException;

/**
 * A netlink socket: request/acknowledge transactions and dumps keyed by sequence number, or a
 * multicast listener. Requests are serialised; the socket belongs to the network namespace of
 * the thread that opened it.
 */
public final class NetlinkSocket implements AutoCloseable {
    /** Netlink protocol for routing and link messages. */
    public static final int NETLINK_ROUTE = 0;

    private static final int SOL_NETLINK = 270;
    private static final int NETLINK_CAP_ACK = 10;
    private static final int NETLINK_EXT_ACK = 11;
    private static final int RECEIVE_BUFFER = 64 * 1024;
    private static final int DUMP_ATTEMPTS = 3;
    private static final int REPLY_TIMEOUT_MILLIS = 5_000;

    private final NativeSocket socket;
    private final ByteBuffer receiveBuffer = Sys.buffer(RECEIVE_BUFFER);
    private final ByteBuffer kernel = Sys.sockaddrNl(0);
    private int seq = (int) (System.nanoTime() & 0x3fffffff);

    private NetlinkSocket(NativeSocket socket) {
        this.socket = socket;
    }

    /**
     * Opens and binds a netlink socket with extended ACKs and capped ACKs enabled.
     *
     * @param groups multicast group mask to join (e.g. {@code RTMGRP_LINK}), 0 for requests only
     */
    public static NetlinkSocket open(int protocol, int groups, String description) throws KernelException {
        NativeSocket s = NativeSocket.open(Sys.AF_NETLINK, Sys.SOCK_RAW, protocol, description);
        try {
            s.setInt(SOL_NETLINK, NETLINK_EXT_ACK, "NETLINK_EXT_ACK", 1);
            s.setInt(SOL_NETLINK, NETLINK_CAP_ACK, "NETLINK_CAP_ACK", 1);
            if (groups != 0) {
                s.setInt(Sys.SOL_SOCKET, Sys.SO_RCVBUF, "SO_RCVBUF", 1 << 20);
            }
            s.bind(Sys.sockaddrNl(groups), "sockaddr_nl groups 0x" + Integer.toHexString(groups));
            return new NetlinkSocket(s);
        } catch (KernelException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Sends a request with {@code NLM_F_ACK} semantics and returns the data messages answering it.
     * An error reply becomes a {@link KernelException} named {@code call} with the kernel's errno,
     * its extended-ACK text and {@code context}.
     */
    public synchronized List<Netlink.Message> request(String call, Netlink.Builder message, String context)
            throws KernelException {
        boolean dump = (message.flags() & Netlink.NLM_F_DUMP) == Netlink.NLM_F_DUMP;
        for (int attempt = 1; ; attempt++) {
            int mySeq = nextSeq();
            send(message.build(mySeq), call, context);
            List<Netlink.Message> replies = new ArrayList<>();
            boolean interrupted = collect(call, mySeq, context, replies);
            if (!dump || !interrupted || attempt == DUMP_ATTEMPTS) {
                if (interrupted) {
                    throw new KernelException(call, 0, "dump interrupted by concurrent changes " + attempt
                            + " times: " + context);
                }
                return replies;
            }
        }
    }

    private int nextSeq() {
        seq = (seq + 1) & 0x7fffffff;
        return seq == 0 ? ++seq : seq;
    }

    private void send(byte[] bytes, String call, String context) throws KernelException {
        ByteBuffer out = Sys.buffer(bytes);
        long n = Sys.C.sendto(socket.fd(), out, bytes.length, 0, kernel, kernel.capacity());
        if (n < 0) {
            throw Sys.failure(call, Sys.errno(), "sendto: " + context);
        }
    }

    /** Reads replies for {@code mySeq} until DONE or ERROR; returns whether the dump was interrupted. */
    private boolean collect(String call, int mySeq, String context, List<Netlink.Message> replies)
            throws KernelException {
        boolean interrupted = false;
        while (true) {
            for (Netlink.Message m : receiveBlocking(call, context)) {
                if (m.seq() != mySeq) {
                    continue;
                }
                interrupted |= (m.flags() & Netlink.NLM_F_DUMP_INTR) != 0;
                switch (m.type()) {
                    case Netlink.NLMSG_ERROR -> {
                        Netlink.ErrorReply reply = Netlink.ErrorReply.of(m);
                        if (reply.errno() != 0) {
                            throw failure(call, reply, context);
                        }
                        return interrupted;
                    }
                    case Netlink.NLMSG_DONE -> {
                        if (m.payload().length >= 4) {
                            int error = m.body().getInt(0);
                            if (error < 0) {
                                throw Sys.failure(call, -error, context);
                            }
                        }
                        return interrupted;
                    }
                    case Netlink.NLMSG_NOOP, Netlink.NLMSG_OVERRUN -> {
                    }
                    default -> replies.add(m);
                }
            }
        }
    }

    /** The exception for an error reply: strerror, the extended-ACK text if any, then the context. */
    static KernelException failure(String call, Netlink.ErrorReply reply, String context) {
        String text = Sys.strerror(reply.errno()) + (reply.extack() != null ? " (" + reply.extack() + ")" : "");
        return new KernelException(call, reply.errno(), text + (context.isEmpty() ? "" : ": " + context));
    }

    private List<Netlink.Message> receiveBlocking(String call, String context) throws KernelException {
        while (true) {
            if (!socket.awaitReadable(REPLY_TIMEOUT_MILLIS)) {
                throw new KernelException(call, 0, "no reply within " + REPLY_TIMEOUT_MILLIS + " ms: " + context);
            }
            List<Netlink.Message> got = receiveNow();
            if (got != null) {
                return got;
            }
        }
    }

    /**
     * Receives one datagram if one is queued (messages copied out), or {@code null}. Lost
     * multicast messages surface as a {@link KernelException} with errno {@code ENOBUFS}.
     */
    public List<Netlink.Message> receiveNow() throws KernelException {
        int n = socket.receive(receiveBuffer);
        if (n < 0) {
            return null;
        }
        if (n > receiveBuffer.capacity()) {
            throw new KernelException("recvfrom", 0, "netlink datagram of " + n + " bytes truncated to "
                    + receiveBuffer.capacity() + ": " + socket.description());
        }
        return Netlink.parse(receiveBuffer, n);
    }

    /** Waits up to {@code timeoutMillis} for a datagram. */
    public boolean awaitReadable(int timeoutMillis) throws KernelException {
        return socket.awaitReadable(timeoutMillis);
    }

    @Override
    public void close() {
        socket.close();
    }
}
