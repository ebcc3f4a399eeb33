package dev.vigil.daemon;

import dev.vigil.config.LoadResult;
import dev.vigil.api.Notifier;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.daemon.check.CheckEngine;
import dev.vigil.daemon.check.CheckIo;
import dev.vigil.daemon.event.NotifierTypes;
import dev.vigil.daemon.forward.RealServerSelector;
import dev.vigil.daemon.forward.ServiceManager;
import dev.vigil.daemon.plugin.CheckPlan;
import dev.vigil.daemon.plugin.CheckerValidation;
import dev.vigil.daemon.plugin.PluginHost;
import dev.vigil.daemon.plugin.PluginMemory;
import dev.vigil.daemon.plugin.PluginProbes;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.vrrp.runtime.ExecutorScheduler;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.random.RandomGenerator;

/**
 * The daemon's health checking, wired: the {@link PluginHost} (opened with the first
 * configuration, from its {@code vigil_plugins_dir}), the shared event loops ({@link CheckIo}), the
 * {@link CheckEngine} on its own thread {@code vigil-checks}, and the forwarder's
 * {@link ServiceManager#setState} and {@link ServiceManager#setWeight} as the engine's sink. A
 * plugin that abuses memory ({@link PluginMemory}) is disabled in the engine, then unloaded from
 * the host once its probes are dropped. The
 * daemon's main thread calls {@link #validate}, {@link #start}, {@link #reconfigure} and
 * {@link #close}; the API thread calls {@link #status} and {@link #pluginsText}.
 */
final class HealthChecks implements AutoCloseable {

    private static final long STATUS_WAIT_MS = 2_000;

    private final EventLog log;
    private volatile PluginHost host;
    private volatile List<PluginHost.PluginInfo> plugins = List.of();
    private CheckIo io;
    private ExecutorScheduler scheduler;
    private volatile CheckEngine engine;
    private volatile Map<String, RealServerSelector> selectors = Map.of();
    private volatile NotifierTypes notifierTypes;

    HealthChecks(EventLog log) {
        this.log = log;
    }

    /**
     * Adds the checker diagnostics to a freshly read configuration ({@link CheckerValidation}).
     * The first call loads the plugins of the configuration's directory and logs what went wrong
     * with them; plugins are loaded once, so a later {@code vigil_plugins_dir} takes effect at the
     * next start (said in the log).
     */
    LoadResult validate(LoadResult result) {
        Path dir = PluginHost.directory(result.config());
        PluginHost h = host;
        if (h == null) {
            h = PluginHost.open(dir);
            host = h;
            PluginHost opened = h;
            h.memory().onAbuse((id, reason) -> retire(opened, id, reason));
            plugins = h.plugins();
            for (PluginHost.Problem p : h.problems()) {
                log.log(p.error() ? Log.Level.ERROR : Log.Level.WARN, "plugins", p.message());
            }
            log.info("plugins", h.directory() + ": " + plugins.size() + " plugin" + (plugins.size() == 1 ? "" : "s")
                    + (h.keywords().isEmpty() ? ", no checker" : ", checkers " + String.join(", ", h.keywords())));
        } else if (!dir.toAbsolutePath().normalize().equals(h.directory())) {
            log.warn("plugins", "the plugins directory is now " + dir + "; plugins load at start only, "
                    + h.directory() + " stays in use until the next start");
        }
        return CheckerValidation.apply(result, h);
    }

    /** The VIP backends the loaded plugins provide, by name; empty before {@link #validate}. */
    Map<String, PluginHost.VipPlugin> vipBackends() {
        PluginHost h = host;
        return h == null ? Map.of() : h.vipBackends();
    }

    /** Disables a plugin that abused memory, then unloads it off the caller's thread (the sentry's, a plugin call's). */
    private void retire(PluginHost h, String pluginId, String reason) {
        log.log(Log.Level.ERROR, "plugins", "plugin " + pluginId + " abused memory: " + reason);
        CheckEngine e = engine;
        CompletableFuture<Void> stopped = e == null ? CompletableFuture.completedFuture(null) : e.disablePlugin(pluginId, reason);
        stopped.whenComplete((v, ex) -> Thread.ofVirtual().name("plugin-retire " + pluginId).start(() -> h.retire(pluginId, reason)));
    }

    /**
     * The notifier types of the plugins loaded by the first {@link #validate} and {@code builtIns};
     * made once (a contested type is logged then), like the plugins.
     */
    NotifierTypes notifierTypes(List<Notifier> builtIns) {
        NotifierTypes t = notifierTypes;
        if (t == null) {
            t = NotifierTypes.of(host, builtIns);
            notifierTypes = t;
            t.problems().forEach(p -> log.log(Log.Level.ERROR, "plugins", p));
            log.info("plugins", "notifier types: " + (t.types().isEmpty() ? "none" : String.join(", ", t.types())));
        }
        return t;
    }

    /** Starts the checks of {@code config}, setting real servers' states through {@code services}. */
    void start(KeepalivedConfig config, ServiceManager services) {
        io = CheckIo.open(CheckIo.THREADS);
        scheduler = new ExecutorScheduler("vigil-checks");
        CheckEngine.StateSink sink = new CheckEngine.StateSink() {
            @Override
            public void changed(String realServer, boolean up, String reason) {
                RealServerSelector s = selectors.get(realServer);
                if (s != null) {
                    services.setState(s, up, reason);
                }
            }

            @Override
            public void weight(String realServer, int weight, String reason) {
                RealServerSelector s = selectors.get(realServer);
                if (s != null) {
                    services.setWeight(s, weight, reason);
                }
            }
        };
        engine = new CheckEngine(scheduler, new PluginProbes(host, io), sink, log, RandomGenerator.getDefault(),
                CheckEngine.Limits.DEFAULT);
        reconfigure(config);
    }

    /** Hands a (new) configuration's checkers to the engine: unchanged ones keep their state. */
    void reconfigure(KeepalivedConfig config) {
        CheckEngine e = engine;
        if (e == null) {
            return;
        }
        host.memory().budget(callMemory(config));
        CheckPlan plan = CheckPlan.of(config, host);
        selectors = plan.selectors();
        e.configure(plan.specs(), plan.realServers());
    }

    /** {@code global_defs vigil_plugin_call_memory} in bytes (checked by the configuration's parser), else the default. */
    static long callMemory(KeepalivedConfig config) {
        List<String> words = config.globalDefs().other().get(PluginMemory.BUDGET_KEYWORD);
        if (words == null || words.isEmpty()) {
            return PluginMemory.DEFAULT_BUDGET;
        }
        try {
            return Long.parseLong(words.getFirst());
        } catch (NumberFormatException e) {
            return PluginMemory.DEFAULT_BUDGET;
        }
    }

    /** The {@code checks} part of {@code vigil status}: counters, plugins, every checker's state. */
    Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        PluginHost h = host;
        out.put("pluginsDir", h == null ? null : h.directory().toString());
        out.put("transport", io == null ? null : io.transport());
        CheckEngine e = engine;
        if (e != null) {
            try {
                out.putAll(e.status().get(STATUS_WAIT_MS, TimeUnit.MILLISECONDS));
                if (h != null) {
                    addMemory(out, h);
                }
            } catch (TimeoutException | ExecutionException ex) {
                out.put("error", "the check engine did not answer in " + STATUS_WAIT_MS + " ms");
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        return out;
    }

    /** Each plugin's call counters next to its error counts, and the heap as the guard saw it last. */
    @SuppressWarnings("unchecked")
    private static void addMemory(Map<String, Object> out, PluginHost h) {
        Map<String, Object> plugins = new TreeMap<>((Map<String, Object>) out.getOrDefault("plugins", Map.of()));
        h.callStats().forEach((id, stats) -> {
            Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) plugins.getOrDefault(id, Map.of()));
            m.putAll(stats);
            String retired = h.retired().get(id);
            m.put("unloaded", retired != null);
            plugins.put(id, m);
        });
        out.put("plugins", plugins);
        PluginMemory mem = h.memory();
        Map<String, Object> heap = new LinkedHashMap<>();
        heap.put("pluginCallBudgetBytes", mem.budget());
        heap.put("heapMaxBytes", Runtime.getRuntime().maxMemory());
        heap.put("heapAfterLastGcBytes", mem.lastHeapAfterGc());
        heap.put("heapGuardTrips", mem.heapGuardTrips());
        out.put("pluginMemory", heap);
    }

    /** {@code vigil plugins}: the loaded plugins as a table, with the engine's verdict on each. */
    String pluginsText() {
        PluginHost h = host;
        CheckEngine e = engine;
        return PluginsCommand.table(h == null ? null : h.directory(), plugins, e == null ? Map.of() : e.disabledPlugins());
    }

    /** Stops the checks (before the forwarder stops), then the loops and the plugins. */
    @Override
    public void close() {
        CheckEngine e = engine;
        engine = null;
        if (e != null) {
            try {
                e.close().get(2, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException ex) {
                log.warn("checks", "the check engine did not stop in 2 s");
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        if (scheduler != null) {
            scheduler.close();
        }
        if (io != null) {
            io.close();
        }
        PluginHost h = host;
        if (h != null) {
            h.close();
        }
    }
}
