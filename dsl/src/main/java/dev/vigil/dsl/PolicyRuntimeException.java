package dev.vigil.dsl;

/**
 * A policy's own mistake found while it runs (a name that does not exist, an argument out of
 * range, a DSL word used in the wrong place). The engine locates it at the policy's line.
 */
public final class PolicyRuntimeException extends RuntimeException {

    public PolicyRuntimeException(String message) {
        super(message, null, false, true);
    }
}
