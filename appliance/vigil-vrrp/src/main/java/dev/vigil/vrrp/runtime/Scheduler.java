package dev.vigil.vrrp.runtime;

/**
 * The engine thread and its clock. Every task and timer runs on one thread, in submission order for
 * tasks, so the router needs no locks.
 */
public interface Scheduler {

    /** A scheduled task that can be cancelled. */
    @FunctionalInterface
    interface Cancellable {
        /** Cancels the task if it has not run yet; idempotent. Called on the engine thread, it is final. */
        void cancel();
    }

    /** Runs {@code task} on the engine thread, after the tasks already submitted. Callable from any thread. */
    void execute(Runnable task);

    /** Runs {@code task} on the engine thread after {@code delayNanos}. Callable from any thread. */
    Cancellable schedule(Runnable task, long delayNanos);

    /** Monotonic time in nanoseconds (any origin). */
    long nanoTime();

    /** Whether the calling thread is the engine thread. */
    boolean inEngineThread();
}
