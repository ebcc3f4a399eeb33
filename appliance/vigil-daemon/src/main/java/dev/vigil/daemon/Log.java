package dev.vigil.daemon;

import java.io.PrintStream;
import java.time.Instant;

/**
 * The daemon's log: one line per event, {@code <instant> <LEVEL> <subject>: <message>}, where the
 * subject names the instance (or {@code vigil} for the daemon itself) and the message says what
 * happened and why.
 */
public final class Log {

    public enum Level { DEBUG, INFO, WARN, ERROR }

    private static volatile PrintStream out = System.out;
    private static volatile boolean debug = Boolean.getBoolean("vigil.debug");

    private Log() {
    }

    public static void to(PrintStream stream) {
        out = stream;
    }

    /** Where the lines go now. */
    public static PrintStream stream() {
        return out;
    }

    public static void debug(boolean enabled) {
        debug = enabled;
    }

    /** Whether {@link #debug(String, String)} writes anything. */
    public static boolean debugEnabled() {
        return debug;
    }

    public static void debug(String subject, String message) {
        if (debug) {
            write(Level.DEBUG, subject, message);
        }
    }

    public static void info(String subject, String message) {
        write(Level.INFO, subject, message);
    }

    public static void warn(String subject, String message) {
        write(Level.WARN, subject, message);
    }

    public static void error(String subject, String message) {
        write(Level.ERROR, subject, message);
    }

    /** The line {@link #info} and the others write: {@code <instant> <LEVEL> <subject>: <message>}. */
    static String format(Instant at, Level level, String subject, String message) {
        return at + " " + level + " " + subject + ": " + message.replace('\n', ' ');
    }

    private static void write(Level level, String subject, String message) {
        String line = format(Instant.now(), level, subject, message);
        PrintStream s = out;
        synchronized (s) {
            s.println(line);
            s.flush();
        }
    }
}
