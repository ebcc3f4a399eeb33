/**
 * The daemon's failover policies: {@link dev.vigil.daemon.policy.PolicyHost} keeps the compiled
 * active revisions of the policy store in step with the store and writes the daemon's lines of the
 * audit trail.
 */
package dev.vigil.daemon.policy;
