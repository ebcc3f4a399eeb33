package dev.vigil.plugin.tcp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One {@code TCP_CHECK} target: an asynchronous connect on the host's event loop, bounded by
 * Netty's connect timeout ({@code connect_timeout}), from {@code bindto}/{@code bind_port} when
 * given. A success closes the connection at once (an orderly close, as keepalived does).
 */
final class TcpProbe implements Probe {

    private final CheckContext context;
    private final CheckTarget target;
    private final Bootstrap bootstrap;
    private final long timeoutMillis;
    /** The connect in flight, for {@link #close()}; set by {@link #run()}, cleared by its listener. */
    private volatile ChannelFuture inFlight;

    TcpProbe(CheckContext context) {
        this.context = context;
        this.target = context.target();
        this.timeoutMillis = Math.max(1, Math.min(Integer.MAX_VALUE, context.connectTimeout().toMillis()));
        Bootstrap b = new Bootstrap()
                .group(context.eventLoop())
                .channel(context.socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                .option(ChannelOption.AUTO_READ, false)
                .handler(Quiet.INSTANCE);
        if (target.bindAddress() != null) {
            // A fixed bind_port is reused probe after probe while the last connection sits in TIME_WAIT.
            b.option(ChannelOption.SO_REUSEADDR, true);
        }
        this.bootstrap = b;
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        long start = context.nanoTime();
        ChannelFuture connect = target.bindAddress() == null
                ? bootstrap.connect(target.address())
                : bootstrap.connect(target.address(), target.bindAddress());
        inFlight = connect;
        connect.addListener((ChannelFutureListener) done -> {
            inFlight = null;
            if (done.isSuccess()) {
                result.complete(CheckResult.of(CheckResult.Status.L4OK,
                        "connected to " + show(target.address()) + " in " + millis(context.nanoTime() - start) + " ms"));
            } else {
                result.complete(failure(done.cause()));
            }
            if (done.channel().isRegistered()) {
                done.channel().close();
            }
        });
        return result;
    }

    /** The pipeline's only handler: nothing is read (auto-read is off) and nothing is written. */
    @ChannelHandler.Sharable
    static final class Quiet extends ChannelInboundHandlerAdapter {
        static final Quiet INSTANCE = new Quiet();
    }

    /** The failure's status and reason: timeout, refusal, or whatever else the kernel said. */
    CheckResult failure(Throwable cause) {
        String to = show(target.address());
        if (cause instanceof ConnectTimeoutException) {
            return CheckResult.of(CheckResult.Status.L4TOUT, "no connection to " + to + " within " + timeoutMillis + " ms");
        }
        if (cause instanceof BindException) {
            return CheckResult.of(CheckResult.Status.L4CON, "cannot bind to " + show(target.bindAddress()) + ": " + reason(cause));
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return CheckResult.of(CheckResult.Status.L4CON, reason(cause) + " (" + to + ")");
        }
        if (cause != null && cause.getClass().getSimpleName().equals("CancellationException")) {
            return CheckResult.of(CheckResult.Status.L4CON, "connect to " + to + " cancelled");
        }
        return CheckResult.of(CheckResult.Status.L4CON, "connect to " + to + " failed: " + reason(cause));
    }

    @Override
    public void close() {
        ChannelFuture f = inFlight;
        if (f != null) {
            f.cancel(false);
            if (f.channel().isRegistered()) {
                f.channel().close();
            }
        }
    }

    /**
     * The kernel's words without Netty's decoration: {@code connection refused} from
     * {@code finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:80} (epoll)
     * or {@code Connection refused: /127.0.0.1:80} (NIO).
     */
    static String reason(Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String m = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        int addr = m.indexOf(": /");
        if (addr >= 0) {
            m = m.substring(0, addr);
        }
        int colon = m.lastIndexOf(": ");
        if (colon >= 0 && m.substring(0, colon).contains("(..)")) {
            m = m.substring(colon + 2);
        }
        return m.toLowerCase(Locale.ROOT);
    }

    private static String show(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
