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

import java.util.concurrent.TimeUnit;

/**
 * The event loops every health checker does its I/O on: a few threads ({@value #THREADS}) shared
 * by all targets of all plugins, on Netty's epoll transport ({@code EpollIoHandler}) where the
 * native library loads, else on NIO. Each target is given one loop for its life
 * ({@link #next()}, round robin), so its channels and timers run on one thread. On epoll the
 * channels' descriptors are reachable ({@link #descriptor}), and {@link #socketOptions()} sets what
 * Netty cannot on them.
 */
public final class CheckIo implements AutoCloseable {

    /** Event-loop threads: enough for 10,000 asynchronous probes a second; more only adds switching. */
    public static final int THREADS = 2;

    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> socketType;
    private final Class<? extends DatagramChannel> datagramType;
    private final String transport;
    private final SocketOptions socketOptions;

    private CheckIo(EventLoopGroup group, Class<? extends SocketChannel> socketType,
                    Class<? extends DatagramChannel> datagramType, String transport, SocketOptions socketOptions) {
        this.group = group;
        this.socketType = socketType;
        this.datagramType = datagramType;
        this.transport = transport;
        this.socketOptions = socketOptions;
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
