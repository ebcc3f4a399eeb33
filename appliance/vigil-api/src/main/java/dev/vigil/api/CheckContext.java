package dev.vigil.api;

import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;

import java.time.Duration;

/**
 * What the host gives one checker instance (one block of one real server): its configuration, its
 * target, the shared Netty event loop to do I/O and keep timers on, a clock and a logger. The
 * plugin sees nothing else of the daemon: not the plugin manager, the other targets or the
 * forwarder. Results go back through the stage {@link Probe#run()} returns, which ties each result
 * to its probe.
 *
 * <p><b>Threading.</b> Every method is cheap, thread-safe and non-blocking.
 *
 * <p><b>The event loop.</b> Checkers are asynchronous: a probe registers its channels on
 * {@link #eventLoop()} (Netty's epoll transport on Linux) and is called back there. The host runs
 * a few event-loop threads for all targets of all plugins, so that 10,000 targets share two
 * threads: code running on the loop (channel handlers, listeners, scheduled tasks) must never
 * block, sleep or wait for another thread. The loop is also the checker's scheduler
 * ({@code eventLoop().schedule(...)}). Netty is supplied by the host: a plugin depends on it with
 * {@code provided} scope and never bundles its own copy.
 */
public interface CheckContext {

    /** What to probe. */
    CheckTarget target();

    /** The checker's block as written, with locations. */
    ConfigBlock config();

    /**
     * {@code connect_timeout}: how long a probe may take, connection and answer included (keepalived
     * uses it for both). The host allows a short grace period beyond it before it fails the probe
     * with {@link CheckResult.Status#PLUGINERR}.
     */
    Duration connectTimeout();

    /** The event loop this target's probes run on; the same loop for every probe of this instance. */
    EventLoop eventLoop();

    /** The TCP channel class for {@link #eventLoop()} ({@code EpollSocketChannel} on Linux), for a {@code Bootstrap}. */
    Class<? extends SocketChannel> socketChannelType();

    /** The UDP channel class for {@link #eventLoop()} ({@code EpollDatagramChannel} on Linux). */
    Class<? extends DatagramChannel> datagramChannelType();

    /** Monotonic time in nanoseconds (any origin): measure with it, never with the wall clock. */
    long nanoTime();

    /**
     * The logger for this instance: its lines carry the target's name and the checker keyword.
     * The host logs every state change itself; log what only the plugin knows, sparingly (a line
     * per probe of 10,000 targets floods the log).
     */
    System.Logger logger();
}
