package dev.vigil.plugin.udp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.PortUnreachableException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static dev.vigil.api.Failures.reason;
import static dev.vigil.api.Failures.show;

/**
 * One {@code UDP_CHECK} target: a datagram channel on the host's event loop, connected to the
 * target (from {@code bindto}/{@code bind_port} when given) so that the kernel hands it the ICMP
 * errors about that peer (the host prepares its socket: {@code fwmark}, {@code bind_if}, and the
 * error queue, so that host and network unreachable count as well as port unreachable), one datagram sent, then whichever comes first of a reply, an error and
 * {@code connect_timeout}. The channel is closed when the probe completes.
 */
final class UdpProbe implements Probe {

    private final CheckContext context;
    private final CheckTarget target;
    private final byte[] payload;
    private final boolean requireReply;
    private final UdpChecker.Pattern pattern;
    private final int minLength;
    private final int maxLength;
    private final long timeoutMillis;
    /** The channel in flight, for {@link #close()}. */
    private volatile Channel inFlight;

    UdpProbe(CheckContext context, byte[] payload, boolean requireReply, UdpChecker.Pattern pattern, int minLength,
             int maxLength) {
        this.context = context;
        this.target = context.target();
        this.payload = payload.clone();
        this.requireReply = requireReply;
        this.pattern = pattern;
        this.minLength = minLength;
        this.maxLength = maxLength;
        this.timeoutMillis = Math.max(1, context.connectTimeout().toMillis());
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap()
                .group(context.eventLoop())
                .channelFactory(context.datagramChannels())
                .handler(new Answer(result));
        if (target.bindAddress() != null) {
            b.option(ChannelOption.SO_REUSEADDR, true);
        }
        ChannelFuture connect = target.bindAddress() == null
                ? b.connect(target.address())
                : b.connect(target.address(), target.bindAddress());
        Channel ch = connect.channel();
        inFlight = ch;
        ScheduledFuture<?> timer = context.eventLoop().schedule(() -> result.complete(requireReply
                ? CheckResult.of(CheckResult.Status.L4TOUT, "no reply from " + show(target.address()) + " within " + timeoutMillis + " ms")
                : CheckResult.of(CheckResult.Status.L4OK, "no ICMP unreachable from " + show(target.address()) + " within "
                        + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
        result.whenComplete((r, e) -> {
            timer.cancel(false);
            inFlight = null;
            close(ch);
        });
        connect.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                result.complete(CheckResult.of(CheckResult.Status.L4CON, (target.bindAddress() != null
                        ? "cannot bind to " + show(target.bindAddress()) + " or connect to " : "cannot connect to ")
                        + show(target.address()) + ": " + reason(done.cause())));
                return;
            }
            done.channel().writeAndFlush(Unpooled.wrappedBuffer(payload)).addListener((ChannelFutureListener) sent -> {
                if (!sent.isSuccess()) {
                    result.complete(failure(sent.cause()));
                }
            });
        });
        return result;
    }

    /** The channel's handler: the reply, or the error the kernel reports for the peer. */
    private final class Answer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<CheckResult> result;

        Answer(CompletableFuture<CheckResult> result) {
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf content = msg instanceof DatagramPacket p ? p.content() : msg instanceof ByteBuf buf ? buf : null;
                if (content != null) {
                    result.complete(verdict(ByteBufUtil.getBytes(content)));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.complete(failure(cause));
        }
    }

    /** A reply: keepalived's check_udp_reply(), the lengths and the pattern only when a pattern is given. */
    CheckResult verdict(byte[] reply) {
        String from = show(target.address());
        if (pattern != null) {
            if (reply.length < minLength || reply.length > maxLength) {
                return CheckResult.of(CheckResult.Status.L7RSP, "reply of " + reply.length + " octets from " + from
                        + " (expected: " + minLength + "-" + maxLength + ")");
            }
            if (!pattern.matches(reply)) {
                return CheckResult.of(CheckResult.Status.L7RSP, "reply " + preview(reply) + " from " + from
                        + " does not match require_reply");
            }
        }
        return CheckResult.of(pattern != null ? CheckResult.Status.L7OK : CheckResult.Status.L4OK,
                "reply of " + reply.length + " octets from " + from);
    }

    /** An error on the connected socket; {@code ECONNREFUSED} is the ICMP port unreachable of RFC 1122 §4.1.3.3. */
    CheckResult failure(Throwable cause) {
        String from = show(target.address());
        if (cause instanceof PortUnreachableException || String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT).contains("refused")) {
            return CheckResult.of(CheckResult.Status.L4CON, "ICMP port unreachable from " + from);
        }
        return CheckResult.of(CheckResult.Status.L4CON, reason(cause) + " (" + from + ")");
    }

    @Override
    public void close() {
        Channel ch = inFlight;
        if (ch != null) {
            close(ch);
        }
    }

    /** Closes {@code ch} unless it never opened (Netty's stand-in for a channel the factory could not make). */
    private static void close(Channel ch) {
        if (ch.isOpen()) {
            ch.close();
        }
    }

    /** The first 16 octets in hex. */
    private static String preview(byte[] reply) {
        String hex = HexFormat.of().formatHex(reply, 0, Math.min(reply.length, 16));
        return reply.length > 16 ? hex + "..." : hex;
    }

}
