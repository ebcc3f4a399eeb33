package dev.vigil.daemon.policy;

import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.daemon.Log;
import dev.vigil.dsl.CompiledPolicy;
import dev.vigil.dsl.PolicyCompiler;
import dev.vigil.dsl.store.PolicyRevision;
import dev.vigil.dsl.store.PolicyStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The daemon's side of the policy store ({@code global_defs vigil_policy_store}): which policy
 * revisions run.
 *
 * <ul>
 *   <li><b>Start.</b> On its own thread (the daemon's start does not wait for SQLite), opens the store (creating its directories and the file), compiles the active
 *       revision of each policy and hands the daemon the map name to {@link CompiledPolicy} through
 *       the listener. A revision that does not compile is logged ({@code policy NAME rREV: ...}),
 *       shown in the status and left out; a store that cannot be opened is logged and the daemon
 *       runs without policies, trying the store again at each poll (logging only a new
 *       reason).</li>
 *   <li><b>Changes.</b> Polls the active set (name to revision) every {@link #POLL}; what changed is
 *       compiled again and the listener gets the new map. The command line changes the store; the
 *       daemon only follows it.</li>
 *   <li><b>Audit.</b> Records {@code loaded}, {@code unloaded} and compile {@code error}s with the
 *       daemon as actor ({@code vigil@ROUTER_ID}), and takes {@link #audit} lines from the engine:
 *       all of them queue ({@value #AUDIT_QUEUE} lines at most, the excess dropped and counted) for
 *       one writer thread, so no caller waits on SQLite.</li>
 * </ul>
 * Polling, compiling and the listener run on one thread of their own.
 */
public final class PolicyHost implements AutoCloseable {

    /** The store's path when {@code vigil_policy_store} is not set. */
    public static final String DEFAULT_STORE_TEXT = "/var/lib/vigil/policies.db";
    public static final Path DEFAULT_STORE = Path.of(DEFAULT_STORE_TEXT);
    /** How often the store is asked for the active set. */
    public static final Duration POLL = Duration.ofSeconds(1);
    /** Audit lines that may wait for the writer; past it new ones are dropped. */
    public static final int AUDIT_QUEUE = 4096;

    /** Compiles a revision; {@link PolicyCompiler}'s in the daemon. */
    @FunctionalInterface
    public interface Compiler {
        CompiledPolicy compile(String name, int revision, String text) throws Exception;
    }

    /** What runs, or failed to, for one policy. */
    private record Entry(int revision, CompiledPolicy compiled, String error) {
    }

    private record Line(String policy, Integer revision, String kind, String detail) {
    }

    private static final Line STOP = new Line("", null, "", "");

    private final Compiler compiler;
    private final Consumer<Map<String, CompiledPolicy>> listener;
    private final Supplier<String> actor;
    private final Duration poll;
    private final ScheduledExecutorService loop;
    private final BlockingQueue<Line> lines = new LinkedBlockingQueue<>(AUDIT_QUEUE);
    private final Thread writer;
    private final AtomicLong auditDropped = new AtomicLong();
    private final AtomicLong auditFailed = new AtomicLong();

    /** {@code null} when policies are off. Read by the status; written on the loop. */
    private volatile Path path;
    private volatile PolicyStore store;
    private volatile String storeError;
    private volatile Map<String, Entry> entries = Map.of();
    private volatile boolean closed;
    /** Whether the listener has been told once (it is told at start even of an empty set). Loop thread only. */
    private boolean published;

    /**
     * @param path     the store, or {@code null} for none ({@code vigil_policy_store off})
     * @param actor    the daemon's name in the audit trail, e.g. {@code vigil@lb1}
     * @param listener takes the compiled active policies after each change (and once at start)
     */
    public PolicyHost(Path path, Supplier<String> actor, Consumer<Map<String, CompiledPolicy>> listener) {
        this(path, actor, listener, new PolicyCompiler()::compile, POLL);
    }

    public PolicyHost(Path path, Supplier<String> actor, Consumer<Map<String, CompiledPolicy>> listener, Compiler compiler,
                      Duration poll) {
        this.path = path;
        this.actor = Objects.requireNonNull(actor, "actor");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.compiler = Objects.requireNonNull(compiler, "compiler");
        this.poll = Objects.requireNonNull(poll, "poll");
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "policy-host");
            t.setDaemon(true);
            return t;
        });
        this.writer = new Thread(this::writeAudit, "policy-audit");
        this.writer.setDaemon(true);
    }

    /** The store when the configuration names none: {@code -Dvigil.policyStore}, else {@value #DEFAULT_STORE_TEXT}. */
    public static Path defaultStore() {
        String p = System.getProperty("vigil.policyStore");
        return p == null || p.isBlank() ? DEFAULT_STORE : Path.of(p);
    }

    /** The store a configuration names: {@code vigil_policy_store}, else the default ({@link #defaultStore()}); empty when {@code off}. */
    public static Optional<Path> storePath(KeepalivedConfig config) {
        List<String> words = config == null ? null : config.globalDefs().other().get("vigil_policy_store");
        if (words == null || words.isEmpty()) {
            return Optional.of(defaultStore());
        }
        return "off".equals(words.getFirst()) ? Optional.empty() : Optional.of(Path.of(words.getFirst()));
    }

    /**
     * Starts loading the active policies and polling, and returns at once: opening the store
     * (Flyway included) and compiling take their time on the host's thread, not the daemon's start.
     */
    public void start() {
        writer.start();
        loop.scheduleWithFixedDelay(this::refresh, 0, poll.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A reload's store: a different path closes the old store and loads from the new one ({@code null}: off). */
    public void reconfigure(Path next) {
        loop.execute(() -> {
            if (Objects.equals(next, path)) {
                return;
            }
            Log.info("policies", "store " + describe(path) + " -> " + describe(next));
            unloadAll("store changed");
            PolicyStore old = store;
            store = null;
            storeError = null;
            path = next;
            if (old != null) {
                old.close();
            }
            refresh();
        });
    }

    /**
     * Queues a line for the audit trail (the engine's actions); never blocks.
     *
     * @return false when the line was dropped: no store open, or the queue is full
     */
    public boolean audit(String policy, Integer revision, String kind, String detail) {
        if (closed || store == null || !lines.offer(new Line(policy, revision, kind, detail))) {
            auditDropped.incrementAndGet();
            return false;
        }
        return true;
    }

    /** The compiled policies in force, by name. */
    public Map<String, CompiledPolicy> policies() {
        return compiled(entries);
    }

    /** For {@code vigil status}: the store, and each active policy with its revision and state. */
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        Path p = path;
        out.put("store", p == null ? "off" : p.toString());
        if (p != null) {
            String err = storeError;
            out.put("state", err == null ? (store != null ? "open" : "opening") : "error: " + err);
        }
        Map<String, Object> active = new LinkedHashMap<>();
        entries.forEach((name, e) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("revision", e.revision());
            m.put("state", e.compiled() != null ? "running" : "compile error");
            if (e.error() != null) {
                m.put("error", e.error());
            }
            active.put(name, m);
        });
        out.put("active", active);
        out.put("auditQueued", lines.size());
        out.put("auditDropped", auditDropped.get());
        out.put("auditFailed", auditFailed.get());
        return out;
    }

    /** Stops polling, writes what the audit queue holds (up to two seconds), closes the store. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            loop.submit(() -> unloadAll("daemon stopping")).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            Log.warn("policies", "stopping: " + e);
        }
        closed = true;
        loop.shutdownNow();
        lines.offer(STOP);
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        PolicyStore s = store;
        store = null;
        if (s != null) {
            s.close();
        }
    }

    // ------------------------------------------------------------------ the loop

    /** One poll: open the store if needed, compare the active set, compile what changed, tell the listener. */
    private void refresh() {
        if (closed) {
            return;
        }
        try {
            if (path == null) {
                if (!published) {
                    publish();
                }
                return;
            }
            PolicyStore s = store;
            if (s == null) {
                s = openStore();
                if (s == null) {
                    return;
                }
            }
            Map<String, Integer> active = s.activeNumbers();
            if (storeError != null) {
                Log.info("policies", "store " + path + " readable again");
                storeError = null;
            }
            Map<String, Entry> current = entries;
            boolean same = active.size() == current.size()
                    && active.entrySet().stream().allMatch(e -> current.containsKey(e.getKey())
                    && current.get(e.getKey()).revision() == e.getValue());
            if (same) {
                if (!published) {
                    publish();
                }
                return;
            }
            Map<String, Entry> next = new TreeMap<>();
            for (Map.Entry<String, Integer> e : active.entrySet()) {
                Entry had = current.get(e.getKey());
                if (had != null && had.revision() != e.getValue() && had.compiled() != null) {
                    audit(e.getKey(), had.revision(), "unloaded", "replaced by r" + e.getValue());
                }
                next.put(e.getKey(), had != null && had.revision() == e.getValue() ? had : load(s, e.getKey(), e.getValue()));
            }
            for (Map.Entry<String, Entry> e : current.entrySet()) {
                if (!next.containsKey(e.getKey()) && e.getValue().compiled() != null) {
                    Log.info("policies", "policy " + e.getKey() + " r" + e.getValue().revision() + ": unloaded");
                    audit(e.getKey(), e.getValue().revision(), "unloaded", "no longer active");
                }
            }
            entries = Collections.unmodifiableMap(next);
            publish();
        } catch (RuntimeException e) {
            report("cannot read the store: " + e.getMessage());
        }
    }

    private void publish() {
        published = true;
        try {
            listener.accept(compiled(entries));
        } catch (RuntimeException e) {
            Log.error("policies", "the policies' listener failed: " + e);
        }
    }

    private PolicyStore openStore() {
        Path p = path;
        try {
            if (p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            PolicyStore s = PolicyStore.open(p);
            store = s;
            if (storeError != null) {
                Log.info("policies", "store " + p + " opened");
            } else {
                Log.info("policies", "store " + p);
            }
            storeError = null;
            return s;
        } catch (IOException | RuntimeException e) {
            String why = e instanceof IOException ? p + ": cannot create the directory: " + e.getMessage() : e.getMessage();
            report(why);
            if (!published) {
                publish();
            }
            return null;
        }
    }

    /** Logs a store problem once per distinct reason; running policies stay as they are. */
    private void report(String why) {
        if (!Objects.equals(why, storeError)) {
            Log.error("policies", why + (store == null ? "; running without policies" : "; the running policies stay"));
        }
        storeError = why;
    }

    private Entry load(PolicyStore s, String name, int revision) {
        String where = "policy " + name + " r" + revision;
        try {
            PolicyRevision r = s.revision(name, revision);
            CompiledPolicy c = compiler.compile(name, revision, r.text());
            Log.info("policies", where + ": loaded");
            audit(name, revision, "loaded", "");
            return new Entry(revision, c, null);
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getName() : e.getMessage().strip().lines().findFirst().orElse("");
            Log.error("policies", where + ": " + why + "; not loaded");
            audit(name, revision, "error", "not loaded: " + why);
            return new Entry(revision, null, why);
        }
    }

    private void unloadAll(String why) {
        entries.forEach((name, e) -> {
            if (e.compiled() != null) {
                audit(name, e.revision(), "unloaded", why);
            }
        });
        boolean had = !entries.isEmpty();
        entries = Map.of();
        if (had) {
            publish();
        }
    }

    private void writeAudit() {
        while (true) {
            Line l;
            try {
                l = lines.take();
            } catch (InterruptedException e) {
                return;
            }
            if (l == STOP) {
                return;
            }
            PolicyStore s = store;
            if (s == null) {
                auditDropped.incrementAndGet();
                continue;
            }
            try {
                s.audit(l.policy(), l.revision(), l.kind(), l.detail(), actor.get());
            } catch (RuntimeException e) {
                if (auditFailed.getAndIncrement() == 0) {
                    Log.warn("policies", "audit line not written: " + e.getMessage());
                }
            }
        }
    }

    private static Map<String, CompiledPolicy> compiled(Map<String, Entry> entries) {
        Map<String, CompiledPolicy> out = new LinkedHashMap<>();
        entries.forEach((name, e) -> {
            if (e.compiled() != null) {
                out.put(name, e.compiled());
            }
        });
        return Collections.unmodifiableMap(out);
    }

    private static String describe(Path p) {
        return p == null ? "off" : p.toString();
    }
}
