package dev.vigil.api.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.ScheduledFuture;

import javax.net.ssl.SSLException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static dev.vigil.api.Failures.reason;
import static dev.vigil.api.Failures.show;

/**
 * One {@code GET} as keepalived's {@code HTTP_GET} and {@code SSL_GET} send it, on a Netty event
 * loop, never blocking it: connect (from a bound address when given), a TLS handshake for
 * {@code SSL_GET}, the request, then the response read to the end of the connection (or to its
 * {@code Content-Length}) by a {@link ResponseReader}. The whole exchange has one deadline, the
 * checker's {@code connect_timeout}. A checker makes a {@link Fetcher} per url once and fetches it
 * every {@code delay_loop}; {@link #fetch(EventLoop, ChannelFactory, Request, Duration)} is one
 * fetch of a fetcher made for it.
 *
 * <p>TLS is keepalived's: the server's certificate is not verified (neither its chain nor its
 * name: a health check asks whether the server answers, not whether it is who it says), and the
 * server name (SNI, RFC 6066 §3) is sent only when the request names one. The JDK's TLS
 * implementation is used, through Netty's {@link SslHandler}.
 */
public final class HttpGet {

    /** keepalived's {@code http_protocol}: the version on the request line and whether to ask for {@code Connection: close}. */
    public enum Protocol {
        /** {@code HTTP/1.0}, no {@code Connection} header (keepalived's default). */
        HTTP_1_0("1.0"),
        /** {@code HTTP/1.0} with {@code Connection: close}. */
        HTTP_1_0C("1.0C"),
        /** {@code HTTP/1.1} with {@code Connection: close} (RFC 9112 §9.6: the server closes after the response). */
        HTTP_1_1("1.1");

        private final String word;

        Protocol(String word) {
            this.word = word;
        }

        /** How keepalived.conf writes it: {@code 1.0}, {@code 1.0C} or {@code 1.1}. */
        public String word() {
            return word;
        }

        /** The protocol written {@code word} ({@code 1.0c} is accepted for {@code 1.0C}, as keepalived does). */
        public static Optional<Protocol> parse(String word) {
            for (Protocol p : values()) {
                if (p.word.equalsIgnoreCase(word)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * What to fetch.
     *
     * @param address     where to connect
     * @param bindAddress the local address to bind first, or {@code null}
     * @param path        the request target, e.g. {@code /health}
     * @param virtualhost the {@code Host} header's value, or {@code null} for the address and port
     * @param protocol    {@code http_protocol}
     * @param tls         {@code SSL_GET}: TLS over the connection
     * @param serverName  the name to send as SNI, or {@code null} to send none
     */
    public record Request(InetSocketAddress address, InetSocketAddress bindAddress, String path, String virtualhost,
                          Protocol protocol, boolean tls, String serverName) {

        public Request {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(protocol, "protocol");
        }

        /**
         * The request's bytes as keepalived writes them: the request line, {@code User-Agent:
         * KeepAliveClient}, {@code Connection: close} for 1.0C and 1.1, and {@code Host:} with
         * the virtualhost as written, else the address with its port (an IPv6 address in
         * brackets, RFC 3986 §3.2.2).
         */
        public String text() {
            String host;
            if (virtualhost != null) {
                host = virtualhost;
            } else {
                String a = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
                host = (address.getAddress() instanceof Inet6Address ? "[" + compress(a) + "]" : a) + ":" + address.getPort();
            }
            return "GET " + path + " HTTP/" + (protocol == Protocol.HTTP_1_1 ? "1.1" : "1.0") + "\r\n"
                    + "User-Agent: KeepAliveClient\r\n"
                    + (protocol == Protocol.HTTP_1_0 ? "" : "Connection: close\r\n")
                    + "Host: " + host + "\r\n\r\n";
        }
    }

    /**
     * What came back.
     *
     * @param statusCode    the status line's code, 0 when the first line is not a status line
     * @param digest        MD5 of the body as 32 lower-case hex digits (keepalived's {@code digest}), or
     *                      {@code null} when the fetch did not ask for it
     * @param bodyBytes     how many body bytes came (up to {@code Content-Length})
     * @param contentLength the header's {@code Content-Length}, or -1
     */
    public record Response(int statusCode, String digest, long bodyBytes, long contentLength) {
    }

    /** Why no response was read: the step that failed, and the reason in words. */
    public static final class Failure extends Exception {

        /** The step that failed. */
        public enum Kind {
            /** No TCP connection within the deadline. */
            CONNECT_TIMEOUT,
            /** The connection was refused, reset or unreachable, or the bind failed. */
            CONNECT,
            /** The TLS handshake failed. */
            TLS,
            /** Connected, but the response was not complete within the deadline. */
            TIMEOUT,
            /** The connection ended without a complete HTTP header. */
            NO_DATA,
            /** Reading or writing failed after the connection was made. */
            IO
        }

        private final Kind kind;

        /** A failure of {@code kind}, {@code message} saying what happened. */
        public Failure(Kind kind, String message) {
            super(message, null, false, false);
            this.kind = Objects.requireNonNull(kind, "kind");
        }

        /**
         * The deadline of {@code millis} passed: {@link Kind#TIMEOUT} waiting for {@code awaited}
         * ("complete response", "TLS handshake") once {@code connected}, else
         * {@link Kind#CONNECT_TIMEOUT} waiting for a connection to {@code target}. Every transport
         * words it this way.
         */
        static Failure deadline(boolean connected, String awaited, String target, long millis) {
            return connected
                    ? new Failure(Kind.TIMEOUT, "no " + awaited + " within " + millis + " ms")
                    : new Failure(Kind.CONNECT_TIMEOUT, "no connection to " + target + " within " + millis + " ms");
        }

        /** The step that failed. */
        public Kind kind() {
            return kind;
        }
    }

    /**
     * Hears how one {@link Fetcher#fetch(long, Callback) fetch} ended, once: with the response, or
     * with why there is none; exactly one of the two is {@code null}. Called on the fetch's event
     * loop, or on the fetching thread when no channel could be opened at all.
     */
    @FunctionalInterface
    public interface Callback {

        /** The fetch ended with {@code response}, or failed with {@code failure}. */
        void done(Response response, Failure failure);
    }

    /** One client context for every {@code SSL_GET}: no trust store, no name check (the class comment says why). */
    private static volatile SslContext insecure;

    private HttpGet() {
    }

    /**
     * Sends {@code request} on {@code loop} and reads the response, its body's digest included; the
     * stage completes once, with the {@link Response} or exceptionally with a {@link Failure},
     * within {@code timeout}. Returns at once.
     */
    public static CompletionStage<Response> fetch(EventLoop loop, Class<? extends SocketChannel> channelType, Request request,
                                                  Duration timeout) {
        return fetch(loop, new ReflectiveChannelFactory<SocketChannel>(channelType), request, timeout);
    }

    /**
     * As {@link #fetch(EventLoop, Class, Request, Duration)}, on a channel {@code channels} makes:
     * a checker passes its context's {@code socketChannels()}, which sets the block's
     * {@code fwmark} and {@code bind_if} on each. A channel the factory cannot make fails the
     * fetch as {@link Failure.Kind#CONNECT}, with the factory's reason.
     */
    public static CompletionStage<Response> fetch(EventLoop loop, ChannelFactory<? extends SocketChannel> channels,
                                                  Request request, Duration timeout) {
        return new Fetcher(loop, channels, request, true).fetch(timeout);
    }

    /**
     * One request made ready once to be fetched again and again, as a checker fetches its url every
     * {@code delay_loop}: the request's bytes encoded, the TLS context chosen, the channel factory
     * and the address kept. Each fetch is one connection of its own, opened by the factory on the
     * fetching thread and registered with the loop, where everything else happens: the connect,
     * the one deadline (which bounds the connect too: Netty's own connect timeout is not used), the
     * request written from a buffer of the channel's pooled allocator, the response parsed where
     * Netty read it (a {@link ResponseReader}, hashing the body only when the digest is wanted),
     * and one close when the fetch ends. Thread-safe: fetches may overlap.
     */
    public static final class Fetcher {
        private final EventLoop loop;
        private final ChannelFactory<? extends SocketChannel> channels;
        private final Request request;
        private final boolean digest;
        private final byte[] bytes;
        private final String target;
        private final SslContext ssl;
        /** Why {@code SSL_GET} has no TLS context, or {@code null}. */
        private final String noTls;
        /** Fetches go by {@link DirectExchange}: a socket of their own on the epoll loop, no channel. */
        private final boolean direct;

        /**
         * {@code request} to be fetched on {@code loop}, on channels {@code channels} makes (see
         * {@link HttpGet#fetch(EventLoop, ChannelFactory, Request, Duration)}); with {@code digest}
         * false the body is not hashed and each {@link Response#digest()} is {@code null}.
         */
        public Fetcher(EventLoop loop, ChannelFactory<? extends SocketChannel> channels, Request request, boolean digest) {
            this(loop, channels, request, digest, false);
        }

        /**
         * As {@link #Fetcher(EventLoop, ChannelFactory, Request, boolean)}; with {@code plainSockets}
         * the channels' factory does nothing to a socket a fetch needs (a checker without
         * {@code fwmark} or {@code bind_if}), and a plain {@code GET} on an epoll loop then goes
         * without a channel: its socket is registered with the loop directly, which spares the
         * system calls a Netty channel makes for itself on each connection (see
         * {@code DirectExchange}). The exchange, its deadline and its results are the same.
         */
        public Fetcher(EventLoop loop, ChannelFactory<? extends SocketChannel> channels, Request request, boolean digest,
                       boolean plainSockets) {
            this.loop = Objects.requireNonNull(loop, "loop");
            this.channels = Objects.requireNonNull(channels, "channels");
            this.request = Objects.requireNonNull(request, "request");
            this.digest = digest;
            this.bytes = request.text().getBytes(StandardCharsets.ISO_8859_1);
            this.target = show(request.address());
            SslContext c = null;
            String why = null;
            if (request.tls()) {
                try {
                    c = sslContext();
                } catch (SSLException e) {
                    why = "no TLS context: " + e.getMessage();
                }
            }
            this.ssl = c;
            this.noTls = why;
            this.direct = plainSockets && !request.tls() && DirectExchange.usable(loop);
        }

        boolean digest() {
            return digest;
        }

        /** Whether its fetches go by {@code DirectExchange}, without a channel. */
        boolean direct() {
            return direct;
        }

        byte[] bytes() {
            return bytes;
        }

        String target() {
            return target;
        }

        /** The request this fetcher sends. */
        public Request request() {
            return request;
        }

        /** {@link #fetch(long, Callback)} as a stage, which completes exceptionally with the {@link Failure}. */
        public CompletionStage<Response> fetch(Duration timeout) {
            CompletableFuture<Response> result = new CompletableFuture<>();
            fetch(Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())), (r, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(r);
                }
            });
            return result;
        }

        /**
         * Starts one fetch and returns at once; {@code callback} hears its end once, within
         * {@code timeoutMillis} (at least 1 ms, at most {@link Integer#MAX_VALUE}) from now.
         */
        public void fetch(long timeoutMillis, Callback callback) {
            long millis = Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMillis));
            if (noTls != null) {
                callback.done(null, new Failure(Failure.Kind.TLS, noTls));
                return;
            }
            if (direct) {
                DirectExchange.start(this, loop, millis, callback);
                return;
            }
            SocketChannel channel;
            try {
                channel = channels.newChannel();
            } catch (Throwable e) {
                callback.done(null, new Failure(Failure.Kind.CONNECT, reason(e) + " (" + target + ")"));
                return;
            }
            Exchange x = new Exchange(this, channel, millis, callback);
            try {
                // The exchange's one deadline bounds the connect too.
                channel.config().setConnectTimeoutMillis(0);
                if (request.bindAddress() != null) {
                    // A fixed bind_port is reused probe after probe while the last connection sits in TIME_WAIT.
                    channel.config().setOption(ChannelOption.SO_REUSEADDR, true);
                }
                if (ssl != null) {
                    InetSocketAddress a = request.address();
                    SslHandler h = request.serverName() != null
                            ? ssl.newHandler(channel.alloc(), request.serverName(), a.getPort())
                            : ssl.newHandler(channel.alloc());
                    h.setHandshakeTimeoutMillis(millis);
                    channel.pipeline().addLast("tls", h);
                }
                channel.pipeline().addLast("http", x);
            } catch (Throwable e) {
                channel.unsafe().closeForcibly();
                callback.done(null, new Failure(Failure.Kind.CONNECT, reason(e) + " (" + target + ")"));
                return;
            }
            x.registration = loop.register(channel);
            x.registration.addListener(x);
        }
    }

    /**
     * One fetch on its channel, from registration to its one close: the connect, the deadline, the
     * request once the connection (and TLS) is up, and the response fed to the reader. Apart from
     * its construction, everything runs on the channel's event loop.
     */
    private static final class Exchange extends ChannelInboundHandlerAdapter implements ChannelFutureListener, Runnable {
        private final Fetcher fetcher;
        private final SocketChannel channel;
        private final long millis;
        private final long deadlineNanos;
        private final Callback callback;
        private final ResponseReader reader;
        ChannelFuture registration;
        private ChannelFuture sending;
        private ScheduledFuture<?> deadline;
        private boolean connected;
        private boolean sent;
        private boolean done;

        Exchange(Fetcher fetcher, SocketChannel channel, long millis, Callback callback) {
            this.fetcher = fetcher;
            this.channel = channel;
            this.millis = millis;
            this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            this.callback = callback;
            this.reader = new ResponseReader(fetcher.digest);
        }

        /** The registration, the connect or the request's write completed. */
        @Override
        public void operationComplete(ChannelFuture f) {
            if (done) {
                return;
            }
            if (f.isSuccess()) {
                if (f == registration) {
                    connect();
                }
                return;
            }
            if (f.isCancelled()) {
                return;
            }
            if (f == sending) {
                finish(null, new Failure(Failure.Kind.IO, "cannot send the request: " + reason(f.cause())));
            } else {
                finish(null, new Failure(Failure.Kind.CONNECT, reason(f.cause()) + " (" + fetcher.target + ")"));
            }
        }

        /** Registered: the deadline (counted from the fetch's start), then the connect. */
        private void connect() {
            deadline = channel.eventLoop().schedule(this, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            Request r = fetcher.request;
            ChannelFuture c = r.bindAddress() == null ? channel.connect(r.address()) : channel.connect(r.address(), r.bindAddress());
            c.addListener(this);
        }

        /** The deadline. */
        @Override
        public void run() {
            if (done) {
                return;
            }
            finish(null, Failure.deadline(connected, sent ? "complete response" : "TLS handshake", fetcher.target, millis));
        }

        /** The end, once: the deadline cancelled, the callback told, the channel closed. */
        private void finish(Response response, Failure failure) {
            if (done) {
                return;
            }
            done = true;
            if (deadline != null) {
                deadline.cancel(false);
            }
            try {
                callback.done(response, failure);
            } finally {
                if (channel.isOpen()) {
                    channel.close();
                }
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            connected = true;
            if (fetcher.ssl == null) {
                send(ctx);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e) {
                if (e.isSuccess()) {
                    send(ctx);
                } else {
                    finish(null, new Failure(Failure.Kind.TLS, "TLS handshake with " + fetcher.target + " failed: " + reason(e.cause())));
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void send(ChannelHandlerContext ctx) {
            if (done) {
                return;
            }
            sent = true;
            ByteBuf b = ctx.alloc().ioBuffer(fetcher.bytes.length).writeBytes(fetcher.bytes);
            sending = ctx.writeAndFlush(b);
            sending.addListener(this);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (!done) {
                    reader.feed(buf);
                }
            } finally {
                buf.release();
            }
            if (!done && reader.bodyComplete()) {
                finish(reader.finish(), null);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (done) {
                return;
            }
            boolean tls = fetcher.ssl != null;
            if (!sent) {
                finish(null, new Failure(tls ? Failure.Kind.TLS : Failure.Kind.NO_DATA,
                        "connection closed by " + fetcher.target + (tls ? " during the TLS handshake" : "")));
                return;
            }
            Response r = reader.finish();
            finish(r, r != null ? null : new Failure(Failure.Kind.NO_DATA, "no HTTP response from " + fetcher.target));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            finish(null, c instanceof SSLException
                    ? new Failure(Failure.Kind.TLS, "TLS with " + fetcher.target + " failed: " + reason(c))
                    : new Failure(Failure.Kind.IO, "reading from " + fetcher.target + " failed: " + reason(c)));
        }
    }

    private static SslContext sslContext() throws SSLException {
        SslContext c = insecure;
        if (c == null) {
            synchronized (HttpGet.class) {
                c = insecure;
                if (c == null) {
                    c = SslContextBuilder.forClient()
                            .trustManager(InsecureTrustManagerFactory.INSTANCE)
                            .endpointIdentificationAlgorithm(null)
                            .build();
                    insecure = c;
                }
            }
        }
        return c;
    }

    /**
     * An IPv6 address in its text form of RFC 5952 §4 (what keepalived's {@code inet_ntop} writes):
     * the longest run of two or more zero groups, the first of equal runs, becomes {@code ::}. The
     * zone ({@code %eth0}) is dropped: it means nothing to the server (RFC 6874 §1).
     */
    static String compress(String text) {
        int zone = text.indexOf('%');
        String[] groups = (zone >= 0 ? text.substring(0, zone) : text).split(":");
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; ) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        if (bestStart < 0) {
            return String.join(":", groups);
        }
        return String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart)) + "::"
                + String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
    }
}
