package dev.vigil.daemon.plugin;

import dev.vigil.daemon.Log;

import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Watches what the plugins' calls allocate, for every {@link PluginCalls} of one host.
 *
 * <ul>
 *   <li><b>The sentry</b>: one daemon thread that, every {@value #SENTRY_MILLIS} ms, reads the
 *       allocation counter of each call in flight and fails one over the per-call budget
 *       ({@code global_defs vigil_plugin_call_memory}, default 64 MiB). A call can allocate much
 *       in those milliseconds, so a runaway call may still fill the heap for a moment: the threads
 *       that must not die of that (VRRP, the forwarder, the engines' schedulers) survive an
 *       {@link OutOfMemoryError}.</li>
 *   <li><b>The heap guard</b>: after every garbage collection (the JVM's GC notifications; with
 *       generational ZGC, every major cycle: {@link #judges}), when
 *       the heap still holds more than {@value #HEAP_THRESHOLD_PERCENT}% of its maximum, as it did
 *       after the collection judged before it (one full heap alone is a peak, such as ten thousand
 *       checkers starting at once, that the next collection finds gone), the plugin
 *       whose calls allocated most over the last {@value #WINDOW_SECONDS} to
 *       {@value #WINDOW_SECONDS_MAX} seconds is reported, if it allocated at least a sixteenth of
 *       the heap in that time (so a plugin that merely runs is never blamed for someone else's
 *       memory). This catches a plugin whose every call stays in budget but keeps what it
 *       allocated, e.g. in a static list. The guard then waits for the next window.</li>
 * </ul>
 * Both report to the listener ({@link #onAbuse}) with the plugin and the reason; the daemon
 * disables the plugin at once, drops its probes and unloads it so that what it retains can be
 * collected.
 *
 * <p>Both read what only the JDK's {@code jdk.management} module tells ({@link JdkManagement}). A
 * runtime without it (a jlink image that leaves it out), or a JVM that does not count each
 * thread's allocation, runs the plugins without memory limits: no sentry, no heap guard, no
 * budget, and one warning the first time a host is opened saying so and why ({@link #limitsOff()}).
 */
public final class PluginMemory implements AutoCloseable {

    /** The {@code global_defs} keyword of the per-call budget. */
    public static final String BUDGET_KEYWORD = "vigil_plugin_call_memory";
    /** The default per-call budget, 64 MiB. */
    public static final long DEFAULT_BUDGET = 64L << 20;
    static final long SENTRY_MILLIS = 25;
    static final int HEAP_THRESHOLD_PERCENT = 80;
    static final long WINDOW_SECONDS = 5;
    static final long WINDOW_SECONDS_MAX = 2 * WINDOW_SECONDS;
    static final long EPISODE_SECONDS = 10;
    static final long RUNAWAY_SECONDS = 60;

    /** The allocation counters, or {@code null} where there are none: then there are no limits. */
    private static final JdkManagement THREADS = jdkManagement() ? JdkManagement.open() : null;
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final Set<PluginCalls> plugins = ConcurrentHashMap.newKeySet();
    private final List<BiConsumer<String, String>> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private volatile long budget = DEFAULT_BUDGET;
    private ScheduledExecutorService sentry;
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener gcListener = this::afterGc;
    private final Set<String> heapPools;

    // The guard's window: each plugin's allocation at the start of the current and of the previous period.
    private final Object windowLock = new Object();
    private Map<PluginCalls, Long> previous = new HashMap<>();
    private Map<PluginCalls, Long> current = new HashMap<>();
    private long periodStart = System.nanoTime();
    private volatile long lastHeapAfterGc = -1;
    // Calls abandoned over their budget whose bodies still run, with their plugin; and the last report.
    private final Map<PluginCalls.Call, Runaway> runaways = new ConcurrentHashMap<>();
    private volatile String lastReported;
    private volatile long lastReportNanos;
    private volatile long heapGuardTrips;
    /** Whether the heap was over the threshold after the last collection judged (GC notifications come on one thread). */
    private boolean wasFull;

    PluginMemory() {
        heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP)
                .map(MemoryPoolMXBean::getName)
                .collect(Collectors.toUnmodifiableSet());
        String off = limitsOff();
        if (off != null && WARNED.compareAndSet(false, true)) {
            Log.warn("plugins", "plugin memory limits are off: " + off);
        }
    }

    /**
     * Whether this runtime has the {@code jdk.management} module, asked of the boot layer without
     * touching a class of it, so that the answer costs no {@link NoClassDefFoundError}: only then
     * is {@link JdkManagement} loaded.
     */
    static boolean jdkManagement() {
        return ModuleLayer.boot().findModule("jdk.management").isPresent();
    }

    /**
     * Why this runtime cannot limit the plugins' memory, or {@code null} when it can: it has no
     * {@code jdk.management} module, or its JVM does not count each thread's allocation.
     */
    public static String limitsOff() {
        if (THREADS != null) {
            return null;
        }
        return jdkManagement()
                ? "this JVM does not count each thread's allocation (ThreadMXBean.isThreadAllocatedMemorySupported)"
                : "this Java runtime has no jdk.management module, which counts each thread's allocation and"
                + " reports garbage collections; plugins run without vigil_plugin_call_memory and the heap guard";
    }

    /** The per-call budget in bytes. */
    public long budget() {
        return budget;
    }

    /** Sets the per-call budget (the configuration's, at start and on each reload). */
    public void budget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("budget: " + bytes + " (expected: > 0)");
        }
        budget = bytes;
    }

    /**
     * Adds a listener for plugins that abused memory: {@code (pluginId, reason)}, from the thread
     * that found it (a plugin call's, the sentry's or the JVM's notification thread); it must
     * return at once. Each plugin is reported once.
     */
    public void onAbuse(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    /** The heap in use after the last collection, in bytes, or -1 before the first one. */
    public long lastHeapAfterGc() {
        return lastHeapAfterGc;
    }

    /** Times the heap guard found the heap above its threshold after a collection, as after the one judged before. */
    public long heapGuardTrips() {
        return heapGuardTrips;
    }

    long currentThreadAllocatedBytes() {
        return THREADS == null ? -1 : THREADS.currentThreadAllocatedBytes();
    }

    synchronized void register(PluginCalls calls) {
        plugins.add(calls);
        if (sentry != null || THREADS == null) {
            return;
        }
        sentry = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("vigil-plugin-sentry").factory());
        sentry.scheduleWithFixedDelay(this::tick, SENTRY_MILLIS, SENTRY_MILLIS, TimeUnit.MILLISECONDS);
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter e) {
                e.addNotificationListener(gcListener, null, null);
                emitters.add(e);
            }
        }
    }

    void unregister(PluginCalls calls) {
        plugins.remove(calls);
    }

    private record Runaway(String pluginId, long since) {
    }

    /** A call abandoned over its budget, still running. */
    void runaway(PluginCalls.Call c, String pluginId) {
        runaways.put(c, new Runaway(pluginId, System.nanoTime()));
    }

    /** A runaway call's body ended (its thread ran out of memory, most likely). */
    void runawayEnded(PluginCalls.Call c) {
        runaways.remove(c);
    }

    /**
     * The plugin exhausting the heap now, other than {@code pluginId}: the last reported, within
     * {@value #EPISODE_SECONDS} s of its report, or one with a runaway call still running that was
     * abandoned within {@value #RUNAWAY_SECONDS} s (a runaway that never ends must not excuse
     * every other plugin for ever); {@code null} when none is. A call of another plugin that runs
     * out of memory meanwhile is a victim, not a culprit.
     */
    String exhaustedBy(String pluginId) {
        long now = System.nanoTime();
        String last = lastReported;
        if (last != null && !last.equals(pluginId) && now - lastReportNanos < TimeUnit.SECONDS.toNanos(EPISODE_SECONDS)) {
            return last;
        }
        for (Runaway r : runaways.values()) {
            if (!r.pluginId().equals(pluginId) && now - r.since() < TimeUnit.SECONDS.toNanos(RUNAWAY_SECONDS)) {
                return r.pluginId();
            }
        }
        return null;
    }

    void abused(String pluginId, String reason) {
        if (!reported.add(pluginId)) {
            return;
        }
        lastReported = pluginId;
        lastReportNanos = System.nanoTime();
        for (BiConsumer<String, String> l : listeners) {
            try {
                l.accept(pluginId, reason);
            } catch (RuntimeException e) {
                Log.warn("plugins", "memory listener failed: " + PluginCalls.describe(e));
            }
        }
    }

    /** The sentry's round: every call in flight against the budget, then the guard's window. */
    private void tick() {
        try {
            long b = budget;
            for (PluginCalls p : plugins) {
                for (PluginCalls.Call c : p.inFlight()) {
                    Thread t = c.thread;
                    if (t == null) {
                        continue;
                    }
                    long bytes = THREADS.threadAllocatedBytes(t.threadId());
                    if (bytes >= 0) {
                        p.inspect(c, bytes, b);
                    }
                }
            }
            long now = System.nanoTime();
            synchronized (windowLock) {
                if (now - periodStart >= TimeUnit.SECONDS.toNanos(WINDOW_SECONDS)) {
                    previous = current;
                    current = snapshot();
                    periodStart = now;
                }
            }
        } catch (Throwable e) {
            // The sentry must outlive whatever it watches, an exhausted heap included.
        }
    }

    private Map<PluginCalls, Long> snapshot() {
        Map<PluginCalls, Long> m = new HashMap<>();
        for (PluginCalls p : plugins) {
            m.put(p, p.allocated());
        }
        return m;
    }

    private void afterGc(Notification n, Object handback) {
        try {
            JdkManagement.Collection gc = JdkManagement.collection(n, heapPools);
            if (gc == null || !judges(gc.gcName())) {
                return;
            }
            long used = gc.heapUsed();
            lastHeapAfterGc = used;
            long max = Runtime.getRuntime().maxMemory();
            boolean full = max > 0 && used * 100 > max * HEAP_THRESHOLD_PERCENT;
            boolean fullBefore = wasFull;
            wasFull = full;
            if (!full || !fullBefore) {
                return;
            }
            heapGuardTrips++;
            guard(used, max);
        } catch (Throwable e) {
            // As the sentry: never let the notification thread die of what it watches.
        }
    }

    /**
     * Whether the heap after a collection of this collector says what is retained. Generational
     * ZGC's minor cycles leave the old generation's garbage in place, and its pauses are steps of
     * a cycle, not its end: after either, the heap holds what a burst of allocation left (10,000
     * first probes within a second) and judging it would blame the busiest plugin for garbage.
     * Only its major cycles are judged; every other collector's notifications are.
     */
    static boolean judges(String gcName) {
        return !(gcName.startsWith("ZGC") && (gcName.contains("Minor") || gcName.contains("Pauses")));
    }

    /** The heap is above the threshold after a collection: blames the plugin that allocated most lately, if one did much. */
    private void guard(long used, long max) {
        PluginCalls worst = null;
        long worstBytes = 0;
        synchronized (windowLock) {
            for (PluginCalls p : plugins) {
                long since = p.allocated() - previous.getOrDefault(p, 0L);
                if (since > worstBytes) {
                    worst = p;
                    worstBytes = since;
                }
            }
            if (worst == null || worstBytes < max / 16) {
                return;
            }
            // The next verdict needs fresh allocation: a plugin is not blamed twice for the same bytes.
            previous = snapshot();
            current = previous;
            periodStart = System.nanoTime();
        }
        String reason = String.format(Locale.ROOT, "the heap was %d%% full after a garbage collection (%s of %s; threshold %d%%)"
                        + " and its calls allocated the most in the last %d s: %s", used * 100 / max, mib(used), mib(max),
                HEAP_THRESHOLD_PERCENT, WINDOW_SECONDS_MAX, mib(worstBytes));
        abused(worst.pluginId(), reason);
    }

    /** {@code 412 MiB}, or {@code 0.5 MiB} below one. */
    static String mib(long bytes) {
        if (bytes >= 1L << 20) {
            return (bytes >> 20) + " MiB";
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** Stops the sentry and the heap guard. */
    @Override
    public synchronized void close() {
        if (sentry != null) {
            sentry.shutdownNow();
            sentry = null;
        }
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(gcListener);
            } catch (ListenerNotFoundException ignored) {
                // never added
            }
        }
        emitters.clear();
    }
}
