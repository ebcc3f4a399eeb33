package dev.vigil.daemon.plugin;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.ConfigBlock;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.check.CheckIo;
import dev.vigil.daemon.check.CheckSpec;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;

import java.text.MessageFormat;
import java.time.Duration;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/** The {@link CheckContext} of one checker instance: its spec, one event loop for its life, the clock and a logger. */
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
