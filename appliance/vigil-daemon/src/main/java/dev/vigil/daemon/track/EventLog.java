package dev.vigil.daemon.track;

import dev.vigil.daemon.Log;

/**
 * Where trackers and notifiers report what happened: one call per state change, in the daemon's
 * {@code <subject>: <message>} shape.
 */
@FunctionalInterface
public interface EventLog {

    void log(Log.Level level, String subject, String message);

    /** Writes through the daemon's {@link Log}. */
    static EventLog daemon() {
        return (level, subject, message) -> {
            switch (level) {
                case DEBUG -> Log.debug(subject, message);
                case INFO -> Log.info(subject, message);
                case WARN -> Log.warn(subject, message);
                case ERROR -> Log.error(subject, message);
            }
        };
    }

    default void info(String subject, String message) {
        log(Log.Level.INFO, subject, message);
    }

    default void warn(String subject, String message) {
        log(Log.Level.WARN, subject, message);
    }
}
