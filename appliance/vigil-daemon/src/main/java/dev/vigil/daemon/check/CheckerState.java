package dev.vigil.daemon.check;

/**
 * The state machine of one checker, pure: results in, the delay to the next probe and the
 * checker's state out. It follows keepalived's check_*.c epilogues and adds Vigil's rise/fall:
 *
 * <ul>
 *   <li>A failed attempt is tried again after {@code delay_before_retry} while fewer than
 *       {@code retry} retries were made; the failure counts only when the last retry fails too
 *       (so {@code retry 2} means three failed attempts in a row). Then the next probe comes after
 *       {@code delay_loop}.</li>
 *   <li>A pass counts at once and resets the retries; the next probe comes after
 *       {@code delay_loop}.</li>
 *   <li>An up checker goes down after {@code fall} counted failures in a row; a down one comes up
 *       after {@code rise} passes in a row. With rise = fall = 1 (the defaults) this is exactly
 *       keepalived: one pass brings a server up, one counted failure takes it down.</li>
 *   <li>It starts up, or down with {@code alpha}.</li>
 * </ul>
 * Not thread-safe: the engine drives it from its one thread.
 */
final class CheckerState {

    /**
     * What one result did.
     *
     * @param nextDelayNanos when the next probe is due, from now
     * @param counted        whether the result counted (a pass, or a failure with no retry left)
     * @param changed        whether the checker's state changed
     * @param up             the checker's state now
     */
    record Step(long nextDelayNanos, boolean counted, boolean changed, boolean up) {
    }

    private final CheckTiming timing;
    private boolean up;
    private int retries;
    private int passes;
    private int failures;

    CheckerState(CheckTiming timing) {
        this.timing = timing;
        this.up = !timing.alpha();
    }

    /** Feeds one probe's outcome. */
    Step onResult(boolean pass) {
        if (!pass && retries < timing.retry()) {
            retries++;
            return new Step(timing.delayBeforeRetry().toNanos(), false, false, up);
        }
        retries = 0;
        boolean was = up;
        if (pass) {
            failures = 0;
            passes++;
            if (!up && passes >= timing.rise()) {
                up = true;
            }
        } else {
            passes = 0;
            failures++;
            if (up && failures >= timing.fall()) {
                up = false;
            }
        }
        return new Step(timing.delayLoop().toNanos(), true, was != up, up);
    }

    /** Sets the state from outside (a disabled plugin's checker frozen at its last known state). */
    void force(boolean state) {
        up = state;
        retries = 0;
        passes = 0;
        failures = 0;
    }

    boolean up() {
        return up;
    }

    /** Retries made since the last counted result. */
    int retries() {
        return retries;
    }

    /** Consecutive counted passes. */
    int passes() {
        return passes;
    }

    /** Consecutive counted failures. */
    int failures() {
        return failures;
    }
}
