package dev.vigil.daemon.check;

import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A probe that failed in the plugin rather than at the server; its message says where:
 * {@code run() threw IllegalStateException: boom}. The engine records it as a
 * {@link dev.vigil.api.CheckResult.Status#PLUGINERR} result.
 */
public final class ProbeFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean memory;
    private final boolean noVerdict;
    private final boolean hostLate;

    public ProbeFailure(String message) {
        this(message, false, false);
    }

    /** A probe that could not run because the host is behind (its plugin's threads busy with calls that are not hung). */
    public static ProbeFailure hostLate(String message) {
        return new ProbeFailure(message, false, false, true);
    }

    /**
     * @param memory    the plugin abused memory (a call over its budget, an {@link OutOfMemoryError}):
     *                  the engine disables the plugin at once instead of counting the error
     * @param noVerdict the probe could not run for another plugin's fault (the heap exhausted by
     *                  it): the attempt counts neither for nor against the target or its plugin
     */
    public ProbeFailure(String message, boolean memory, boolean noVerdict) {
        this(message, memory, noVerdict, false);
    }

    private ProbeFailure(String message, boolean memory, boolean noVerdict, boolean hostLate) {
        super(message, null, false, false);
        this.memory = memory;
        this.noVerdict = noVerdict;
        this.hostLate = hostLate;
    }

    /** Whether the probe could not run because the host is behind: no verdict, as host lateness. */
    public boolean hostLate() {
        return hostLate;
    }

    /** Whether the probe could not run for another plugin's fault; the engine tries again later. */
    public boolean noVerdict() {
        return noVerdict;
    }

    /** Whether the plugin abused memory, which disables it at once. */
    public boolean memory() {
        return memory;
    }

    /** {@code IllegalStateException: boom}, with wrappers ({@code CompletionException}, ...) taken off. */
    public static String describe(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException
                || c instanceof InvocationTargetException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c == null) {
            return "an unknown error";
        }
        return c.getClass().getSimpleName() + (c.getMessage() != null ? ": " + c.getMessage() : "");
    }
}
