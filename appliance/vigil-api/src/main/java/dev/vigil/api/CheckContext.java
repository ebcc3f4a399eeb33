package dev.vigil.api;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;

import java.io.IOException;
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
 *
 * <p><b>Sockets.</b> A checker block's {@code fwmark} and {@code bind_if} (and, for a datagram
 * socket, the ICMP errors keepalived's {@code UDP_CHECK} asks the kernel for) are socket options
 * Netty does not offer. The host sets them: a plugin opens its channels through
 * {@link #socketChannels()} or {@link #datagramChannels()} ({@code Bootstrap.channelFactory}), or
 * hands a channel of its own to {@link #prepare(Channel)} before connecting or binding it.
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

    /**
     * What the block inherits from its real server and virtual server ({@code virtualhost}),
     * for the plugin to use where the block does not say otherwise. This default, for a plugin's
     * own test double of a context, inherits nothing; the host's context returns what the
     * configuration says.
     */
    default Inherited inherited() {
        return Inherited.NONE;
    }

    /** The event loop this target's probes run on; the same loop for every probe of this instance. */
    EventLoop eventLoop();

    /** The TCP channel class for {@link #eventLoop()} ({@code EpollSocketChannel} on Linux), for a {@code Bootstrap}. */
    Class<? extends SocketChannel> socketChannelType();

    /** The UDP channel class for {@link #eventLoop()} ({@code EpollDatagramChannel} on Linux). */
    Class<? extends DatagramChannel> datagramChannelType();

    /**
     * Sets on {@code channel}'s socket what the block asks of every socket it opens: the mark
     * ({@code fwmark}, {@code SO_MARK}) and the interface ({@code bind_if}, {@code SO_BINDTODEVICE})
     * of {@link #target()}, and on a {@link DatagramChannel} the extended error queue
     * ({@code IP_RECVERR}, {@code IPV6_RECVERR}), so that an ICMP host or network unreachable fails
     * the channel's next read at once (as an {@code IOException} "No route to host", "Network is
     * unreachable") instead of being ignored until a timeout. Call it once per channel, after the
     * channel is created and before it binds or connects; a channel of any other event loop or
     * transport than this context's is not supported.
     *
     * <p>Does nothing when there is nothing to set (and, in this default, for a plugin's own test
     * double of a context). Cheap, never blocks; may be called on any thread.
     *
     * @throws IOException when an option cannot be set (an interface that does not exist, a
     *                     transport without access to the socket, no privilege to mark), with a
     *                     message fit for a result's detail, e.g.
     *                     {@code bind_if eth9: No such device}; the channel is left open, for the
     *                     caller to close
     */
    default void prepare(Channel channel) throws IOException {
        // A plugin's own test double sets nothing; the host's context sets what the block asks.
    }

    /**
     * Channels of {@link #socketChannelType()}, each {@link #prepare prepared}, for
     * {@code Bootstrap.channelFactory}. A channel that cannot be prepared is closed, and the factory
     * throws a {@link ChannelException} with the reason, which Netty's {@code Bootstrap} makes the
     * cause of the failed connect (or bind) future.
     */
    default ChannelFactory<SocketChannel> socketChannels() {
        return prepared(new ReflectiveChannelFactory<SocketChannel>(socketChannelType()));
    }

    /** Channels of {@link #datagramChannelType()}, each {@link #prepare prepared}; as {@link #socketChannels()}. */
    default ChannelFactory<DatagramChannel> datagramChannels() {
        return prepared(new ReflectiveChannelFactory<DatagramChannel>(datagramChannelType()));
    }

    /** Monotonic time in nanoseconds (any origin): measure with it, never with the wall clock. */
    long nanoTime();

    /**
     * The logger for this instance: its lines carry the target's name and the checker keyword.
     * The host logs every state change itself; log what only the plugin knows, sparingly (a line
     * per probe of 10,000 targets floods the log).
     */
    System.Logger logger();

    /**
     * The channels {@code plain} makes, each {@link #prepare prepared}; a channel that cannot be
     * prepared is closed and the factory throws, as {@link #socketChannels()} says. For a plugin or
     * host that makes its channels otherwise than by their class.
     */
    default <C extends Channel> ChannelFactory<C> prepared(ChannelFactory<C> plain) {
        return () -> {
            C channel = plain.newChannel();
            try {
                prepare(channel);
            } catch (IOException e) {
                channel.unsafe().closeForcibly();
                throw new ChannelException(e.getMessage(), e);
            }
            return channel;
        };
    }
}
