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

    /**
     * A timer armed again and again without allocating: the router keeps one per instance and
     * timer kind and re-arms it on every advert.
     */
    interface Alarm {
        /** Runs the task at {@code nanoTime} ({@link #nanoTime()} clock; at once if past), replacing an earlier arming. */
        void armAt(long nanoTime);

        /** Disarms the alarm if it has not fired; idempotent. */
        void cancel();
    }

    /** Runs {@code task} on the engine thread, after the tasks already submitted. Callable from any thread. */
    void execute(Runnable task);

    /** Runs {@code task} on the engine thread after {@code delayNanos}. Callable from any thread. */
    Cancellable schedule(Runnable task, long delayNanos);

    /** A disarmed {@link Alarm} that runs {@code task} on the engine thread when it fires. */
    Alarm alarm(Runnable task);

    /** Monotonic time in nanoseconds (any origin). */
    long nanoTime();

    /** Whether the calling thread is the engine thread. */
    boolean inEngineThread();
}
