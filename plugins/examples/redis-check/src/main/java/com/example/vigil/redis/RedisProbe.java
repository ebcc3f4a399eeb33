package com.example.vigil.redis;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static dev.vigil.api.Failures.connectFailed;
import static dev.vigil.api.Failures.reason;
import static dev.vigil.api.Failures.show;

/**
 * One {@code REDIS_CHECK} target. Each probe opens a connection on the host's event loop, writes
 * {@code AUTH} (with a password) and {@code PING} at once, RESP arrays of bulk strings
 * ({@code *1\r\n$4\r\nPING\r\n}), and reads the replies in order: {@code +OK} to {@code AUTH}, then
 * the expected line to {@code PING}. Redis answers pipelined commands in the order they came, so
 * both may go in one write. The whole exchange, connection included, has {@code connect_timeout};
 * the connection is closed when the probe ends, whatever its result.
 *
 * <p>Everything here runs on the event loop except {@link #run()}'s start and {@link #close()},
 * and nothing blocks: the connection, the deadline and the reply are all callbacks.
 */
final class RedisProbe implements Probe {

    private final CheckContext context;
    private final CheckTarget target;
    private final boolean auth;
    private final String expect;
    private final long timeoutMillis;
    /** The commands, encoded once: RESP arrays of bulk strings. */
    private final byte[] request;
    /** The connections in flight, for {@link #close()}. */
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();

    RedisProbe(CheckContext context, byte[] password, String expect) {
        this.context = context;
        this.target = context.target();
        this.auth = password != null;
        this.expect = expect;
        this.timeoutMillis = Math.max(1, Math.min(Integer.MAX_VALUE, context.connectTimeout().toMillis()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (auth) {
            command(out, "AUTH".getBytes(StandardCharsets.US_ASCII), password);
        }
        command(out, "PING".getBytes(StandardCharsets.US_ASCII));
        this.request = out.toByteArray();
    }

    /** RESP: {@code *N\r\n} then {@code $LEN\r\nBYTES\r\n} per word. */
    private static void command(ByteArrayOutputStream out, byte[]... words) {
        out.writeBytes(("*" + words.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] w : words) {
            out.writeBytes(("$" + w.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(w);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        Exchange exchange = new Exchange(context.nanoTime(), result);
        Bootstrap b = new Bootstrap()
                .group(context.eventLoop())
                .channelFactory(context.socketChannels())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                .handler(exchange);
        if (target.bindAddress() != null) {
            // A fixed bind_port is reused probe after probe while the last connection sits in TIME_WAIT.
            b.option(ChannelOption.SO_REUSEADDR, true);
        }
        ChannelFuture connect = target.bindAddress() == null
                ? b.connect(target.address())
                : b.connect(target.address(), target.bindAddress());
        Channel ch = connect.channel();
        open.add(ch);
        result.whenComplete((r, e) -> {
            open.remove(ch);
            if (ch.isOpen()) {
                ch.close();
            }
        });
        connect.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                exchange.finish(connectFailed(done.cause(), target.address(), target.bindAddress(), timeoutMillis));
            }
        });
        return result;
    }

    /** The probe's only handler: writes the commands once connected, reads reply lines, keeps the deadline. */
    private final class Exchange extends ChannelInboundHandlerAdapter {
        private final long start;
        private final CompletableFuture<CheckResult> result;
        /** The reply line being read, one char per byte; at most {@link RedisChecker#MAX_LINE}. */
        private final StringBuilder line = new StringBuilder();
        /** Whether the reply to {@code AUTH} is still to come. */
        private boolean awaitingAuth = auth;
        private ScheduledFuture<?> deadline;

        Exchange(long start, CompletableFuture<CheckResult> result) {
            this.start = start;
            this.result = result;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            long left = Math.max(1, timeoutMillis - TimeUnit.NANOSECONDS.toMillis(context.nanoTime() - start));
            deadline = ctx.executor().schedule(() -> finish(ctx.channel().isActive()
                    ? CheckResult.of(CheckResult.Status.L7TOUT, "no reply " + waitingFor() + " from " + show(target.address())
                            + " within " + timeoutMillis + " ms")
                    : CheckResult.of(CheckResult.Status.L4TOUT, "no connection to " + show(target.address())
                            + " within " + timeoutMillis + " ms")), left, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(request)).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    finish(CheckResult.of(CheckResult.Status.L7RSP, "cannot send to " + show(target.address()) + ": "
                            + reason(f.cause())));
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf in = (ByteBuf) msg;
                while (in.isReadable() && !result.isDone()) {
                    byte b = in.readByte();
                    if (b == '\n' && !line.isEmpty() && line.charAt(line.length() - 1) == '\r') {
                        line.setLength(line.length() - 1);
                        reply(line.toString());
                        line.setLength(0);
                    } else if (line.length() >= RedisChecker.MAX_LINE) {
                        finish(CheckResult.of(CheckResult.Status.L7RSP, "reply line longer than " + RedisChecker.MAX_LINE
                                + " bytes " + waitingFor() + " from " + show(target.address())));
                    } else {
                        line.append((char) (b & 0xff));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /**
         * One reply line. Only simple strings and errors can pass, and both are one line, so a
         * reply of another type (a bulk string, an array) fails at its first line.
         */
        private void reply(String text) {
            if (awaitingAuth) {
                if (!text.equals("+OK")) {
                    finish(CheckResult.of(CheckResult.Status.L7RSP, "AUTH answered " + quote(text) + " (expected +OK)"));
                    return;
                }
                awaitingAuth = false;
                return;
            }
            if (text.equals(expect)) {
                finish(CheckResult.of(CheckResult.Status.L7OK, "PING answered " + expect + " by " + show(target.address())
                        + " in " + millis(context.nanoTime() - start) + " ms"));
            } else {
                finish(CheckResult.of(CheckResult.Status.L7RSP, "PING answered " + quote(text) + " (expected " + expect + ")"));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            finish(CheckResult.of(CheckResult.Status.L7RSP, "connection closed by " + show(target.address()) + " "
                    + waitingFor()));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(CheckResult.of(CheckResult.Status.L7RSP, reason(cause) + " (" + show(target.address()) + ") " + waitingFor()));
        }

        /** Completes the probe once; later calls (the deadline after a reply, the close after a failure) do nothing. */
        void finish(CheckResult r) {
            if (result.complete(r) && deadline != null) {
                deadline.cancel(false);
            }
        }

        private String waitingFor() {
            return awaitingAuth ? "while waiting for the reply to AUTH" : "while waiting for the reply to PING";
        }
    }

    @Override
    public void close() {
        open.forEach(Channel::close);
    }

    /** The server's line in quotes, control characters as {@code \xNN}, cut at 120 characters. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            out.append(c < 0x20 || c >= 0x7f ? String.format(Locale.ROOT, "\\x%02x", (int) c & 0xff) : String.valueOf(c));
        }
        return out.append(s.length() > 120 ? "...\"" : "\"").toString();
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
