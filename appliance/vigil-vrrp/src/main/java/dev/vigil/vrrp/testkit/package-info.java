/**
 * In-memory fakes of the kernel ports for tests of the engine and of code that wires it:
 * {@link dev.vigil.vrrp.testkit.FakeSegment} (an L2 segment that carries VRRP packets between
 * nodes, with a firewall), {@link dev.vigil.vrrp.testkit.FakeAddressManager},
 * {@link dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser} and {@link dev.vigil.vrrp.testkit.FakeLinkMonitor}.
 * Not thread-safe: meant for single-threaded tests with a {@link dev.vigil.vrrp.runtime.ManualScheduler}.
 */
package dev.vigil.vrrp.testkit;
