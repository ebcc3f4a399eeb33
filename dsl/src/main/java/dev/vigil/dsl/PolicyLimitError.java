package dev.vigil.dsl;

/**
 * A run went past its time limit or its loop cap. An {@link Error}, so that a policy's
 * {@code catch (e)} does not swallow it; the run is failed even if a policy catches it anyway.
 */
public final class PolicyLimitError extends Error {

    /** Which limit. */
    public enum Kind { TIME, LOOPS }

    private final Kind kind;

    PolicyLimitError(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** A time limit of {@code millis} overrun. */
    static PolicyLimitError time(long millis) {
        return new PolicyLimitError(Kind.TIME, "time limit of " + millis + " ms exceeded");
    }

    /** The time limit of {@code limits} overrun by a run stopped from outside, located where its thread was then. */
    static PolicyLimitError timeExceeded(PolicyLimits limits, StackTraceElement[] where) {
        PolicyLimitError e = time(limits.runTime().toMillis());
        e.setStackTrace(where);
        return e;
    }
}
