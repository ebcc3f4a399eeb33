/**
 * The load-balancing port: the {@link dev.vigil.kernel.forward.Forwarder} interface, the immutable
 * desired-state model it takes ({@link dev.vigil.kernel.forward.DesiredState}), the pure
 * {@link dev.vigil.kernel.forward.ForwardingDiff} that turns two states into ordered operations, and
 * an {@link dev.vigil.kernel.forward.InMemoryForwarder} for tests.
 */
package dev.vigil.kernel.forward;
