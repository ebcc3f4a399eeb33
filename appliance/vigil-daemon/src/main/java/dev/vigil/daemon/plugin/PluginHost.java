package dev.vigil.daemon.plugin;

import dev.vigil.api.HealthChecker;
import dev.vigil.api.VipBackend;
import dev.vigil.api.Notifier;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.parse.Keywords;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.LogBridge;
import dev.vigil.daemon.event.Contained;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.pf4j.RuntimeMode;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * The daemon's PF4J host: loads and starts the plugins of one directory (zips, jars or unpacked
 * directories, as PF4J's {@link DefaultPluginManager} does) and maps every checker keyword to the
 * {@link HealthChecker} extension that declares it.
 *
 * <p>Plugins are loaded once, when the daemon starts ({@code vigil check} loads them too, to know
 * the keywords); a reload of the configuration keeps them. What can go wrong is collected as
 * {@link #problems()} instead of thrown: a missing directory, a plugin that fails to load or
 * start, a keyword claimed by two plugins (neither is used, and a configuration using it is
 * refused with both named), a keyword that is not a keyword. Every call into a plugin runs through
 * its {@link PluginCalls} (a pool of its own, bounded in time and memory), watched by one
 * {@link PluginMemory}; a plugin that abuses memory is {@linkplain #retire unloaded}.
 *
 * <p>Open, query and close from one thread (PF4J is not thread-safe); {@link #retire} may come
 * from another, and is serialised with {@link #close}. The maps it hands out are immutable.
 */
public final class PluginHost implements AutoCloseable {

    /** The system property that overrides the default plugins directory (tests, development). */
    public static final String DIR_PROPERTY = "vigil.pluginsDir";
    /** The environment variable naming the plugins directory when the system property is not set. */
    public static final String DIR_VARIABLE = "VIGIL_PLUGINS_DIR";
    /** The {@code global_defs} keyword naming the plugins directory. */
    public static final String DIR_KEYWORD = "vigil_plugins_dir";
    /** How long a plugin's {@code keywords()} may take. */
    static final Duration CALL_LIMIT = Duration.ofSeconds(5);

    private static final Pattern KEYWORD = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Pattern NOTIFIER_TYPE = Pattern.compile("[A-Za-z][A-Za-z0-9_-]*");

    /**
     * The extension that owns a checker keyword.
     *
     * @param extension the plugin's extension, or {@code null} once the plugin is unloaded ({@link #retire})
     * @param calls     runs every call into the plugin
     */
    public record Checker(String keyword, String pluginId, HealthChecker extension, PluginCalls calls) {
        /** Whether the plugin was unloaded for abusing memory: its checkers no longer run. */
        public boolean retired() {
            return extension == null;
        }
    }

    /** The extension that owns a VIP backend name. */
    public record VipPlugin(String name, String pluginId, VipBackend extension, PluginCalls calls) {
        /** The plugin's class loader, the context loader of every call into it. */
        public ClassLoader loader() {
            return extension.getClass().getClassLoader();
        }
    }

    /** The names of the daemon's own VIP backends, which no plugin may claim. */
    public static final Set<String> BUILT_IN_VIP_BACKENDS = Set.of("netlink", "vmac");
    /** A {@link Notifier} extension of a plugin and one type it implements. */
    public record NotifierType(String type, String pluginId, Notifier extension) {
    }

    /**
     * One plugin as {@code vigil plugins} lists it.
     *
     * @param id          {@code plugin.id}
     * @param version     {@code plugin.version}
     * @param provider    {@code plugin.provider}, or empty
     * @param description {@code plugin.description}, or empty
     * @param state       PF4J's state: {@code STARTED}, {@code FAILED}, {@code DISABLED}, ...
     * @param keywords    the checker keywords it provides (a contested one is listed too), then its
     *                    notifier types as {@code notifier:TYPE}
     * @param problem     why it failed, or {@code null}
     */
    public record PluginInfo(String id, String version, String provider, String description, String state,
                             List<String> keywords, String problem) {
        public PluginInfo {
            keywords = List.copyOf(keywords);
        }
    }

    /** A problem of the plugins themselves, found while loading them. */
    public record Problem(boolean error, String message) {
    }

    private final Path directory;
    private final DefaultPluginManager manager;
    private final PluginMemory memory = new PluginMemory();
    private final Map<String, PluginCalls> calls = new TreeMap<>();
    private final Map<String, String> retired = new TreeMap<>();
    // Replaced whole when a plugin is retired, from the thread that retires it.
    private volatile Map<String, Checker> checkers = new TreeMap<>();
    private final Map<String, List<String>> contested = new TreeMap<>();
    private final Map<String, List<String>> keywordsByPlugin = new TreeMap<>();
    private final List<Problem> problems = new ArrayList<>();
    private final Map<String, VipPlugin> vipBackends = new TreeMap<>();
    private final Map<String, List<NotifierType>> notifierClaims = new TreeMap<>();

    private PluginHost(Path directory, DefaultPluginManager manager) {
        this.directory = directory;
        this.manager = manager;
    }

    /** Loads and starts every plugin in {@code directory}; never throws for a plugin's fault. */
    public static PluginHost open(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            PluginHost host = new PluginHost(dir, null);
            host.problems.add(new Problem(false, "plugins directory " + dir + " does not exist: no checker plugin is installed"));
            return host;
        }
        DefaultPluginManager manager = new DefaultPluginManager(dir) {
            @Override
            public RuntimeMode getRuntimeMode() {
                // Packaged plugins only; development mode would read ../plugins/*/target/classes.
                return RuntimeMode.DEPLOYMENT;
            }
        };
        PluginHost host = new PluginHost(dir, manager);
        host.load();
        return host;
    }

    private void load() {
        BiConsumer<Log.Level, String> previous = LogBridge.sink();
        // PF4J reports a plugin it cannot load only in its log: those lines become problems.
        LogBridge.sink((level, line) -> {
            if (level == Log.Level.ERROR || level == Log.Level.WARN) {
                problems.add(new Problem(level == Log.Level.ERROR, line));
            } else {
                previous.accept(level, line);
            }
        });
        try {
            manager.loadPlugins();
            manager.startPlugins();
        } catch (RuntimeException | LinkageError e) {
            problems.add(new Problem(true, "loading the plugins of " + directory + " failed: " + PluginCalls.describe(e)));
        } finally {
            LogBridge.sink(previous);
        }
        Map<String, List<Checker>> claims = new LinkedHashMap<>();
        for (PluginWrapper w : manager.getPlugins()) {
            String id = w.getPluginId();
            keywordsByPlugin.put(id, new ArrayList<>());
            if (w.getPluginState() == PluginState.FAILED) {
                problems.add(new Problem(true, "plugin " + id + " failed to start: "
                        + (w.getFailedException() != null ? PluginCalls.describe(w.getFailedException()) : "no reason given")));
                continue;
            }
            if (w.getPluginState() != PluginState.STARTED) {
                continue;
            }
            PluginCalls pc = new PluginCalls(id, w.getPluginClassLoader(), memory);
            calls.put(id, pc);
            List<HealthChecker> extensions;
            try {
                extensions = manager.getExtensions(HealthChecker.class, id);
            } catch (RuntimeException | LinkageError e) {
                problems.add(new Problem(true, "plugin " + id + ": its health checkers cannot be created: " + PluginCalls.describe(e)));
                continue;
            }
            for (HealthChecker ext : extensions) {
                Set<String> kws;
                try {
                    kws = pc.call(id + " " + ext.getClass().getSimpleName() + ".keywords()", CALL_LIMIT, ext::keywords);
                } catch (PluginCalls.Failure f) {
                    problems.add(new Problem(true, "plugin " + id + ": " + f.getMessage() + "; its checker is not used"));
                    continue;
                }
                for (String kw : kws == null ? Set.<String>of() : new TreeSet<>(kws)) {
                    String bad = badKeyword(kw);
                    if (bad != null) {
                        problems.add(new Problem(true, "plugin " + id + " claims \"" + kw + "\", " + bad + "; ignored"));
                        continue;
                    }
                    keywordsByPlugin.get(id).add(kw);
                    claims.computeIfAbsent(kw, k -> new ArrayList<>()).add(new Checker(kw, id, ext, pc));
                }
            }
        }
        for (PluginWrapper w : manager.getPlugins()) {
            if (w.getPluginState() == PluginState.STARTED) {
                loadNotifiers(w.getPluginId());
            }
        }
        loadVipBackends();
        Map<String, Checker> owned = new TreeMap<>();
        claims.forEach((kw, owners) -> {
            if (owners.size() == 1) {
                owned.put(kw, owners.getFirst());
                return;
            }
            List<String> ids = owners.stream().map(Checker::pluginId).sorted().toList();
            contested.put(kw, ids);
            problems.add(new Problem(true, "checker " + kw + " is claimed by more than one plugin (" + String.join(", ", ids)
                    + "): none of them runs it; remove all but one from " + directory));
        });
        checkers = Collections.unmodifiableMap(owned);
    }

    /**
     * Maps every {@link VipBackend} extension's names to it; a name of a built-in backend, or one
     * two plugins claim, is a problem and none of its claimants is used.
     */
    private void loadVipBackends() {
        Map<String, List<VipPlugin>> claims = new TreeMap<>();
        for (PluginWrapper w : manager.getStartedPlugins()) {
            String id = w.getPluginId();
            List<VipBackend> extensions;
            try {
                extensions = manager.getExtensions(VipBackend.class, id);
            } catch (RuntimeException | LinkageError e) {
                problems.add(new Problem(true, "plugin " + id + ": its VIP backends cannot be created: " + PluginCalls.describe(e)));
                continue;
            }
            for (VipBackend ext : extensions) {
                Set<String> names;
                try {
                    names = calls.get(id).call(id + " " + ext.getClass().getSimpleName() + ".names()", CALL_LIMIT, ext::names);
                } catch (PluginCalls.Failure f) {
                    problems.add(new Problem(true, "plugin " + id + ": " + f.getMessage() + "; its VIP backend is not used"));
                    continue;
                }
                for (String name : names == null ? Set.<String>of() : new TreeSet<>(names)) {
                    if (name == null || !KEYWORD.matcher(name).matches()) {
                        problems.add(new Problem(true, "plugin " + id + " names a VIP backend \"" + name
                                + "\", which is not a name (letters, digits and _, starting with a letter); ignored"));
                    } else if (BUILT_IN_VIP_BACKENDS.contains(name)) {
                        problems.add(new Problem(true, "plugin " + id + " names a VIP backend \"" + name
                                + "\", which is built in; ignored"));
                    } else {
                        claims.computeIfAbsent(name, k -> new ArrayList<>()).add(new VipPlugin(name, id, ext, calls.get(id)));
                    }
                }
            }
        }
        claims.forEach((name, owners) -> {
            if (owners.size() == 1) {
                vipBackends.put(name, owners.getFirst());
                keywordsByPlugin.get(owners.getFirst().pluginId()).add("vip:" + name);
                return;
            }
            List<String> ids = owners.stream().map(VipPlugin::pluginId).sorted().toList();
            problems.add(new Problem(true, "VIP backend " + name + " is claimed by more than one plugin ("
                    + String.join(", ", ids) + "): none of them runs it; remove all but one from " + directory));
        });
    }

    /** The VIP backends plugins provide, by name (built-in ones are not listed). */
    public Map<String, VipPlugin> vipBackends() {
        return Collections.unmodifiableMap(vipBackends);
    }

    /** The plugin's notifier extensions and the types each implements ({@code types()}, bounded in time). */
    private void loadNotifiers(String id) {
        List<Notifier> extensions;
        try {
            extensions = manager.getExtensions(Notifier.class, id);
        } catch (RuntimeException | LinkageError e) {
            problems.add(new Problem(true, "plugin " + id + ": its notifiers cannot be created: " + Contained.describe(e)));
            return;
        }
        for (Notifier ext : extensions) {
            Set<String> types;
            try {
                types = Contained.call(id + " " + ext.getClass().getSimpleName() + ".types()",
                        ext.getClass().getClassLoader(), CALL_LIMIT, ext::types);
            } catch (Contained.Failure f) {
                problems.add(new Problem(true, "plugin " + id + ": " + f.getMessage() + "; its notifier is not used"));
                continue;
            }
            for (String type : types == null ? Set.<String>of() : new TreeSet<>(types)) {
                if (type == null || !NOTIFIER_TYPE.matcher(type).matches()) {
                    problems.add(new Problem(true, "plugin " + id + " claims notifier type \"" + type
                            + "\", which is not a type (letters, digits, _ and -, starting with a letter); ignored"));
                    continue;
                }
                keywordsByPlugin.get(id).add("notifier:" + type);
                notifierClaims.computeIfAbsent(type, k -> new ArrayList<>()).add(new NotifierType(type, id, ext));
            }
        }
    }

    /**
     * Every notifier type the plugins implement, with each plugin claiming it (more than one: the
     * type is contested, and the event package refuses it).
     */
    public Map<String, List<NotifierType>> notifierClaims() {
        Map<String, List<NotifierType>> out = new TreeMap<>();
        notifierClaims.forEach((t, l) -> out.put(t, List.copyOf(l)));
        return Collections.unmodifiableMap(out);
    }

    /** Why {@code keyword} cannot be a checker keyword, or {@code null}. */
    static String badKeyword(String keyword) {
        if (keyword == null || !KEYWORD.matcher(keyword).matches()) {
            return "which is not a keyword (letters, digits and _, starting with a letter)";
        }
        if (Keywords.REAL_SERVER.contains(keyword)) {
            return "which is a real_server option";
        }
        return null;
    }

    /** The directory the plugins were loaded from. */
    public Path directory() {
        return directory;
    }

    /** The checker keywords an extension owns, sorted. */
    public Set<String> keywords() {
        return Collections.unmodifiableSet(new TreeSet<>(checkers.keySet()));
    }

    /** The extension owning {@code keyword}, if exactly one plugin claims it. */
    public Optional<Checker> checker(String keyword) {
        return Optional.ofNullable(checkers.get(keyword));
    }

    /** The plugins claiming {@code keyword} when more than one does; empty otherwise. */
    public List<String> claimants(String keyword) {
        return contested.getOrDefault(keyword, List.of());
    }

    /** Every plugin found, in PF4J's order. */
    public List<PluginInfo> plugins() {
        if (manager == null) {
            return List.of();
        }
        List<PluginInfo> out = new ArrayList<>();
        for (PluginWrapper w : manager.getPlugins()) {
            var d = w.getDescriptor();
            out.add(new PluginInfo(w.getPluginId(), nonNull(d.getVersion()), nonNull(d.getProvider()),
                    nonNull(d.getPluginDescription()), w.getPluginState().toString(),
                    keywordsByPlugin.getOrDefault(w.getPluginId(), List.of()),
                    w.getFailedException() != null ? PluginCalls.describe(w.getFailedException()) : null));
        }
        return out;
    }

    /** The memory sentry and heap guard of the plugins' calls. */
    public PluginMemory memory() {
        return memory;
    }

    /** Each plugin's call counters ({@link PluginCalls#stats}), by plugin id. */
    public Map<String, Map<String, Object>> callStats() {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        synchronized (this) {
            calls.forEach((id, c) -> out.put(id, c.stats()));
        }
        return out;
    }

    /** Plugins unloaded for abusing memory, with the reason. */
    public synchronized Map<String, String> retired() {
        return Map.copyOf(retired);
    }

    /**
     * Unloads a plugin that abused memory, so that what it holds (its statics, its classes) can
     * be collected: its checkers stay known, {@linkplain Checker#retired() retired}, so a
     * configuration naming them still loads; its pool takes no more calls; calls in flight get up
     * to two seconds to return (an abandoned call may never: its thread keeps what it references);
     * then PF4J stops and unloads the plugin, which closes its class loader. Call it after the
     * engine dropped the plugin's probes. Blocks up to those two seconds; never throws.
     */
    public void retire(String pluginId, String reason) {
        PluginCalls pc;
        synchronized (this) {
            if (retired.containsKey(pluginId) || manager == null) {
                return;
            }
            retired.put(pluginId, reason);
            pc = calls.get(pluginId);
            Map<String, Checker> next = new TreeMap<>(checkers);
            next.replaceAll((kw, ch) -> ch.pluginId().equals(pluginId) ? new Checker(kw, pluginId, null, ch.calls()) : ch);
            checkers = Collections.unmodifiableMap(next);
        }
        boolean idle = true;
        if (pc != null) {
            pc.close();
            try {
                idle = pc.awaitIdle(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            try {
                manager.stopPlugin(pluginId);
                manager.unloadPlugin(pluginId);
                Log.warn("plugins", "plugin " + pluginId + " unloaded" + (idle ? "" : " (a call of it never returned: its thread"
                        + " and what it holds stay until the daemon restarts)"));
            } catch (RuntimeException | LinkageError e) {
                Log.warn("plugins", "unloading plugin " + pluginId + ": " + PluginCalls.describe(e));
            }
        }
    }

    /** What went wrong while loading, in order. */
    public List<Problem> problems() {
        return List.copyOf(problems);
    }

    /**
     * Stops the plugins, newest first, then unloads them. PF4J 3.15's {@code stopPlugins()} walks
     * the list of started plugins while stopping one removes it from that list and throws
     * {@code ConcurrentModificationException} (pf4j/pf4j#656), so each is stopped on its own from
     * a copy. Never throws.
     */
    @Override
    public synchronized void close() {
        memory.close();
        calls.values().forEach(PluginCalls::close);
        if (manager == null) {
            return;
        }
        List<PluginWrapper> started = new ArrayList<>(manager.getStartedPlugins());
        Collections.reverse(started);
        for (PluginWrapper w : started) {
            try {
                manager.stopPlugin(w.getPluginId());
            } catch (RuntimeException | LinkageError e) {
                Log.warn("plugins", "stopping plugin " + w.getPluginId() + ": " + PluginCalls.describe(e));
            }
        }
        try {
            manager.unloadPlugins();
        } catch (RuntimeException | LinkageError e) {
            Log.warn("plugins", "unloading the plugins: " + PluginCalls.describe(e));
        }
    }

    /**
     * The plugins directory for {@code config}: {@code global_defs vigil_plugins_dir}, else the
     * {@link #defaultDirectory()}.
     */
    public static Path directory(KeepalivedConfig config) {
        List<String> words = config == null ? null : config.globalDefs().other().get(DIR_KEYWORD);
        if (words != null && !words.isEmpty()) {
            return Path.of(words.getFirst());
        }
        return defaultDirectory();
    }

    /**
     * The system property {@value #DIR_PROPERTY} when set, else the environment variable
     * {@value #DIR_VARIABLE} (which every process started from this one inherits, in other network
     * namespaces too), else {@link #installedDirectory()}.
     */
    public static Path defaultDirectory() {
        for (String p : new String[] {System.getProperty(DIR_PROPERTY), System.getenv(DIR_VARIABLE)}) {
            if (p != null && !p.isBlank()) {
                return Path.of(p).toAbsolutePath().normalize();
            }
        }
        return installedDirectory();
    }

    /**
     * {@code plugins} next to the installation, found from where the daemon's classes are: beside
     * the daemon's jar, or beside its {@code lib} directory when the jar sits in one
     * ({@code /opt/vigil/lib/vigil-daemon.jar} gives {@code /opt/vigil/plugins}). In a source
     * checkout the jar, or the classes directory, is in {@code appliance/vigil-daemon/target}, so
     * the directory is {@code appliance/vigil-daemon/target/plugins}, where every build of a
     * plugin module installs its zip.
     */
    public static Path installedDirectory() {
        try {
            CodeSource source = PluginHost.class.getProtectionDomain().getCodeSource();
            Path where = Path.of(source.getLocation().toURI()).toAbsolutePath().normalize();
            Path dir = where.getParent() != null ? where.getParent() : where;
            if (dir.getFileName() != null && dir.getFileName().toString().equals("lib") && dir.getParent() != null) {
                dir = dir.getParent();
            }
            return dir.resolve("plugins");
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("plugins").toAbsolutePath();
        }
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }
}
