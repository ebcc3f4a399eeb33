/**
 * The plugin API: what a Vigil plugin is built against, and all it is built against besides PF4J
 * and Netty (all three {@code provided}: the host supplies them at run time).
 *
 * <p>Extension points: {@link dev.vigil.api.HealthChecker} (checker keywords such as
 * {@code TCP_CHECK}, each block becoming a {@link dev.vigil.api.Probe} with its
 * {@link dev.vigil.api.CheckContext}), {@link dev.vigil.api.Notifier} (event delivery) and
 * {@link dev.vigil.api.VipBackend} (bringing virtual addresses up and down). Values exchanged with
 * the host are immutable records: {@link dev.vigil.api.CheckTarget},
 * {@link dev.vigil.api.CheckResult}, {@link dev.vigil.api.ConfigBlock} and its
 * {@link dev.vigil.api.ConfigLine}s with {@link dev.vigil.api.Location}s, and
 * {@link dev.vigil.api.ConfigProblem}.
 *
 * <p>The contract in one line per rule: never block a host thread; report through what the host
 * gave you; whatever you throw or forget to finish is contained, counted against your plugin, and
 * past a limit disables it.
 */
package dev.vigil.api;
