package dev.vigil.kernel.linux;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

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
    /** Bytes of requests per datagram in {@link #batch}: few enough that their error replies fit the default receive buffer. */
    private static final int BATCH_BYTES = 16 * 1024;
    /** {@code SO_SNDBUFFORCE} (socket(7)): a send buffer above {@code wmem_max}, for root. */
    private static final int SO_SNDBUFFORCE = 32;

    private final NativeSocket socket;
    private final ByteBuffer receiveBuffer = Sys.buffer(RECEIVE_BUFFER);
    private final ByteBuffer kernel = Sys.sockaddrNl(0);
    private int seq = (int) (System.nanoTime() & 0x3fffffff);
    private ByteBuffer batchBuffer;
    private int sendBuffer;

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

    /**
     * Sends requests that ask for an acknowledgement ({@code NLM_F_ACK}) in as few datagrams as fit,
     * without a round trip per request, and returns their failures by position ({@code null} where
     * a request succeeded). A failure does not stop the requests after it.
     *
     * <p>Within a datagram only the last request keeps {@code NLM_F_ACK}. The kernel handles the
     * messages of a datagram one after another and answers every failing one with an error message
     * whether it asked for an acknowledgement or not (netlink(7) on {@code NLM_F_ACK};
     * {@code netlink_rcv_skb} in net/netlink/af_netlink.c), so the last request's acknowledgement
     * says that all of them were handled, and each error before it names its request by sequence
     * number.
     *
     * @param call    the name of request {@code i}'s call, for its exception
     * @param context what request {@code i} was about, for its exception
     */
    public synchronized List<KernelException> batch(List<Netlink.Builder> requests, IntFunction<String> call,
                                                    IntFunction<String> context) throws KernelException {
        int n = requests.size();
        KernelException[] failures = new KernelException[n];
        byte[][] built = new byte[n][];
        for (int i = 0; i < n; i++) {
            built[i] = requests.get(i).build(0);
        }
        int i = 0;
        while (i < n) {
            int first = i;
            int length = 0;
            while (i < n && (i == first || length + built[i].length <= BATCH_BYTES)) {
                length += built[i].length;
                i++;
            }
            ByteBuffer out = batchBuffer(length);
            Map<Integer, Integer> bySeq = new HashMap<>();
            int at = 0;
            int lastSeq = 0;
            for (int k = first; k < i; k++) {
                byte[] m = built[k];
                lastSeq = nextSeq();
                bySeq.put(lastSeq, k);
                out.put(at, m);
                int flags = requests.get(k).flags() & ~Netlink.NLM_F_ACK;
                out.putShort(at + 6, (short) (k == i - 1 ? flags | Netlink.NLM_F_ACK : flags));
                out.putInt(at + 8, lastSeq);
                at += m.length;
            }
            int last = i - 1;
            String lastCall = call.apply(last);
            String whole = "batch of " + (i - first) + " requests";
            send(out, length, lastCall, whole);
            boolean done = false;
            while (!done) {
                for (Netlink.Message m : receiveBlocking(lastCall, whole)) {
                    Integer k = bySeq.get(m.seq());
                    if (k == null || m.type() != Netlink.NLMSG_ERROR) {
                        continue;
                    }
                    Netlink.ErrorReply reply = Netlink.ErrorReply.of(m);
                    if (reply.errno() != 0) {
                        failures[k] = failure(call.apply(k), reply, context.apply(k));
                    }
                    done |= k == last;
                }
            }
        }
        return Arrays.asList(failures);
    }

    /**
     * Sends one nfnetlink batch as one datagram and returns the error replies it caused (none when
     * it was applied). {@code bytes[0, length)} holds the messages one after another, message
     * {@code i} at {@code starts[i]}: first {@code NFNL_MSG_BATCH_BEGIN}, last
     * {@code NFNL_MSG_BATCH_END}. The socket numbers them in order and asks for the acknowledgement
     * of the last request inside. The kernel runs the batch as one transaction while the datagram
     * is being sent, committing it only when every message was accepted, and queues an error reply
     * for each message it refused and, last, that acknowledgement (nfnetlink_rcv_batch in
     * net/netfilter/nfnetlink.c). The send buffer grows to the datagram's size first
     * ({@code SO_SNDBUFFORCE}, root only; netlink refuses a datagram larger than the buffer).
     *
     * @param context what message {@code i} (0 is the begin marker) was about, for its exception
     * @return an exception per refused message, in the order the kernel sent them
     */
    public synchronized List<KernelException> nfnetlinkBatch(byte[] bytes, int length, int[] starts, String call,
                                                             IntFunction<String> context) throws KernelException {
        if (starts.length < 3) {
            throw new IllegalArgumentException("an nfnetlink batch needs begin, at least one request and end");
        }
        ByteBuffer out = length <= BATCH_BYTES ? batchBuffer(length) : Sys.buffer(length);
        out.put(0, bytes, 0, length);
        int base = nextSeq();
        for (int k = 1; k < starts.length; k++) {
            nextSeq();
        }
        int ackIndex = starts.length - 2;
        for (int k = 0; k < starts.length; k++) {
            out.putInt(starts[k] + 8, base + k);
        }
        out.putShort(starts[ackIndex] + 6, (short) (out.getShort(starts[ackIndex] + 6) | Netlink.NLM_F_ACK));
        growSendBuffer(length + 1024);
        String whole = "batch of " + (starts.length - 2) + " messages";
        send(out, length, call, whole);
        List<KernelException> errors = new ArrayList<>();
        boolean acknowledged = false;
        while (!acknowledged) {
            for (Netlink.Message m : receiveBlocking(call, whole)) {
                int index = m.seq() - base;
                if (m.type() != Netlink.NLMSG_ERROR || index < 0 || index >= starts.length) {
                    continue;
                }
                Netlink.ErrorReply reply = Netlink.ErrorReply.of(m);
                if (reply.errno() != 0) {
                    errors.add(failure(call, reply, context.apply(index)));
                }
                // A refused batch marker is the only reply there will be.
                acknowledged |= index == ackIndex || (index == 0 && reply.errno() != 0);
            }
        }
        return errors;
    }

    private ByteBuffer batchBuffer(int length) {
        if (batchBuffer == null || batchBuffer.capacity() < length) {
            batchBuffer = Sys.buffer(Math.max(length, BATCH_BYTES));
        }
        return batchBuffer;
    }

    private void growSendBuffer(int bytes) throws KernelException {
        // The kernel doubles the value for its bookkeeping (socket(7), SO_SNDBUF); the datagram
        // must fit the undoubled size. Starting from the buffer the socket has, it only grows:
        // shrunk to one small batch, it would refuse the datagrams of {@link #batch} (EMSGSIZE).
        if (sendBuffer == 0) {
            sendBuffer = socket.getInt(Sys.SOL_SOCKET, Sys.SO_SNDBUF, "SO_SNDBUF") / 2;
        }
        if (bytes <= sendBuffer) {
            return;
        }
        try {
            socket.setInt(Sys.SOL_SOCKET, SO_SNDBUFFORCE, "SO_SNDBUFFORCE", bytes);
        } catch (KernelException e) {
            socket.setInt(Sys.SOL_SOCKET, Sys.SO_SNDBUF, "SO_SNDBUF", bytes);
        }
        sendBuffer = bytes;
    }

    private void send(ByteBuffer out, int length, String call, String context) throws KernelException {
        long n = Sys.C.sendto(socket.fd(), out, length, 0, kernel, kernel.capacity());
        if (n < 0) {
            throw Sys.failure(call, Sys.errno(), "sendto: " + context);
        }
        if (n != length) {
            throw new KernelException(call, 0, "sent " + n + " of " + length + " bytes: " + context);
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
