package dev.vigil.daemon;

import java.text.MessageFormat;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/**
 * The daemon's {@link System.LoggerFinder}: what the code below the daemon logs through
 * {@link System.Logger} (the kernel adapters of {@code vigil-kernel-linux}, which know nothing of
 * the daemon, and the JDK itself) goes into the daemon's own {@link Log}, in its one-line format,
 * with the logger's name as the subject. {@code ERROR}, {@code WARNING} and {@code INFO} keep
 * their level; {@code DEBUG} and {@code TRACE} are debug lines, written only with debugging on.
 * A message with parameters is formatted as {@link MessageFormat} does ({@code "{0}"}), and a
 * throwable is appended as {@code ": <class>: <message>"}. Registered in
 * {@code META-INF/services/java.lang.System$LoggerFinder}; the JDK finds it on the class path.
 */
public final class SystemLoggerFinder extends System.LoggerFinder {

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new ToLog(name);
    }

    /** The level of {@link Log} a line of {@code level} is written at, or {@code null} for none ({@code OFF}). */
    static Log.Level map(System.Logger.Level level) {
        return switch (level) {
            case ERROR -> Log.Level.ERROR;
            case WARNING -> Log.Level.WARN;
            case INFO -> Log.Level.INFO;
            case DEBUG, TRACE, ALL -> Log.Level.DEBUG;
            case OFF -> null;
        };
    }

    /** One logger: {@code name} is the subject of its lines. */
    private record ToLog(String name) implements System.Logger {

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            Log.Level to = map(level);
            return to != null && (to != Log.Level.DEBUG || Log.debugEnabled());
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (isLoggable(level)) {
                write(level, text(bundle, msg) + (thrown != null ? ": " + thrown : ""));
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (!isLoggable(level)) {
                return;
            }
            String line = text(bundle, format);
            if (params != null && params.length > 0) {
                try {
                    line = MessageFormat.format(line, params);
                } catch (IllegalArgumentException e) {
                    // A malformed pattern is still worth its words.
                }
            }
            write(level, line);
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            if (isLoggable(level)) {
                write(level, msgSupplier.get());
            }
        }

        private static String text(ResourceBundle bundle, String key) {
            if (key == null) {
                return "";
            }
            return bundle != null && bundle.containsKey(key) ? bundle.getString(key) : key;
        }

        private void write(Level level, String message) {
            switch (map(level)) {
                case ERROR -> Log.error(name, message);
                case WARN -> Log.warn(name, message);
                case INFO -> Log.info(name, message);
                case DEBUG -> Log.debug(name, message);
            }
        }
    }
}
