/**
 * Ports through which the engine reaches the kernel: VRRP packet I/O, interface addresses,
 * link state and neighbour announcements.
 *
 * <p>Every port has exactly one real adapter (in {@code vigil-kernel-linux}) and in-memory fakes
 * for tests. Implementations must be safe to call from any single thread; callbacks are delivered
 * on threads owned by the adapter and must not block.
 */
package dev.vigil.kernel;
