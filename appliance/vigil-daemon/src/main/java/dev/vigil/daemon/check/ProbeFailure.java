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

    public ProbeFailure(String message) {
        super(message, null, false, false);
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
