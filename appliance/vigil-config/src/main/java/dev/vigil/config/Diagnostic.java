package dev.vigil.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One problem found while loading a configuration.
 *
 * @param severity error or warning
 * @param ref      where the problem is
 * @param message  what is wrong, without location or severity
 */
public record Diagnostic(Severity severity, SourceRef ref, String message) {
    public Diagnostic {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(ref, "ref");
        Objects.requireNonNull(message, "message");
    }

    /** {@code file:line:col: error: message} (or {@code warning}). */
    public String format() {
        return ref + ": " + severity.label() + ": " + message;
    }

    /** As {@link #format()}, with the file shown relative to {@code base}. */
    public String format(Path base) {
        return ref.format(base) + ": " + severity.label() + ": " + message;
    }

    @Override
    public String toString() {
        return format();
    }
}
