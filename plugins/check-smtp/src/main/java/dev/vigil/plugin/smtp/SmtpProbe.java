package dev.vigil.plugin.smtp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
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

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * One {@code SMTP_CHECK} target: for each host, a connection on the host's event loop that holds
 * the {@link SmtpDialogue}, all within the host's time budget (connection and dialogue together).
 * The hosts are probed at the same time; the probe passes when every host passes, and otherwise
 * fails with the first failing host's result, in the order the hosts are written.
 */
final class SmtpProbe implements Probe {

    /**
     * One host to hold the dialogue with.
     *
     * @param address where to connect
     * @param bind    the local address to bind, or {@code null}
     * @param millis  how long the connection and the dialogue may take together
     */
    record Host(InetSocketAddress address, InetSocketAddress bind, long millis) {
    }

    private final CheckContext context;
    private final String helo;
    private final List<Host> hosts;
    /** The connections in flight, for {@link #close()}. */
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();

    SmtpProbe(CheckContext context, String helo, List<Host> hosts) {
        this.context = context;
        this.helo = helo;
        this.hosts = List.copyOf(hosts);
    }

    @Override
    public CompletionStage<CheckResult> run() {
        long start = context.nanoTime();
        if (hosts.size() == 1) {
            return session(hosts.get(0), start);
        }
        List<CompletableFuture<CheckResult>> each = hosts.stream().map(h -> session(h, start)).toList();
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            for (int i = 0; i < each.size(); i++) {
                CheckResult r = each.get(i).join();
                if (!r.pass()) {
                    return CheckResult.of(r.status(), "host " + show(hosts.get(i).address()) + ": " + r.detail());
                }
            }
            return CheckResult.of(CheckResult.Status.L7OK, "all " + hosts.size() + " hosts answered: "
                    + each.get(0).join().detail());
        });
    }

    /** Connects to {@code host} and holds the dialogue; the stage completes exactly once. */
    private CompletableFuture<CheckResult> session(Host host, long start) {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        Session session = new Session(host, start, result);
        Bootstrap b = new Bootstrap()
                .group(context.eventLoop())
                .channelFactory(context.socketChannels())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, host.millis()))
                .handler(session);
        if (host.bind() != null) {
            b.option(ChannelOption.SO_REUSEADDR, true);
        }
        ChannelFuture connect = host.bind() == null ? b.connect(host.address()) : b.connect(host.address(), host.bind());
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
                session.finish(connectFailed(done.cause(), host.address(), host.bind(), host.millis()));
            }
        });
        return result;
    }

    /**
     * The pipeline's only handler for one connection: collects the server's lines, feeds them to the
     * dialogue and writes what it says; the deadline runs from the start of the probe.
     */
    private final class Session extends ChannelInboundHandlerAdapter {
        private final Host host;
        private final long start;
        private final CompletableFuture<CheckResult> result;
        private final SmtpDialogue dialogue = new SmtpDialogue(helo);
        /** The bytes of the line being read; at most {@link SmtpDialogue#MAX_LINE}. */
        private final StringBuilder line = new StringBuilder();
        private ScheduledFuture<?> deadline;

        Session(Host host, long start, CompletableFuture<CheckResult> result) {
            this.host = host;
            this.start = start;
            this.result = result;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            long left = Math.max(1, host.millis() - TimeUnit.NANOSECONDS.toMillis(context.nanoTime() - start));
            deadline = ctx.executor().schedule(() -> finish(CheckResult.of(
                    dialogue.phase() == SmtpDialogue.Phase.BANNER && !ctx.channel().isActive()
                            ? CheckResult.Status.L4TOUT : CheckResult.Status.L7TOUT,
                    "no complete SMTP dialogue with " + show(host.address()) + " within " + host.millis() + " ms ("
                            + (ctx.channel().isActive() ? dialogue.waitingFor() : "connecting") + ")")),
                    left, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf in = (ByteBuf) msg;
                while (in.isReadable() && !result.isDone()) {
                    byte b = in.readByte();
                    if (b == '\n') {
                        int end = line.length();
                        if (end > 0 && line.charAt(end - 1) == '\r') {
                            line.setLength(end - 1);
                        }
                        String text = line.toString();
                        line.setLength(0);
                        act(ctx, dialogue.line(text));
                    } else if (line.length() >= SmtpDialogue.MAX_LINE) {
                        act(ctx, dialogue.overlong());
                    } else {
                        // ISO-8859-1: one char per byte, whatever the server sends.
                        line.append((char) (b & 0xff));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void act(ChannelHandlerContext ctx, SmtpDialogue.Step step) {
            switch (step) {
                case SmtpDialogue.Step.Wait w -> {
                }
                case SmtpDialogue.Step.Send s -> ctx.writeAndFlush(
                        Unpooled.copiedBuffer(s.line() + "\r\n", StandardCharsets.US_ASCII)).addListener(
                        (ChannelFutureListener) f -> {
                            if (!f.isSuccess()) {
                                finish(CheckResult.of(CheckResult.Status.L7RSP, "cannot send to " + show(host.address())
                                        + ": " + reason(f.cause())));
                            }
                        });
                case SmtpDialogue.Step.Done d -> finish(d.result().pass()
                        ? CheckResult.of(d.result().status(), d.result().detail() + " from " + show(host.address())
                        + " in " + millis(context.nanoTime() - start) + " ms")
                        : d.result());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (dialogue.closed() instanceof SmtpDialogue.Step.Done d) {
                finish(d.result());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(CheckResult.of(CheckResult.Status.L7RSP, reason(cause) + " (" + show(host.address()) + ") "
                    + dialogue.waitingFor()));
        }

        /** Completes the host's result once; the connection is closed by the result's listener. */
        void finish(CheckResult r) {
            if (deadline != null) {
                deadline.cancel(false);
            }
            result.complete(r);
        }
    }

    @Override
    public void close() {
        open.forEach(Channel::close);
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
