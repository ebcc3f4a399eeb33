package dev.vigil.daemon;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

import java.io.Serial;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiConsumer;

/**
 * The SLF4J provider of the daemon: what PF4J (and Netty, which finds SLF4J) log goes into the
 * daemon's own {@link Log}, in its one-line format, instead of a second logging system, under the
 * subject {@code plugins} (PF4J), {@code netty} or {@code log}. Warnings and errors are kept; info
 * becomes debug; debug and trace are dropped. {@link #sink} redirects PF4J's lines, e.g. for
 * {@code vigil check}, whose standard output holds only diagnostics. Registered in
 * {@code META-INF/services/org.slf4j.spi.SLF4JServiceProvider}.
 */
public final class LogBridge implements SLF4JServiceProvider {

    private static final BiConsumer<Log.Level, String> TO_LOG = (level, line) -> write("plugins", level, line);

    private static volatile BiConsumer<Log.Level, String> sink = TO_LOG;

    private final ILoggerFactory loggers = new Loggers();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    private static void write(String subject, Log.Level level, String line) {
        switch (level) {
            case ERROR -> Log.error(subject, line);
            case WARN -> Log.warn(subject, line);
            default -> Log.debug(subject, line);
        }
    }

    /** Sends PF4J's lines to {@code target} from now on; {@code null} restores the daemon's log. */
    public static void sink(BiConsumer<Log.Level, String> target) {
        sink = target != null ? target : TO_LOG;
    }

    /** The current destination of the lines. */
    public static BiConsumer<Log.Level, String> sink() {
        return sink;
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return loggers;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
        // nothing to set up
    }

    private static final class Loggers implements ILoggerFactory {
        private final ConcurrentMap<String, Logger> byName = new ConcurrentHashMap<>();

        @Override
        public Logger getLogger(String name) {
            return byName.computeIfAbsent(name, Bridged::new);
        }
    }

    /** One named logger; the name (a class name) is left out of the line, as the daemon's lines name their subject. */
    private static final class Bridged extends LegacyAbstractLogger {
        @Serial
        private static final long serialVersionUID = 1L;

        private final String subject;

        Bridged(String name) {
            this.name = Objects.requireNonNull(name, "name");
            this.subject = name.startsWith("org.pf4j") ? "plugins" : name.startsWith("io.netty") ? "netty" : "log";
        }

        @Override
        public boolean isTraceEnabled() {
            return false;
        }

        @Override
        public boolean isDebugEnabled() {
            return false;
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable thrown) {
            String line = MessageFormatter.basicArrayFormat(pattern, args);
            if (thrown != null) {
                String cause = thrown.getClass().getSimpleName() + (thrown.getMessage() != null ? ": " + thrown.getMessage() : "");
                if (line == null || line.isEmpty()) {
                    line = cause;
                } else if (thrown.getMessage() == null || !line.contains(thrown.getMessage())) {
                    line = line + " (" + cause + ")";
                }
            }
            Log.Level mapped = switch (level) {
                case ERROR -> Log.Level.ERROR;
                case WARN -> Log.Level.WARN;
                default -> Log.Level.DEBUG;
            };
            String text = line == null ? "" : line;
            if (subject.equals("plugins")) {
                sink.accept(mapped, text);
            } else {
                write(subject, mapped, text);
            }
        }
    }
}
