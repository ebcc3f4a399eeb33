/**
 * The policy store: every revision of every failover policy, which revision of each runs, and an
 * audit trail of what happened to them, in one SQLite file.
 *
 * <p>{@link dev.vigil.dsl.store.PolicyStore} is the whole API. The command line
 * ({@code vigil policy ...}) writes to it; the daemon reads the active revisions from it, polls it
 * for changes and records what it loads and what its policies do. Several processes may use one
 * file at once: SQLite's locks order their writes and each write is one transaction.
 */
package dev.vigil.dsl.store;
