package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.util.Set;

/**
 * A health checker: probes one target when asked, reports exactly one {@link CheckResult} per
 * probe through {@link CheckContext#report}. The host schedules probes ({@code delay_loop},
 * retries, rise/fall); the checker only probes.
 *
 * <p>Implementations are stateless factories; {@link #probe} may be called concurrently for
 * different targets and must not block the calling thread.
 */
public interface HealthChecker extends ExtensionPoint {

    /** The configuration keywords this checker handles, e.g. {@code TCP_CHECK}. */
    Set<String> keywords();

    /** Validates a block at configuration time; returns {@code file:line:col: message} lines. */
    default java.util.List<String> validate(ConfigBlock block) {
        return java.util.List.of();
    }

    /** Starts one probe; its result arrives later through {@code context.report}. */
    void probe(CheckContext context);
}
