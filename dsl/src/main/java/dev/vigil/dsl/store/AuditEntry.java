package dev.vigil.dsl.store;

import java.time.Instant;

/**
 * One line of the audit trail.
 *
 * @param id       its sequence number in the store, increasing
 * @param at       when it happened
 * @param policy   the policy's name (it may have been deleted since)
 * @param revision the revision concerned, or {@code null}
 * @param kind     what happened: {@code added}, {@code activated}, {@code rolled-back}, {@code disabled},
 *                 {@code deleted}, {@code error}, {@code loaded}, {@code unloaded}, {@code action}, ...
 * @param detail   the particulars (a comment, an error message, an action), empty when none
 * @param actor    who did it: a user name, or {@code vigil@NODE} for the daemon
 */
public record AuditEntry(long id, Instant at, String policy, Integer revision, String kind, String detail, String actor) {
}
