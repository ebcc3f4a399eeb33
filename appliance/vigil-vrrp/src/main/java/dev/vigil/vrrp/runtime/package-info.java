/**
 * Runs many VRRP instances on one engine thread: {@link dev.vigil.vrrp.runtime.VrrpRouter} feeds
 * packets, timers and link changes to each instance's state machine and applies the resulting
 * actions through the kernel ports. Time and threads come from a {@link dev.vigil.vrrp.runtime.Scheduler}:
 * {@link dev.vigil.vrrp.runtime.ExecutorScheduler} in production, {@link dev.vigil.vrrp.runtime.ManualScheduler}
 * (virtual time) in tests.
 */
package dev.vigil.vrrp.runtime;
