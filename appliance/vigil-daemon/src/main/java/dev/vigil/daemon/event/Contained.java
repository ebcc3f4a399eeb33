package dev.vigil.daemon.event;

import dev.vigil.daemon.check.ProbeFailure;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a notifier's code on a virtual thread of its own, with the plugin's class loader as the
 * thread's context loader, and waits at most a bound: a call that throws becomes a {@link Failure}
 * with the reason, one that does not return in time is abandoned (a thread cannot be killed; the
 * caller goes on and the thread ends whenever the plugin lets it) and becomes a {@link Failure}
 * too. Nothing a plugin does reaches the caller as an exception of its own.
 */
public final class Contained {

    private Contained() {
    }

    /** A call that threw or did not return in time; {@link #timedOut()} says which. */
    public static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean timedOut;

        Failure(String message, boolean timedOut) {
            super(message);
            this.timedOut = timedOut;
        }

        /** Whether the call was abandoned at its bound (rather than having thrown). */
        public boolean timedOut() {
            return timedOut;
        }
    }

    /**
     * Calls {@code call} on a virtual thread named {@code plugin WHAT} and waits up to {@code limit}.
     *
     * @param what   the call, for messages and the thread's name, e.g. {@code ops-hook deliver}
     * @param loader the context class loader of the call (the plugin's), or {@code null} for the host's
     * @throws Failure when it threw ({@code threw IllegalStateException: boom}) or did not return in time
     */
    public static <T> T call(String what, ClassLoader loader, Duration limit, Callable<T> call) throws Failure {
        FutureTask<T> task = new FutureTask<>(call);
        Thread t = Thread.ofVirtual().name("plugin " + what).unstarted(task);
        if (loader != null) {
            t.setContextClassLoader(loader);
        }
        t.start();
        try {
            return task.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // The thread is left to end on its own; an interrupt lets a well-behaved plugin stop early.
            t.interrupt();
            throw new Failure(what + " did not return within " + limit.toMillis() + " ms; abandoned", true);
        } catch (ExecutionException e) {
            throw new Failure(what + " threw " + describe(e.getCause()), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            t.interrupt();
            throw new Failure(what + " interrupted", false);
        }
    }

    /** {@code IllegalStateException: boom}, with wrappers taken off. */
    public static String describe(Throwable t) {
        return ProbeFailure.describe(t);
    }
}
