package dev.vigil.dsl.store;

import java.time.Instant;

/**
 * One stored revision of a policy.
 *
 * @param policy  the policy's name
 * @param number  the revision number, 1 for the first, never reused for that name
 * @param text    the policy's source as added
 * @param author  who added it
 * @param created when it was added
 * @param comment the author's comment, empty when none
 * @param sha256  SHA-256 of {@code text} in UTF-8, lower-case hex
 * @param active  whether this is the revision that runs
 */
public record PolicyRevision(String policy, int number, String text, String author, Instant created, String comment,
                             String sha256, boolean active) {

    /** {@code NAME rN}, as messages name a revision. */
    public String label() {
        return policy + " r" + number;
    }
}
