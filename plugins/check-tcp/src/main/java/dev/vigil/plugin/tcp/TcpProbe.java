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

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static dev.vigil.api.Failures.connectFailed;
import static dev.vigil.api.Failures.reason;
import static dev.vigil.api.Failures.show;

/**
 * One {@code TCP_CHECK} target: an asynchronous connect on the host's event loop, bounded by
 * Netty's connect timeout ({@code connect_timeout}), from {@code bindto}/{@code bind_port} when
 * given, on a socket the host prepared ({@code fwmark}, {@code bind_if}). A success closes the connection at once (an orderly close, as keepalived does).
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
                .channelFactory(context.socketChannels())
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
                result.complete(connectFailed(done.cause(), target.address(), target.bindAddress(), timeoutMillis));
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

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
