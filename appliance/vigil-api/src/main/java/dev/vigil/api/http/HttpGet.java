package dev.vigil.api.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
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
 * checker's {@code connect_timeout}.
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
     * @param digest        MD5 of the body as 32 lower-case hex digits (keepalived's {@code digest})
     * @param bodyBytes     how many body bytes were hashed
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

        /** The step that failed. */
        public Kind kind() {
            return kind;
        }
    }

    /** One client context for every {@code SSL_GET}: no trust store, no name check (the class comment says why). */
    private static volatile SslContext insecure;

    private HttpGet() {
    }

    /**
     * Sends {@code request} on {@code loop} and reads the response; the stage completes once, on
     * the loop, with the {@link Response} or exceptionally with a {@link Failure}, within
     * {@code timeout}. Returns at once.
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
        CompletableFuture<Response> result = new CompletableFuture<>();
        long millis = Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        SslContext ssl;
        try {
            ssl = request.tls() ? sslContext() : null;
        } catch (SSLException e) {
            result.completeExceptionally(new Failure(Failure.Kind.TLS, "no TLS context: " + e.getMessage()));
            return result;
        }
        Exchange exchange = new Exchange(request, result);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channelFactory(channels)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) millis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            InetSocketAddress a = request.address();
                            SslHandler h = request.serverName() != null
                                    ? ssl.newHandler(ch.alloc(), request.serverName(), a.getPort())
                                    : ssl.newHandler(ch.alloc());
                            h.setHandshakeTimeoutMillis(millis);
                            ch.pipeline().addLast(h);
                        }
                        ch.pipeline().addLast(exchange);
                    }
                });
        if (request.bindAddress() != null) {
            b.option(ChannelOption.SO_REUSEADDR, true);
        }
        ChannelFuture connect = request.bindAddress() == null
                ? b.connect(request.address())
                : b.connect(request.address(), request.bindAddress());
        ScheduledFuture<?> deadline = loop.schedule(() -> {
            boolean connected = connect.isDone() && connect.isSuccess();
            result.completeExceptionally(connected
                    ? new Failure(Failure.Kind.TIMEOUT, (exchange.sent ? "no complete response" : "no TLS handshake")
                            + " within " + millis + " ms")
                    : new Failure(Failure.Kind.CONNECT_TIMEOUT, "no connection to " + show(request.address()) + " within " + millis + " ms"));
            connect.cancel(false);
            close(connect.channel());
        }, millis, TimeUnit.MILLISECONDS);
        result.whenComplete((r, e) -> {
            deadline.cancel(false);
            close(connect.channel());
        });
        connect.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess() && !done.isCancelled()) {
                result.completeExceptionally(done.cause() instanceof ConnectTimeoutException
                        ? new Failure(Failure.Kind.CONNECT_TIMEOUT, "no connection to " + show(request.address()) + " within " + millis + " ms")
                        : new Failure(Failure.Kind.CONNECT, reason(done.cause()) + " (" + show(request.address()) + ")"));
            }
        });
        return result;
    }

    /** Closes {@code channel} unless it never opened: the stand-in Netty returns when the channel factory failed has no event loop. */
    private static void close(Channel channel) {
        if (channel.isOpen()) {
            channel.close();
        }
    }

    /** The pipeline's last handler: sends the request once the connection (and TLS) is up, feeds the reader. */
    private static final class Exchange extends ChannelInboundHandlerAdapter {
        private final Request request;
        private final CompletableFuture<Response> result;
        private final ResponseReader reader = new ResponseReader();
        private final byte[] chunk = new byte[8192];
        volatile boolean sent;

        Exchange(Request request, CompletableFuture<Response> result) {
            this.request = request;
            this.result = result;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!request.tls()) {
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
                    result.completeExceptionally(new Failure(Failure.Kind.TLS, "TLS handshake with "
                            + show(request.address()) + " failed: " + reason(e.cause())));
                    ctx.close();
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void send(ChannelHandlerContext ctx) {
            sent = true;
            ByteBuf bytes = Unpooled.wrappedBuffer(request.text().getBytes(StandardCharsets.ISO_8859_1));
            ctx.writeAndFlush(bytes).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    result.completeExceptionally(new Failure(Failure.Kind.IO, "cannot send the request: " + reason(f.cause())));
                    ctx.close();
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                while (buf.isReadable()) {
                    int n = Math.min(chunk.length, buf.readableBytes());
                    buf.readBytes(chunk, 0, n);
                    reader.feed(chunk, 0, n);
                }
            } finally {
                buf.release();
            }
            if (reader.bodyComplete()) {
                result.complete(reader.finish());
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!sent) {
                result.completeExceptionally(new Failure(request.tls() ? Failure.Kind.TLS : Failure.Kind.NO_DATA,
                        "connection closed by " + show(request.address()) + (request.tls() ? " during the TLS handshake" : "")));
                return;
            }
            Response r = reader.finish();
            if (r != null) {
                result.complete(r);
            } else {
                result.completeExceptionally(new Failure(Failure.Kind.NO_DATA, "no HTTP response from " + show(request.address())));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            result.completeExceptionally(c instanceof SSLException
                    ? new Failure(Failure.Kind.TLS, "TLS with " + show(request.address()) + " failed: " + reason(c))
                    : new Failure(Failure.Kind.IO, "reading from " + show(request.address()) + " failed: " + reason(c)));
            ctx.close();
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
