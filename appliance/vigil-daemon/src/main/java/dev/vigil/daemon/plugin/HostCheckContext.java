package dev.vigil.daemon.plugin;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.Inherited;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.check.CheckIo;
import dev.vigil.daemon.check.CheckSpec;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.SocketOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;

import java.io.IOException;
import java.net.Inet6Address;
import java.text.MessageFormat;
import java.time.Duration;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/**
 * The {@link CheckContext} of one checker instance: its spec, one event loop for its life, the
 * socket options of its block (set through {@link CheckIo#socketOptions()}), the clock and a logger.
 */
final class HostCheckContext implements CheckContext {

    private final CheckSpec spec;
    private final EventLoop loop;
    private final CheckIo io;
    private final System.Logger logger;

    HostCheckContext(CheckSpec spec, CheckIo io) {
        this.spec = spec;
        this.io = io;
        this.loop = io.next();
        this.logger = new PluginLogger(spec.keyword() + " " + spec.target().name());
    }

    @Override
    public CheckTarget target() {
        return spec.target();
    }

    @Override
    public ConfigBlock config() {
        return spec.block();
    }

    @Override
    public Duration connectTimeout() {
        return spec.timing().connectTimeout();
    }

    @Override
    public Inherited inherited() {
        return spec.inherited();
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public Class<? extends SocketChannel> socketChannelType() {
        return io.socketChannelType();
    }

    @Override
    public Class<? extends DatagramChannel> datagramChannelType() {
        return io.datagramChannelType();
    }

    /**
     * On epoll, channels of the target's own address family: an IPv4 target gets an {@code AF_INET}
     * socket, not the dual-stack {@code AF_INET6} one Netty opens by default, which costs a
     * {@code setsockopt(IPV6_V6ONLY)} per socket and carries the address as a mapped IPv6 one in
     * every later call (connect, the address look-ups). Each channel {@linkplain #prepare prepared}.
     */
    @Override
    public ChannelFactory<SocketChannel> socketChannels() {
        if (io.socketChannelType() != EpollSocketChannel.class) {
            return CheckContext.super.socketChannels();
        }
        SocketProtocolFamily family = spec.target().address().getAddress() instanceof Inet6Address
                ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
        return prepared(() -> new EpollSocketChannel(family));
    }

    @Override
    public void prepare(Channel channel) throws IOException {
        CheckTarget t = spec.target();
        boolean datagram = channel instanceof DatagramChannel;
        if (t.fwmark() == null && t.bindInterface() == null && !datagram) {
            return;
        }
        SocketOptions options = io.socketOptions();
        int fd = CheckIo.descriptor(channel);
        if (options == null || fd < 0) {
            if (t.fwmark() != null || t.bindInterface() != null) {
                throw new IOException((t.fwmark() != null ? "fwmark" : "bind_if") + " needs Netty's epoll transport (the checkers run on "
                        + io.transport() + ")");
            }
            // Without the error queue a UDP_CHECK still learns of port unreachable; it waits for the rest.
            return;
        }
        if (t.fwmark() != null) {
            set("fwmark " + Integer.toUnsignedString(t.fwmark()), () -> options.setMark(fd, t.fwmark()));
        }
        if (t.bindInterface() != null) {
            set("bind_if " + t.bindInterface(), () -> options.bindToDevice(fd, t.bindInterface()));
        }
        if (datagram) {
            set("ICMP error queue", () -> options.receiveErrors(fd));
        }
    }

    /** One option; its failure in the words of a result's detail: {@code bind_if eth9: No such device}. */
    private static void set(String what, KernelCall call) throws IOException {
        try {
            call.run();
        } catch (KernelException e) {
            // "setsockopt: No such device: SO_BINDTODEVICE eth9 on descriptor 12 (errno 19)": the kernel's words.
            String m = e.getMessage();
            int from = m.indexOf(": ") + 2;
            int to = e.errno() != 0 ? m.indexOf(": ", from) : -1;
            throw new IOException(what + ": " + (to > from ? m.substring(from, to) : m.substring(m.lastIndexOf(": ") + 2)), e);
        }
    }

    private interface KernelCall {
        void run() throws KernelException;
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public System.Logger logger() {
        return logger;
    }

    /** A plugin's lines in the daemon's log, subject {@code checks}, prefixed with the checker and its target. */
    private record PluginLogger(String name) implements System.Logger {

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return level != Level.OFF && level != Level.ALL;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            write(level, msg + (thrown != null ? ": " + PluginCalls.describe(thrown) : ""));
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            String line = format;
            if (params != null && params.length > 0 && format != null) {
                try {
                    line = MessageFormat.format(format, params);
                } catch (IllegalArgumentException e) {
                    line = format;
                }
            }
            write(level, line);
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            write(level, msgSupplier.get());
        }

        private void write(Level level, String message) {
            String line = name + ": " + message;
            switch (level) {
                case ERROR -> Log.error("checks", line);
                case WARNING -> Log.warn("checks", line);
                case INFO -> Log.info("checks", line);
                default -> Log.debug("checks", line);
            }
        }
    }
}
