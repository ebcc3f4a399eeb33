package dev.vigil.daemon.check;

import dev.vigil.api.CheckResult;

import java.util.concurrent.CompletableFuture;

/**
 * Starts the probes of one checker for the {@link CheckEngine}: the engine's side of a plugin's
 * {@link dev.vigil.api.Probe}. The production launcher runs the plugin's code on the plugin's own threads
 * ({@code PluginProbes}); specs use scripted ones.
 */
public interface ProbeLauncher {

    /**
     * Starts one probe and returns at once; {@code result} is completed later, from any thread,
     * with the result or exceptionally (a {@link ProbeFailure} says what failed). The engine
     * never launches a second probe before the first is completed or timed out.
     */
    void launch(CompletableFuture<CheckResult> result);

    /**
     * Why a probe that went without a result says nothing of its plugin, or {@code null} (the
     * default): the engine asks when its watchdog fires. The production launcher excuses a probe
     * while another plugin is exhausting the heap, which may have cost this probe its result.
     */
    default String excuse() {
        return null;
    }

    /**
     * Why the host, not the plugin, is to blame for a probe launched at {@code launchedAt} (the
     * engine's clock) that went without a result or timed out, or {@code null} (the default): the
     * call into the plugin had not started yet, or the target's event loop ran its tasks more than
     * {@code toleranceNanos} late since the launch. The engine then has no verdict.
     */
    default String hostLate(long launchedAt, long toleranceNanos) {
        return null;
    }

    /** The checker is gone (reload, disabled plugin, shutdown): release the probe; returns at once. */
    void close();
}
