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
}
