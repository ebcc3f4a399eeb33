package dev.vigil.api;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * What the host hands a checker for one target. The plugin never sees the plugin manager or the
 * engine: only this context.
 *
 * <p>Threading: {@link #executor()} is a single-threaded executor owned by the host for this
 * target; the checker must not block it (use asynchronous I/O) and must not create threads.
 */
public interface CheckContext {

    CheckTarget target();

    /** The checker's configuration block as written in keepalived.conf. */
    ConfigBlock config();

    /** Per-probe timeout ({@code connect_timeout}); the host fails a probe that exceeds it. */
    Duration timeout();

    ScheduledExecutorService executor();

    /** Monotonic time in nanoseconds. */
    LongSupplier nanoTime();

    /** Reports the result of one probe; may be called from any thread. */
    void report(CheckResult result);

    /** A logger line attributed to this target and plugin. */
    void log(String message);
}
