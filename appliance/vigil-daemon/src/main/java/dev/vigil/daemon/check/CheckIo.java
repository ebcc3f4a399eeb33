package dev.vigil.daemon.check;

import dev.vigil.daemon.Log;
import dev.vigil.kernel.SocketOptions;
import dev.vigil.kernel.linux.LinuxSocketOptions;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The event loops every health checker does its I/O on: a few threads ({@value #THREADS}) shared
 * by all targets of all plugins, on Netty's epoll transport ({@code EpollIoHandler}) where the
 * native library loads, else on NIO. Each target is given one loop for its life
 * ({@link #next()}, round robin), so its channels and timers run on one thread. On epoll the
 * channels' descriptors are reachable ({@link #descriptor}), and {@link #socketOptions()} sets what
 * Netty cannot on them.
 *
 * <p><b>Lag.</b> Each loop runs a tick every {@value #TICK_MS} ms that notes how late it ran: a
 * loop that falls behind (more probes than its thread gets CPU for) runs its timers, and so the
 * probes' own deadlines, late, and its checks may time out though the servers answer.
 * {@link #lagSince} tells the engine whether a probe's loop lagged while it ran, so that the host's
 * lateness is not taken for the plugin's or the server's fault.
 */
public final class CheckIo implements AutoCloseable {

    /** Event-loop threads: enough for 10,000 asynchronous probes a second; more only adds switching. */
    public static final int THREADS = 2;

    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> socketType;
    private final Class<? extends DatagramChannel> datagramType;
    private final String transport;
    private final SocketOptions socketOptions;
    private final Map<EventLoop, LagTick> ticks = new IdentityHashMap<>();

    /** How often each loop's lag is measured. */
    static final long TICK_MS = 100;
    /** Ticks remembered per loop: 51 s at the nominal rate, longer than any probe lasts. */
    private static final int LAG_HISTORY = 512;

    /**
     * One loop's tick: re-schedules itself and notes, in a ring, when it ran and how late. Written
     * on the loop, read from the engine: a slot overwritten while read costs one verdict at most.
     */
    private static final class LagTick implements Runnable {
        final EventLoop loop;
        final long[] at = new long[LAG_HISTORY];
        final long[] lag = new long[LAG_HISTORY];
        volatile int count;
        volatile long due;

        LagTick(EventLoop loop) {
            this.loop = loop;
        }

        void arm() {
            due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TICK_MS);
            try {
                loop.schedule(this, TICK_MS, TimeUnit.MILLISECONDS);
            } catch (RuntimeException shuttingDown) {
                // the loop is closing
            }
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            int n = count;
            at[n % LAG_HISTORY] = now;
            lag[n % LAG_HISTORY] = Math.max(0, now - due);
            count = n + 1;
            arm();
        }

        /** The worst lag since {@code since}: of the ticks run since, and of the tick overdue now. */
        long since(long since) {
            long worst = System.nanoTime() - due;
            int n = count;
            for (int i = n - 1; i >= 0 && i >= n - LAG_HISTORY; i--) {
                int slot = i % LAG_HISTORY;
                if (at[slot] - since < 0) {
                    break;
                }
                worst = Math.max(worst, lag[slot]);
            }
            return Math.max(0, worst);
        }
    }

    private CheckIo(EventLoopGroup group, Class<? extends SocketChannel> socketType,
                    Class<? extends DatagramChannel> datagramType, String transport, SocketOptions socketOptions) {
        this.group = group;
        this.socketType = socketType;
        this.datagramType = datagramType;
        this.transport = transport;
        this.socketOptions = socketOptions;
        for (var executor : group) {
            if (executor instanceof EventLoop loop) {
                LagTick t = new LagTick(loop);
                ticks.put(loop, t);
                t.arm();
            }
        }
    }

    /**
     * How late {@code loop} ran its tasks at worst since {@code since} ({@link System#nanoTime}),
     * in nanoseconds; 0 for a loop not of this group.
     */
    public long lagSince(EventLoop loop, long since) {
        LagTick t = ticks.get(loop);
        return t == null ? 0 : t.since(since);
    }

    /** Starts {@code threads} daemon loop threads named {@code vigil-check-io-*}. */
    public static CheckIo open(int threads) {
        var factory = new DefaultThreadFactory("vigil-check-io", true);
        if (Epoll.isAvailable()) {
            IoHandlerFactory io = EpollIoHandler.newFactory();
            return new CheckIo(new MultiThreadIoEventLoopGroup(threads, factory, io), EpollSocketChannel.class,
                    EpollDatagramChannel.class, "epoll", LinuxSocketOptions.INSTANCE);
        }
        Throwable why = Epoll.unavailabilityCause();
        Log.warn("checks", "Netty's epoll transport is unavailable (" + (why != null ? why.getMessage() : "unknown reason")
                + "); the health checkers use NIO");
        return new CheckIo(new MultiThreadIoEventLoopGroup(threads, factory, NioIoHandler.newFactory()),
                NioSocketChannel.class, NioDatagramChannel.class, "nio", null);
    }

    /** The loop for a new target. */
    public EventLoop next() {
        return group.next();
    }

    public Class<? extends SocketChannel> socketChannelType() {
        return socketType;
    }

    public Class<? extends DatagramChannel> datagramChannelType() {
        return datagramType;
    }

    /** The options Netty does not set ({@code SO_MARK}, ...), or {@code null} on NIO, whose descriptors are out of reach. */
    public SocketOptions socketOptions() {
        return socketOptions;
    }

    /** The descriptor of {@code channel}'s socket, or -1 when its transport does not expose it (NIO). */
    public static int descriptor(Channel channel) {
        return channel instanceof UnixChannel u && u.fd().isOpen() ? u.fd().intValue() : -1;
    }

    /** {@code epoll} or {@code nio}. */
    public String transport() {
        return transport;
    }

    /** Stops the loops without the default two-second quiet period; waits up to two seconds. */
    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
