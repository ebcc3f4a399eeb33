package dev.vigil.plugin.tcp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static dev.vigil.api.Failures.connectFailed;
import static dev.vigil.api.Failures.show;

/**
 * One {@code TCP_CHECK} target: an asynchronous connect on the host's event loop, bounded by
 * Netty's connect timeout ({@code connect_timeout}), from {@code bindto}/{@code bind_port} when
 * given, on a socket the host prepared ({@code fwmark}, {@code bind_if}). A success closes the connection at once (an orderly close, as keepalived does).
 *
 * <p>The channel factory is the host's, taken once; each probe opens its channel with it on the
 * calling thread, registers it with the loop and connects from the registration's listener, on
 * the loop: no {@code Bootstrap} (whose every connect copies its options and hops to the loop
 * once more), no handler (nothing is read: auto-read is off, and nothing is written).
 */
final class TcpProbe implements Probe {

    private final CheckContext context;
    private final CheckTarget target;
    private final ChannelFactory<SocketChannel> channels;
    private final int timeoutMillis;
    private final String shown;
    /** The attempt in flight, for {@link #close()}; set by {@link #run()}, cleared when it ends. */
    private volatile Attempt inFlight;

    TcpProbe(CheckContext context) {
        this.context = context;
        this.target = context.target();
        this.channels = context.socketChannels();
        this.timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, context.connectTimeout().toMillis()));
        this.shown = "connected to " + show(target.address()) + " in ";
    }

    @Override
    public CompletionStage<CheckResult> run() {
        Attempt a = new Attempt(context.nanoTime());
        SocketChannel channel;
        try {
            channel = channels.newChannel();
        } catch (Throwable e) {
            a.result.complete(connectFailed(e, target.address(), target.bindAddress(), timeoutMillis));
            return a.result;
        }
        a.channel = channel;
        try {
            channel.config().setConnectTimeoutMillis(timeoutMillis);
            channel.config().setAutoRead(false);
            if (target.bindAddress() != null) {
                // A fixed bind_port is reused probe after probe while the last connection sits in TIME_WAIT.
                channel.config().setOption(ChannelOption.SO_REUSEADDR, true);
            }
        } catch (Throwable e) {
            channel.unsafe().closeForcibly();
            a.result.complete(connectFailed(e, target.address(), target.bindAddress(), timeoutMillis));
            return a.result;
        }
        inFlight = a;
        a.registration = context.eventLoop().register(channel);
        a.registration.addListener(a);
        return a.result;
    }

    /** One probe: the registration's listener connects, the connect's listener completes the result and closes. */
    private final class Attempt implements ChannelFutureListener {
        final CompletableFuture<CheckResult> result = new CompletableFuture<>();
        private final long start;
        SocketChannel channel;
        ChannelFuture registration;

        Attempt(long start) {
            this.start = start;
        }

        @Override
        public void operationComplete(ChannelFuture f) {
            if (f == registration && f.isSuccess()) {
                ChannelFuture c = target.bindAddress() == null
                        ? channel.connect(target.address())
                        : channel.connect(target.address(), target.bindAddress());
                c.addListener(this);
                return;
            }
            inFlight = null;
            if (f.isSuccess()) {
                result.complete(CheckResult.of(CheckResult.Status.L4OK, shown + millis(context.nanoTime() - start) + " ms"));
            } else {
                result.complete(connectFailed(f.cause(), target.address(), target.bindAddress(), timeoutMillis));
            }
            if (channel.isRegistered()) {
                channel.close();
            } else {
                channel.unsafe().closeForcibly();
            }
        }
    }

    @Override
    public void close() {
        Attempt a = inFlight;
        if (a != null && a.channel.isRegistered()) {
            a.channel.close();
        }
    }

    /** {@code nanos} in milliseconds with one decimal, rounded half up: {@code 0.4}, {@code 12.0}. */
    static String millis(long nanos) {
        long tenths = (Math.max(0, nanos) + 50_000) / 100_000;
        return tenths / 10 + "." + tenths % 10;
    }
}
