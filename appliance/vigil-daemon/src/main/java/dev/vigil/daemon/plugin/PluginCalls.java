package dev.vigil.daemon.plugin;

import dev.vigil.daemon.check.ProbeFailure;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs plugin code on a virtual thread of its own, with the plugin's class loader as the thread's
 * context loader, so that a plugin that blocks or never returns holds only that thread: the
 * caller waits at most a bound, and a call that never returns is abandoned (a thread cannot be
 * killed; the plugin is counted and, past a limit, disabled, so abandoned threads stay few).
 */
public final class PluginCalls {

    private PluginCalls() {
    }

    /** A plugin call that threw or did not return in time; the message says which and why. */
    public static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /**
     * Calls {@code call} and waits up to {@code limit} for its value.
     *
     * @param what   the call for messages and the thread's name, e.g. {@code check-tcp keywords()}
     * @param loader the plugin's class loader (the thread's context loader)
     * @throws Failure when it threw ({@code threw IllegalStateException: boom}) or did not return in time
     */
    public static <T> T call(String what, ClassLoader loader, Duration limit, Callable<T> call) throws Failure {
        FutureTask<T> task = new FutureTask<>(call);
        Thread t = Thread.ofVirtual().name("plugin " + what).unstarted(task);
        t.setContextClassLoader(loader);
        t.start();
        try {
            return task.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new Failure(what + " did not return within " + limit.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new Failure(what + " threw " + describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(what + " interrupted");
        }
    }

    /** Runs {@code task} on a virtual thread and returns at once; the task handles its own failures. */
    public static void start(String what, ClassLoader loader, Runnable task) {
        Thread t = Thread.ofVirtual().name("plugin " + what).unstarted(task);
        t.setContextClassLoader(loader);
        t.start();
    }

    /** {@code IllegalStateException: boom}, with wrappers taken off ({@link ProbeFailure#describe}). */
    public static String describe(Throwable t) {
        return ProbeFailure.describe(t);
    }
}
