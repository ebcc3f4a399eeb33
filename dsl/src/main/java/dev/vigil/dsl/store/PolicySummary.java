package dev.vigil.dsl.store;

import java.time.Instant;

/**
 * A policy as {@code vigil policy list} shows it.
 *
 * @param name      the policy's name
 * @param revisions how many revisions are stored
 * @param latest    the newest revision's number
 * @param active    the active revision's number, or {@code null} when the policy is disabled
 * @param updated   when the newest revision was added
 */
public record PolicySummary(String name, int revisions, int latest, Integer active, Instant updated) {
}
