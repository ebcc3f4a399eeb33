package dev.vigil.dsl.store;

/**
 * A store operation that could not be done, its message one line that names the file or the policy
 * and revision, e.g. {@code policy web r4: no such revision (latest r3)} or
 * {@code /var/lib/vigil/policies.db: not a Vigil policy store (an SQLite database with tables: users)}.
 */
public final class PolicyStoreException extends RuntimeException {

    public PolicyStoreException(String message) {
        super(message);
    }

    public PolicyStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
