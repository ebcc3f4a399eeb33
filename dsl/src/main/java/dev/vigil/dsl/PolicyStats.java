package dev.vigil.dsl;

/**
 * What a policy installed in a {@link PolicyEngine} has done since it was installed.
 *
 * @param runs      handler runs (events and timers)
 * @param actions   actions its successful runs returned
 * @param failures  failed runs (exceptions, time limits, loop caps)
 * @param timeouts  runs stopped by the time limit
 * @param loopCaps  runs stopped by the loop cap
 * @param disabled  whether it is disabled (too many consecutive failures) until installed again
 * @param lastError the last failed run's located error, or {@code null}
 */
public record PolicyStats(long runs, long actions, long failures, long timeouts, long loopCaps, boolean disabled, String lastError) {
}
