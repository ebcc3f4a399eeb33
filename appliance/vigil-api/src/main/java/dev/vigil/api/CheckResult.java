package dev.vigil.api;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * The outcome of one probe: a closed status code that operators grep for, the reason in words,
 * and optionally a new weight for the real server ({@code MISC_CHECK}'s {@code misc_dynamic}).
 *
 * @param status what happened; {@link Status#pass()} says whether it counts as a success
 * @param detail human-readable reason, what was seen then what was expected:
 *               {@code HTTP status 503 (expected: 200-299)}
 * @param weight a new weight for the real server, or empty to keep the configured one
 */
public record CheckResult(Status status, String detail, OptionalInt weight) {

    /** Outcome codes, each a pass or a failure. */
    public enum Status {
        /** The layer 4 connection succeeded (or the ICMP echo was answered). */
        L4OK(true),
        /** The layer 4 connection (or echo) got no answer within {@code connect_timeout}. */
        L4TOUT(false),
        /** The layer 4 connection was refused, reset or unreachable. */
        L4CON(false),
        /** The layer 7 answer matched what was expected. */
        L7OK(true),
        /** The layer 7 answer did not arrive within {@code connect_timeout}. */
        L7TOUT(false),
        /** The layer 7 answer did not match: status code, digest, banner, DNS answer. */
        L7RSP(false),
        /** A checked process exited with a failure code or was killed. */
        PROCERR(false),
        /**
         * The plugin failed, not the server: it threw, completed exceptionally or did not complete
         * in time. The host sets this itself and counts it against the plugin.
         */
        PLUGINERR(false);

        private final boolean pass;

        Status(boolean pass) {
            this.pass = pass;
        }

        /** Whether the real server passed the probe. */
        public boolean pass() {
            return pass;
        }
    }

    public CheckResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(weight, "weight");
    }

    /** A result without a weight. */
    public static CheckResult of(Status status, String detail) {
        return new CheckResult(status, detail, OptionalInt.empty());
    }

    /** This result, setting the real server's weight to {@code newWeight}. */
    public CheckResult withWeight(int newWeight) {
        if (newWeight < 0) {
            throw new IllegalArgumentException("weight: " + newWeight + " (expected: >= 0)");
        }
        return new CheckResult(status, detail, OptionalInt.of(newWeight));
    }

    /** Whether the real server passed. */
    public boolean pass() {
        return status.pass();
    }

    /** {@code L4CON connection refused}. */
    @Override
    public String toString() {
        return status + " " + detail + (weight.isPresent() ? " (weight " + weight.getAsInt() + ")" : "");
    }
}
