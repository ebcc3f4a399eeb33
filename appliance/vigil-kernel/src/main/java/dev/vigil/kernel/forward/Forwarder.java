package dev.vigil.kernel.forward;

import dev.vigil.kernel.KernelException;

/**
 * The port through which the daemon programs load balancing (IPVS, nftables, or memory in tests).
 * It works by desired state: the daemon hands over the complete set of services and destinations
 * and the forwarder makes its rules match.
 *
 * <p>Guarantees every implementation gives:
 * <ul>
 *   <li><b>Reconciling.</b> {@link #apply} computes the difference between the desired state and
 *       the owned rules with {@link ForwardingDiff} and changes only that; untouched services and
 *       destinations keep their established connections. The owned rules are read from the kernel
 *       at the first {@code apply}, after an {@code apply} that failed, and by every
 *       {@link #current()} and {@link #stats()}; in between, a forwarder may take them to be what its
 *       last successful {@code apply} made, so that a small change costs a small request however
 *       many services there are. Rules changed behind its back are therefore noticed when a change
 *       touching them fails (the next {@code apply} reads the kernel again) or at the next
 *       {@code current()}. Where a forwarder keeps the very state it last applied, a caller that
 *       derives each desired state from that one ({@link DesiredState#with},
 *       {@link DesiredState#without}) makes the comparison cost in proportion to the change too:
 *       {@link ForwardingDiff#between} then looks only at the services that changed.</li>
 *   <li><b>Idempotent.</b> Applying the state {@link #current()} returns, or the same desired state
 *       twice, performs no operations and reports none.</li>
 *   <li><b>Batched.</b> One {@code apply} is sent to the kernel as few requests as the backend
 *       allows; a backend with transactions (nftables) applies it all or nothing.</li>
 *   <li><b>Ownership.</b> Only rules this forwarder created are read back, changed or deleted;
 *       anything else in the kernel is left alone. The one exception is {@link #flush}, the
 *       operator's explicit request ({@code lvs_flush}).</li>
 *   <li><b>Adoption.</b> Ownership is recorded in the kernel, not in the process: a new instance
 *       (a restarted daemon) sees the rules an earlier one made through {@link #current()} and
 *       takes them over without flushing them.</li>
 * </ul>
 * A backend that cannot express part of a desired state (a scheduler or forwarding method it lacks)
 * rejects the whole {@code apply} before changing anything.
 */
public interface Forwarder extends AutoCloseable {
    /** Makes the owned rules equal {@code desired}; returns the operations performed. */
    ApplyReport apply(DesiredState desired) throws KernelException;

    /** The services and destinations this forwarder owns, as read from the kernel now. */
    DesiredState current() throws KernelException;

    /** Counters of the owned services and destinations. */
    ForwarderStats stats() throws KernelException;

    /**
     * Empties the backend's load-balancing table, as keepalived's {@code lvs_flush} and
     * {@code lvs_flush_on_stop} do. A backend whose kernel facility is one table shared by every
     * tool (IPVS, one per network namespace) flushes all of it, rules of other tools included, and
     * says {@link FlushScope#EVERYTHING}: that is what the operator asked for. A backend whose rules
     * live in tables of their own (nftables) has nothing global to flush; it removes every rule it
     * owns and says {@link FlushScope#OWNED}. Either way the forwarder owns nothing afterwards, and
     * the next {@link #apply} starts from an empty table. Blocking; on failure the kernel may hold
     * part of what it held.
     */
    FlushScope flush() throws KernelException;

    /** What {@link #flush} removed. */
    enum FlushScope {
        /** The whole table, including rules this forwarder did not create. */
        EVERYTHING,
        /** Only the rules this forwarder owns; the backend has no table shared with other tools. */
        OWNED
    }

    /** Releases the forwarder's kernel handles; the rules stay in place. */
    @Override
    void close();
}
