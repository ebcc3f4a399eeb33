package dev.vigil.api;

import java.util.Objects;

/**
 * Something wrong with a checker's block, found by {@link HealthChecker#validate}. The host prints
 * it like any configuration diagnostic: {@code file:line:col: error: message}, and an error stops
 * {@code vigil run} (or a reload) the same way a syntax error does.
 *
 * @param severity {@link Severity#ERROR} when the block cannot run as written
 * @param location where the problem is; take it from {@link ConfigLine#locationOf} or
 *                 {@link ConfigBlock#location()}
 * @param message  what is wrong, then what was expected: {@code status_code 99 (expected: 100-999)}
 */
public record ConfigProblem(Severity severity, Location location, String message) {

    /** How bad a {@link ConfigProblem} is. */
    public enum Severity {
        /** The block cannot be run as written: the configuration is refused. */
        ERROR,
        /** The block runs but probably does not do what was meant. */
        WARNING
    }

    public ConfigProblem {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(message, "message");
    }

    /** An error at {@code location}. */
    public static ConfigProblem error(Location location, String message) {
        return new ConfigProblem(Severity.ERROR, location, message);
    }

    /** A warning at {@code location}. */
    public static ConfigProblem warning(Location location, String message) {
        return new ConfigProblem(Severity.WARNING, location, message);
    }
}
