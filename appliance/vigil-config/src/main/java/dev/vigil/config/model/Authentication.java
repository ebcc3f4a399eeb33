package dev.vigil.config.model;

import dev.vigil.config.SourceRef;

/**
 * Legacy VRRPv2 authentication (RFC 3768 §5.3.6).
 *
 * @param type     NONE, PASS or AH
 * @param password the password, at most 8 characters (keepalived uses only the first 8), or {@code null}
 * @param ref      where the block starts, or {@code null} for none
 */
public record Authentication(Type type, String password, SourceRef ref) {
    /** The authentication type. */
    public enum Type { NONE, PASS, AH }

    /** No authentication. */
    public static final Authentication NONE = new Authentication(Type.NONE, null, null);
}
