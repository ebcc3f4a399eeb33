package dev.vigil.dsl;

import java.time.Duration;
import java.util.Objects;

/**
 * What one run of one policy handler may spend. A run that breaks a limit fails (no actions), and
 * {@code failuresToDisable} consecutive failed runs of a policy disable it until it is installed again.
 *
 * @param runTime           the time limit of a run (checked in every loop iteration and closure call,
 *                          and by the engine waiting for the run's worker thread)
 * @param loopIterations    the cap on loop iterations and closure calls per run
 * @param failuresToDisable consecutive failed runs that disable the policy
 */
public record PolicyLimits(Duration runTime, long loopIterations, int failuresToDisable) {

    /** 200 ms, 100,000 iterations, disabled after 3 consecutive failed runs. */
    public static final PolicyLimits DEFAULT = new PolicyLimits(Duration.ofMillis(200), 100_000, 3);

    public PolicyLimits {
        Objects.requireNonNull(runTime, "runTime");
        if (runTime.isNegative() || runTime.isZero()) {
            throw new IllegalArgumentException("runTime: " + runTime + " (expected: > 0)");
        }
        if (loopIterations < 1) {
            throw new IllegalArgumentException("loopIterations: " + loopIterations + " (expected: >= 1)");
        }
        if (failuresToDisable < 1) {
            throw new IllegalArgumentException("failuresToDisable: " + failuresToDisable + " (expected: >= 1)");
        }
    }
}
