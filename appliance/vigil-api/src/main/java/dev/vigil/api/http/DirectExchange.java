package dev.vigil.api.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static dev.vigil.api.Failures.reason;

/**
 * One plain {@code HTTP_GET} fetch on a socket of its own, registered straight with the epoll
 * event loop ({@link IoEventLoop#register}, Netty's {@link EpollIoHandle}) instead of through a
 * Netty channel: the same exchange as a channel's (a non-blocking connect, the request, the
 * response read to the end of the connection or of its {@code Content-Length}, one
 * {@code close}), without the calls a channel makes for its own bookkeeping on every connection
 * and a health check never needs: the socket's addresses looked up after the connect
 * ({@code getsockname}, {@code getpeername}), the send buffer size and {@code SO_LINGER} read,
 * {@code TCP_NODELAY} set (one request, written at once), a dual-stack socket for an IPv4 address
 * ({@code IPV6_V6ONLY}), and the epoll interest changed back and forth around the connect.
 *
 * <p>Used by a {@link HttpGet.Fetcher} made for it (no TLS, no socket options of the checker's
 * block to set) when its loop is an epoll loop ({@link #usable}). Everything but the construction
 * runs on the loop: the socket opened, bound ({@code bindto}) and connected; one registration for
 * the whole exchange, edge-triggered, for {@code EPOLLOUT}, {@code EPOLLIN} and {@code EPOLLRDHUP}
 * (one {@code epoll_ctl} a fetch, where a level-triggered one would have to drop {@code EPOLLOUT}
 * once the request is out); the one deadline of the whole exchange; the response fed to a
 * {@link ResponseReader} from a buffer of the loop's thread. The socket is closed with its
 * registration when the fetch ends, whichever way.
 *
 * <p>A connected socket is closed with {@code SO_LINGER} 0 (socket(7)): the connection ends with a
 * reset instead of the FIN/ACK exchange, and neither end keeps it in TIME_WAIT. The exchange is
 * over by then (the response was read, or the check has failed), so nothing a reset discards is
 * wanted; and a director checking thousands of servers a second would otherwise hold tens of
 * thousands of TIME_WAIT sockets (up to {@code tcp_max_tw_buckets}) and as many conntrack
 * entries, or leave them to the real servers. HAProxy closes its checks the same way.
 *
 * <p>The connect's outcome is not read with {@code getsockopt(SO_ERROR)}: once the socket is
 * writable the request is sent, and a connect that failed fails that {@code send} with the
 * connect's own error (the socket's pending error is returned by the next call on it and cleared,
 * socket(7) {@code SO_ERROR}; TCP returns it from a send on a socket that is not connected), so
 * a refused connection is the same {@link HttpGet.Failure.Kind#CONNECT} failure with the same
 * words ({@code connection refused (10.0.0.2:80)}). With edge-triggered events every event is
 * taken to the end: the request written until it is all out or the socket has no room
 * ({@code EAGAIN}: the next edge says when), the response read until the socket has nothing more
 * (epoll(7), "edge-triggered").
 */
final class DirectExchange implements EpollIoHandle, Runnable {

    /** The buffer each loop thread reads responses into and writes requests from (the loop is single-threaded). */
    private static final FastThreadLocal<Buffers> BUFFERS = new FastThreadLocal<>() {
        @Override
        protected Buffers initialValue() {
            return new Buffers();
        }
    };

    /** One loop thread's direct buffer and a {@link ByteBuf} view of it for the reader. */
    private static final class Buffers {
        final ByteBuffer direct = ByteBuffer.allocateDirect(16 * 1024);
        final ByteBuf view = Unpooled.wrappedBuffer(direct);
    }

    /** Every event of the exchange, edge-triggered: the connect's end and room to write, the response, its end. */
    private static final EpollIoOps EXCHANGE = EpollIoOps.EPOLLOUT.with(EpollIoOps.EPOLLIN)
            .with(EpollIoOps.EPOLLRDHUP).with(EpollIoOps.EPOLLET);

    /**
     * Netty's {@code LinuxSocket.setTcpQuickAck(boolean)}, or {@code null} where it cannot be
     * reached. Netty sets {@code TCP_QUICKACK} for its own channels only
     * ({@code EpollChannelOption.TCP_QUICKACK}) and keeps the socket's setter package-private.
     */
    private static final MethodHandle QUICK_ACK = quickAckSetter();

    private static MethodHandle quickAckSetter() {
        try {
            Method m = LinuxSocket.class.getDeclaredMethod("setTcpQuickAck", boolean.class);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * A TCP socket of the address's family ({@code AF_INET} or {@code AF_INET6}) with
     * {@code TCP_QUICKACK} off (tcp(7)): the kernel then holds back the last ACK of the handshake
     * for the data that follows at once (Linux's {@code tcp_rcv_synsent_state_process} delays it
     * for a socket in "pingpong" mode), and the request carries it, as HAProxy's checks do: one
     * packet a check fewer through both ends' TCP, conntrack and the nftables chains. Where the
     * option cannot be set the fetch goes on without it.
     */
    static LinuxSocket open(boolean ipv6) {
        LinuxSocket s = LinuxSocket.newSocketStream(ipv6);
        if (QUICK_ACK != null) {
            try {
                QUICK_ACK.invokeExact(s, false);
            } catch (Throwable e) {
                // the ACK goes on its own: the exchange is the same
            }
        }
        return s;
    }

    private final HttpGet.Fetcher fetcher;
    private final EventLoop loop;
    private final long millis;
    private final long deadlineNanos;
    private final HttpGet.Callback callback;
    private final ResponseReader reader;
    private LinuxSocket socket;
    private IoRegistration registration;
    private ScheduledFuture<?> deadline;
    private int written;
    private boolean connected;
    private boolean reading;
    private boolean done;

    private DirectExchange(HttpGet.Fetcher fetcher, EventLoop loop, long millis, HttpGet.Callback callback) {
        this.fetcher = fetcher;
        this.loop = loop;
        this.millis = millis;
        this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        this.callback = callback;
        this.reader = new ResponseReader(fetcher.digest());
    }

    /** Whether fetches on {@code loop} can go this way: it is an epoll loop. */
    static boolean usable(EventLoop loop) {
        try {
            return loop instanceof IoEventLoop l && l.isCompatible(DirectExchange.class);
        } catch (LinkageError e) {
            // The epoll classes are not there: a loop of another transport.
            return false;
        }
    }

    /** Starts one fetch of {@code fetcher} on {@code loop} and returns at once; {@code callback} hears its end there. */
    static void start(HttpGet.Fetcher fetcher, EventLoop loop, long millis, HttpGet.Callback callback) {
        DirectExchange x = new DirectExchange(fetcher, loop, millis, callback);
        if (loop.inEventLoop()) {
            x.open();
        } else {
            loop.execute(x::open);
        }
    }

    /** On the loop: the deadline, the socket, the connect, the registration. */
    private void open() {
        deadline = loop.schedule(this, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        HttpGet.Request r = fetcher.request();
        InetSocketAddress to = r.address();
        boolean now;
        try {
            socket = open(to.getAddress() instanceof Inet6Address);
            if (r.bindAddress() != null) {
                // A fixed bind_port is reused probe after probe while the last connection sits in TIME_WAIT.
                socket.setReuseAddress(true);
                socket.bind(r.bindAddress());
            }
            now = socket.connect(to);
        } catch (IOException | RuntimeException e) {
            finish(null, new HttpGet.Failure(HttpGet.Failure.Kind.CONNECT, reason(e) + " (" + fetcher.target() + ")"));
            return;
        }
        try {
            registration = ((IoEventLoop) loop).register(this).getNow();
        } catch (RuntimeException e) {
            registration = null;
        }
        if (registration == null) {
            finish(null, new HttpGet.Failure(HttpGet.Failure.Kind.CONNECT, "cannot register with the event loop ("
                    + fetcher.target() + ")"));
            return;
        }
        registration.submit(EXCHANGE);
        if (now) {
            send();
        }
    }

    @Override
    public FileDescriptor fd() {
        return socket;
    }

    @Override
    public void handle(IoRegistration reg, IoEvent event) {
        if (done) {
            return;
        }
        if (!reading) {
            // The connect ended (or, the request begun, there is room for the rest): write. A connect
            // still under way has its send refused with EAGAIN, and the next edge comes when it ends.
            send();
            return;
        }
        EpollIoOps ops = ((EpollIoEvent) event).ops();
        if (ops.contains(EpollIoOps.EPOLLIN) || ops.contains(EpollIoOps.EPOLLRDHUP) || ops.contains(EpollIoOps.EPOLLERR)) {
            read();
        }
    }

    /**
     * Writes what is left of the request, until all of it is out (then the response is awaited) or
     * the socket has no room. Its first bytes accepted mean the connection is up; a send that fails
     * before that failed because the connect did, with the connect's error.
     */
    private void send() {
        byte[] bytes = fetcher.bytes();
        ByteBuffer b = BUFFERS.get().direct;
        try {
            while (written < bytes.length) {
                int n = Math.min(b.capacity(), bytes.length - written);
                b.clear();
                b.put(bytes, written, n);
                int sent = socket.send(b, 0, n);
                if (sent <= 0) {
                    return;
                }
                connected = true;
                written += sent;
            }
        } catch (IOException e) {
            finish(null, connected
                    ? new HttpGet.Failure(HttpGet.Failure.Kind.IO, "cannot send the request: " + reason(e))
                    : new HttpGet.Failure(HttpGet.Failure.Kind.CONNECT, reason(e) + " (" + fetcher.target() + ")"));
            return;
        }
        // The response's first edge comes after this (a server answers what it was sent), in a
        // later batch of the loop's events.
        reading = true;
    }

    /** Reads until the socket has nothing more now (0), its end (-1), or the body is complete. */
    private void read() {
        Buffers buffers = BUFFERS.get();
        ByteBuffer b = buffers.direct;
        try {
            while (true) {
                int n = socket.recv(b, 0, b.capacity());
                if (n == 0) {
                    return;
                }
                if (n < 0) {
                    HttpGet.Response r = reader.finish();
                    finish(r, r != null ? null : new HttpGet.Failure(HttpGet.Failure.Kind.NO_DATA,
                            "no HTTP response from " + fetcher.target()));
                    return;
                }
                reader.feed(buffers.view.setIndex(0, n));
                if (reader.bodyComplete()) {
                    finish(reader.finish(), null);
                    return;
                }
            }
        } catch (IOException e) {
            finish(null, new HttpGet.Failure(HttpGet.Failure.Kind.IO, "reading from " + fetcher.target() + " failed: " + reason(e)));
        }
    }

    /** The deadline. */
    @Override
    public void run() {
        if (done) {
            return;
        }
        finish(null, HttpGet.Failure.deadline(connected, "complete response", fetcher.target(), millis));
    }

    /** The end, once: the deadline cancelled, the socket's registration and the socket closed, the callback told. */
    private void finish(HttpGet.Response response, HttpGet.Failure failure) {
        if (done) {
            return;
        }
        done = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        try {
            release();
        } finally {
            callback.done(response, failure);
        }
    }

    /**
     * The socket closed first, then its registration cancelled: closing the only descriptor of a
     * socket takes it out of the epoll set (epoll(7), Q6), and the loop skips its
     * {@code EPOLL_CTL_DEL} for a closed descriptor; the loop's own thread runs both, so no new
     * socket can take the number in between.
     */
    private void release() {
        if (socket != null) {
            if (connected) {
                try {
                    socket.setSoLinger(0);
                } catch (IOException e) {
                    // An orderly close then; the check's verdict does not depend on it.
                }
            }
            try {
                socket.close();
            } catch (IOException e) {
                // The descriptor is released whatever close(2) said (close(2) NOTES).
            }
        }
        if (registration != null) {
            registration.cancel();
        }
    }

    /** The loop closes with the socket still registered: the fetch ends with its deadline, or never if the loop is gone. */
    @Override
    public void close() {
        if (!done) {
            done = true;
            if (deadline != null) {
                deadline.cancel(false);
            }
            release();
        }
    }
}
