package dev.vigil.dsl;

/**
 * The check the compiler inserts at the top of every loop body and closure body of a policy: it
 * counts iterations against the run's loop cap and compares the clock with the run's deadline.
 * Every way a policy can spend unbounded time in its own code (loops, closures called by
 * {@code each}/{@code times}/..., closures calling closures) passes through it; a method call
 * into an allow-listed library is bounded by its arguments.
 */
public final class PolicyGuard {

    private PolicyGuard() {
    }

    /** Counts one iteration of the current run; throws {@link PolicyLimitError} past a limit. */
    public static void tick() {
        PolicyRun run = PolicyRun.CURRENT.get();
        if (run != null) {
            run.tick();
        }
    }
}
