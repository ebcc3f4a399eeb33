package dev.vigil.daemon.plugin;

import dev.vigil.api.CheckResult;
import dev.vigil.api.Probe;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.check.CheckIo;
import dev.vigil.daemon.check.CheckSpec;
import dev.vigil.daemon.check.ProbeFactory;
import dev.vigil.daemon.check.ProbeFailure;
import dev.vigil.daemon.check.ProbeLauncher;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The engine's launchers over the installed plugins. Every call into a plugin ({@code create},
 * {@code run}, {@code close}) runs on a thread of the plugin's own pool ({@link PluginCalls}) with
 * the plugin's class loader as context loader: a plugin that blocks or never returns holds its
 * own threads only, never the engine's, the event loops' or VRRP's; the engine's watchdog fails
 * the probe meanwhile. A call that breaks the memory budget or throws {@link OutOfMemoryError}
 * fails its probe with a {@linkplain ProbeFailure#memory() memory failure}. The plugin's
 * {@link Probe} is made on the first launch (and again on the next launch if that threw), and
 * dropped when the launcher is closed.
 */
public final class PluginProbes implements ProbeFactory {

    private final PluginHost host;
    private final CheckIo io;

    public PluginProbes(PluginHost host, CheckIo io) {
        this.host = host;
        this.io = io;
    }

    @Override
    public ProbeLauncher create(CheckSpec spec) {
        PluginHost.Checker checker = host.checker(spec.keyword())
                .orElseThrow(() -> new IllegalStateException("no plugin provides " + spec.keyword()));
        if (checker.retired()) {
            String why = "plugin " + checker.pluginId() + " is unloaded: " + host.retired().getOrDefault(checker.pluginId(), "it abused memory");
            return new ProbeLauncher() {
                @Override
                public void launch(CompletableFuture<CheckResult> result) {
                    result.completeExceptionally(new ProbeFailure(why, true, false));
                }

                @Override
                public void close() {
                }
            };
        }
        return new Launcher(checker, new HostCheckContext(spec, io), host.memory(), io);
    }

    private static final class Launcher implements ProbeLauncher {
        private final PluginHost.Checker checker;
        private final PluginMemory memory;
        private final HostCheckContext context;
        private final String name;
        private final CheckIo io;
        private volatile Probe probe;
        /** Whether the call of the probe in flight has started on the plugin's thread. */
        private volatile boolean started;
        private volatile boolean closed;
        /** The plugin method the call in flight is in, for the memory sentry's message. */
        private volatile String phase = "run()";
        /** Names the call in flight; one for the launcher's life, not one per probe. */
        private final Supplier<String> phaseName = () -> phase;

        Launcher(PluginHost.Checker checker, HostCheckContext context, PluginMemory memory, CheckIo io) {
            this.checker = checker;
            this.io = io;
            this.memory = memory;
            this.context = context;
            this.name = checker.pluginId() + " " + checker.keyword() + " " + context.target().name();
        }

        @Override
        public void launch(CompletableFuture<CheckResult> result) {
            started = false;
            // Queued: the probes due together reach the plugin's thread in one hand-off (PluginCalls#enqueue).
            checker.calls().enqueue(phaseName, new Attempt(this, result));
        }

        /** One probe's call: its body, and where a failure of the call goes (one object per probe, not two). */
        private record Attempt(Launcher launcher, CompletableFuture<CheckResult> result) implements Runnable, Consumer<PluginCalls.Failure> {
            @Override
            public void run() {
                launcher.run(result);
            }

            @Override
            public void accept(PluginCalls.Failure f) {
                result.completeExceptionally(f.hostBusy() ? ProbeFailure.hostLate(f.getMessage())
                        : new ProbeFailure(f.getMessage(), f.memory(), f.noVerdict()));
            }
        }

        private void run(CompletableFuture<CheckResult> result) {
            started = true;
            Probe p = probe;
            if (p == null) {
                phase = "create()";
                try {
                    p = checker.extension().create(context);
                } catch (OutOfMemoryError e) {
                    throw e;
                } catch (Throwable e) {
                    result.completeExceptionally(new ProbeFailure("create() threw " + PluginCalls.describe(e)));
                    return;
                }
                if (p == null) {
                    result.completeExceptionally(new ProbeFailure("create() returned null"));
                    return;
                }
                probe = p;
                if (closed) {
                    close(p);
                    result.completeExceptionally(new ProbeFailure("the checker was removed"));
                    return;
                }
            }
            phase = "run()";
            CompletionStage<CheckResult> stage;
            try {
                stage = p.run();
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (Throwable e) {
                result.completeExceptionally(new ProbeFailure("run() threw " + PluginCalls.describe(e)));
                return;
            }
            if (stage == null) {
                result.completeExceptionally(new ProbeFailure("run() returned null"));
                return;
            }
            stage.whenComplete((r, e) -> {
                if (e != null) {
                    result.completeExceptionally(new ProbeFailure("the probe completed exceptionally: " + PluginCalls.describe(e)));
                } else if (r == null) {
                    result.completeExceptionally(new ProbeFailure("the probe completed with null"));
                } else {
                    result.complete(r);
                }
            });
        }

        @Override
        public String hostLate(long launchedAt, long toleranceNanos) {
            if (!started) {
                return "the call into plugin " + checker.pluginId() + " had not started (queued behind its other calls, or its thread got no CPU)";
            }
            long lag = io == null ? 0 : io.lagSince(context.eventLoop(), launchedAt);
            return lag > toleranceNanos ? "its event loop ran " + lag / 1_000_000 + " ms behind" : null;
        }

        @Override
        public String excuse() {
            String culprit = memory.exhaustedBy(checker.pluginId());
            return culprit == null ? null : "while plugin " + culprit + " was exhausting the heap: no verdict";
        }

        @Override
        public void close() {
            closed = true;
            Probe p = probe;
            probe = null;
            if (p != null) {
                close(p);
            }
        }

        private void close(Probe p) {
            checker.calls().start(() -> "close()", () -> {
                try {
                    p.close();
                } catch (OutOfMemoryError e) {
                    throw e;
                } catch (Throwable e) {
                    Log.warn("checks", name + ": close() threw " + PluginCalls.describe(e));
                }
            }, f -> Log.warn("checks", name + ": " + f.getMessage()));
        }
    }
}
