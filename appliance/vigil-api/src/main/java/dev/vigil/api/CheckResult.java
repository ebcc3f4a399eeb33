package dev.vigil.api;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * The outcome of one probe.
 *
 * @param status  closed outcome code
 * @param detail  human-readable reason, e.g. {@code HTTP status 503 (expected: 200)}
 * @param weight  a new weight for the real server ({@code misc_dynamic}), or empty
 */
public record CheckResult(Status status, String detail, OptionalInt weight) {

    /** Outcome codes: a short code operators grep for, and whether it counts as a pass. */
    public enum Status {
        /** Layer 4 connection succeeded. */
        L4OK(true),
        /** Layer 4 connection timed out. */
        L4TOUT(false),
        /** Layer 4 connection refused or reset. */
        L4CON(false),
        /** Layer 7 response matched. */
        L7OK(true),
        /** Layer 7 response timed out. */
        L7TOUT(false),
        /** Layer 7 response did not match (status, digest, banner, answer). */
        L7RSP(false),
        /** A script exited with a failure code or was killed. */
        PROCERR(false),
        /** The plugin itself failed (exception, hang): counted against the plugin. */
        PLUGINERR(false);

        private final boolean pass;

        Status(boolean pass) {
            this.pass = pass;
        }

        public boolean pass() {
            return pass;
        }
    }

    public CheckResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(weight, "weight");
    }

    public static CheckResult of(Status status, String detail) {
        return new CheckResult(status, detail, OptionalInt.empty());
    }
}
