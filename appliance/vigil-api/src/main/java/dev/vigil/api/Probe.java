package dev.vigil.api;

import java.util.concurrent.CompletionStage;

/**
 * One checker configured for one target, made by {@link HealthChecker#create}. The host calls
 * {@link #run()} every {@code delay_loop} (or {@code delay_before_retry} after a failure) and
 * turns the results into the real server's state with keepalived's {@code retry} and Vigil's
 * {@code rise}/{@code fall}; the probe only probes.
 *
 * <p><b>Threading and blocking.</b> The host never runs two calls of one probe at once: a probe
 * has at most one {@link #run()} in flight, and {@link #close()} comes after the last. Calls come
 * from a host thread that is not an event loop; {@code run()} must return at once, after starting
 * its I/O on {@link CheckContext#eventLoop()}, and must not block or sleep. Its stage may complete
 * on any thread.
 *
 * <p><b>Failures and time.</b> The stage must complete within {@link CheckContext#connectTimeout()}
 * with a pass or a failure. If {@code run()} throws, returns {@code null}, its stage completes
 * exceptionally, or it has not completed a grace period after the timeout, the host records a
 * {@link CheckResult.Status#PLUGINERR} failure for the target and counts it against the plugin; a
 * stage completed later is ignored. A plugin with too many such errors is disabled.
 */
public interface Probe extends AutoCloseable {

    /** Starts one probe of the target; the returned stage completes with its result. */
    CompletionStage<CheckResult> run();

    /**
     * The checker was removed (a reload dropped it or changed its block) or the daemon stops:
     * release what the probe holds (open channels, timers). Must not block. A stage still in
     * flight is abandoned.
     */
    @Override
    default void close() {
    }
}
