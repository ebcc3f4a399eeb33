package dev.vigil.daemon.check;

import dev.vigil.api.CheckResult;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.vrrp.runtime.Scheduler;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;

/**
 * Runs every health checker of the configuration and turns their results into real-server states,
 * with keepalived's semantics (see {@link CheckerState}): {@code warmup} before the first probe,
 * {@code delay_loop} between probes, {@code retry} attempts {@code delay_before_retry} apart before
 * a failure counts, {@code alpha}, and Vigil's {@code rise}/{@code fall}. A real server is up only
 * while all of its checkers are up (keepalived's check/ipwrapper.c {@code update_svr_checker_state});
 * every change of that is handed to the {@link StateSink} (the forwarder's {@code setState}), and
 * nothing else is.
 *
 * <p><b>Weights.</b> A passing result that carries a weight ({@code MISC_CHECK}'s
 * {@code misc_dynamic}: exit status minus 2) sets the real server's weight, handed to
 * {@link StateSink#weight} before the state change the same result may cause, so a server that
 * comes up does so at that weight (keepalived's check_misc.c calls {@code update_svr_wgt} before
 * {@code update_svr_checker_state}). A result without a weight leaves the last one in place, as in
 * keepalived, where exit 0 changes nothing; a failing result never sets one. The engine hands on
 * changes only, and forgets what it handed at each {@link #configure}, so the first weight after a
 * reload is handed again (the forwarder may have gone back to a changed configured weight).
 *
 * <p><b>One thread.</b> All state lives on the {@link Scheduler}'s thread (its clock too, so a
 * {@code ManualScheduler} drives the engine in virtual time); results arriving from plugin threads
 * are queued onto it. The engine only calls {@link ProbeLauncher}s, which return at once.
 *
 * <p><b>Isolation.</b> A probe that fails in the plugin (the launcher throws, the result completes
 * exceptionally or with nothing, or none arrives within {@code connect_timeout} plus a grace
 * period) becomes a {@link CheckResult.Status#PLUGINERR} failure with the reason: the target fails
 * like any failing target, and its plugin's error count goes up. A result that arrives after its
 * probe was given up is ignored and counted as late. When a plugin makes more errors than the
 * limit within the window it is disabled, loudly: its checkers stop probing and each keeps the
 * state of its last genuine (non-PLUGINERR) result, or its starting state if it never had one.
 * That is the operator's best knowledge of the servers: a broken checker says nothing about them,
 * and taking every real server it watches out of service would turn a plugin bug into an outage;
 * servers it had found down stay down. A reload enables the plugin again (its configuration may
 * have been the trigger); a fixed plugin needs a restart to be loaded.
 *
 * <p><b>Memory.</b> A probe that failed with a {@linkplain ProbeFailure#memory() memory failure}
 * (a call over its allocation budget, an {@link OutOfMemoryError}) is recorded as the target's
 * PLUGINERR result and disables its plugin at once, as does {@link #disablePlugin} (the heap
 * guard's verdict): memory abuse threatens the whole process. The plugin's checkers freeze as
 * above and their probes are closed and dropped; a reload does not enable it again (its checkers
 * of a new configuration start frozen at their starting state): only a restart does. A probe of
 * another plugin that ran out of memory meanwhile ({@link ProbeFailure#noVerdict()}) is the
 * victim of that one: the attempt is not counted, and the checker probes again after
 * {@code delay_loop}.
 *
 * <p><b>Host lateness.</b> A probe can miss its time limit because the host was behind rather
 * than the plugin: the engine's own thread ran the watchdog late (by more than
 * {@link Limits#hostLag}), the plugin's call had not even started, or the target's event loop
 * lagged by more than {@code hostLag} while the probe ran ({@link ProbeLauncher#hostLate}). Such an
 * attempt has no verdict: it counts neither against the plugin nor against the target, and the
 * checker probes again after {@code delay_loop}. The same holds for a timeout the plugin itself
 * reports ({@code L4TOUT}, {@code L7TOUT}) while its event loop lagged: the server may well have
 * answered in time, and for a launch the plugin's threads could not take because the host runs
 * its calls slowly ({@link ProbeFailure#hostLate()}). A busy host then probes less often instead of failing healthy servers and
 * disabling their plugin. These attempts are counted ({@code hostLateNoVerdicts}) and told at most
 * once a minute. A plugin that hangs on a host that keeps up is still a plugin error.
 *
 * <p><b>Probes in flight.</b> At most {@link Limits#maxInFlight} probes are in flight at once; a
 * probe due beyond that waits, in the order it came due, for one to end. Past a host's capacity
 * (a cold start of 10,000 checkers whose first probes all come due within a second, a CPU shared
 * with busier work) checks then run later rather than pile up: each one in flight holds a
 * connection and its buffers, and thousands of them at once would fill the heap and time out
 * together. The waits are counted ({@code probesWaited}).
 *
 * <p><b>Probe times.</b> A probe's time (after {@code warmup}, {@code delay_loop} or
 * {@code delay_before_retry}) is rounded up to the next step of a 10 ms grid
 * ({@link #PROBE_GRID_NANOS}): at 10,000 checkers a second the probes come in bursts of about a
 * hundred, and each thread on their way (the engine, the plugin's call thread, the event loops,
 * the engine again for the results) wakes once per burst rather than once per probe. A check
 * then comes at most 10 ms after keepalived's time, never before it. Results that arrive from
 * other threads (the event loops, the plugins') are taken on the same grid: the first of a batch
 * arms one alarm at the next step, when the engine wakes for that step's probes anyway, and every
 * result arrived by then is taken in one go, so the engine does not wake for each result of a
 * burst as it comes in. A result waits 10 ms at most.
 *
 * <p><b>Watchdogs.</b> The probes in flight are kept in a list in launch order, each with its
 * deadline ({@code connect_timeout} plus {@link Limits#grace}), and one alarm (the sweep) is armed
 * at the earliest deadline among them: a probe's launch links it, its result unlinks it, and
 * neither touches the scheduler's timer queue, which then holds only the checkers' next probes.
 * With a watchdog alarm per probe, every check would arm one timer and cancel it again, and the
 * probes' own alarms (a second out) would sift past the watchdogs (two seconds out) in the queue.
 * The sweep walks the list, which holds no more than {@link Limits#maxInFlight} probes.
 *
 * <p><b>Reload.</b> {@link #configure} diffs by {@link CheckSpec#key()}: a checker whose
 * {@link CheckSpec#fingerprint()} is unchanged keeps its state, counters and probe; a changed one
 * starts again; removed ones stop; new ones start after their warm-up.
 */
public final class CheckEngine {

    /** Receives real-server state changes; called on the engine thread, must return at once. */
    @FunctionalInterface
    public interface StateSink {
        /**
         * @param realServer the real server's name
         * @param up         its new state
         * @param reason     why, for the log: the checker and its last result
         */
        void changed(String realServer, boolean up, String reason);

        /**
         * A checker set the real server's weight; the default ignores it.
         *
         * @param realServer the real server's name
         * @param weight     its new weight, 0 or more
         * @param reason     the checker and its result, for the log
         */
        default void weight(String realServer, int weight, String reason) {
        }
    }

    /**
     * The isolation limits.
     *
     * @param grace            how long past {@code connect_timeout} a probe may take before it is a plugin error
     * @param pluginErrorLimit plugin errors tolerated within {@code window}; one more disables the plugin
     * @param window           the sliding window the errors are counted in
     * @param hostLag          how late the host may run a probe's work (the engine its watchdog, an
     *                         event loop its tasks) before a missed time limit is the host's fault
     * @param maxInFlight      the most probes in flight at once; a probe due beyond waits for a slot
     */
    public record Limits(Duration grace, int pluginErrorLimit, Duration window, Duration hostLag, int maxInFlight) {
        /**
         * One second of grace; more than 30 plugin errors in a minute disable a plugin; 200 ms of
         * host lag; {@value #MAX_IN_FLIGHT} probes in flight.
         */
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(1), 30, Duration.ofMinutes(1));
        /** The default most probes in flight: 20 times what 10,000 checks a second at 10 ms each keep. */
        public static final int MAX_IN_FLIGHT = 2000;

        /** The limits with the default host lag of 200 ms and {@value #MAX_IN_FLIGHT} probes in flight. */
        public Limits(Duration grace, int pluginErrorLimit, Duration window) {
            this(grace, pluginErrorLimit, window, Duration.ofMillis(200), MAX_IN_FLIGHT);
        }

        public Limits {
            Objects.requireNonNull(grace, "grace");
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(hostLag, "hostLag");
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 1)");
            }
            if (pluginErrorLimit < 0) {
                throw new IllegalArgumentException("pluginErrorLimit: " + pluginErrorLimit + " (expected: >= 0)");
            }
        }
    }

    private static final String SUBJECT = "checks";
    /** How often the engine looks for checkers that lost their next probe. */
    private static final long AUDIT_NANOS = 1_000_000_000L;
    /**
     * Probes come due on a grid of this step (10 ms): the probes due within one step start
     * together, a burst the engine thread launches in one wake-up, the plugin's thread takes in
     * one hand-off and the event loops serve in one pass, instead of a wake-up of each thread per
     * probe. A probe starts at most this much later than its delay says, never earlier.
     */
    static final long PROBE_GRID_NANOS = 10_000_000L;
    /** Host lateness is told at most this often. */
    private static final long HOST_LATE_LOG_NANOS = 60_000_000_000L;

    private final Scheduler scheduler;
    private final ProbeFactory probes;
    private final StateSink sink;
    private final EventLog log;
    private final RandomGenerator random;
    private final Limits limits;

    // Confined to the scheduler's thread.
    private Map<String, Target> targets = new LinkedHashMap<>();
    private Map<String, Server> servers = new LinkedHashMap<>();
    private final Map<String, PluginStats> plugins = new TreeMap<>();
    private long probeCount;
    private long passCount;
    private long failureCount;
    private long pluginErrorCount;
    private long lateCount;
    private long noVerdictCount;
    private long hostLateCount;
    /** Probes in flight, and the targets whose probe came due while {@link Limits#maxInFlight} were. */
    private int inFlightCount;
    private final ArrayDeque<Target> waiting = new ArrayDeque<>();
    private long waitedCount;
    /** Host-late attempts not told yet, the latest one's words, and when they were last told (0: never). */
    private long hostLateUntold;
    private String hostLateLatest;
    private long hostLateToldAt;
    private boolean hostLateTold;
    private long rescued;
    private Scheduler.Alarm audit;
    private boolean closed;
    /** The probes in flight with a watchdog, in launch order, and the one alarm over them all. */
    private Target flightHead;
    private Target flightTail;
    private Scheduler.Alarm sweep;
    private boolean sweepArmed;
    private long sweepAt;
    private final ArrayList<Target> overdue = new ArrayList<>();

    /**
     * Results heard on other threads, waiting for the engine thread: the first one of a run asks
     * the engine for one task that takes them all, so a burst of probes ending together wakes the
     * engine thread once rather than once per result.
     */
    private final ConcurrentLinkedQueue<Outcome> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean takingArrived = new AtomicBoolean();
    private final Runnable takeArrived = this::takeArrived;
    /** {@link #takeArrived} at the next step of the probe grid, for results that arrive from other threads. */
    private final Scheduler.Alarm takeArrivedOnGrid;

    /** Plugins the engine has disabled, with the reason; published for readers on other threads. */
    private volatile Map<String, String> disabled = Map.of();

    /** One checker of one real server. */
    private final class Target {
        CheckSpec spec;
        final CheckerState state;
        Server server;
        ProbeLauncher launcher;
        /** The next probe: one alarm, re-armed without allocating. */
        Scheduler.Alarm timer;
        boolean timerArmed;
        /** In the list of probes in flight ({@link #flightHead}), with its deadline {@link #watchdogAt}. */
        boolean watchdogArmed;
        Target flightPrev;
        Target flightNext;
        long watchdogAt;
        long launchedAt;
        long attempts;
        long inFlight;
        /** In {@link #waiting}, for a slot to launch its probe. */
        boolean waiting;
        boolean frozen;
        boolean stopped;
        boolean lastGenuineUp;
        long probes;
        long passes;
        long failures;
        long pluginErrors;
        long late;
        long noVerdict;
        long hostLate;
        CheckResult last;
        long lastAt;

        Target(CheckSpec spec) {
            this.spec = spec;
            this.state = new CheckerState(spec.timing());
            this.lastGenuineUp = state.up();
        }
    }

    /** A real server with the checkers that decide its state. */
    private static final class Server {
        final String name;
        List<Target> targets = List.of();
        boolean pushed;
        /** The weight last handed to the sink since the last configuration, or -1. */
        int weight = -1;

        Server(String name) {
            this.name = name;
        }

        boolean aggregate() {
            for (Target t : targets) {
                if (!t.state.up()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A plugin's error window and whether it is disabled. */
    private static final class PluginStats {
        final ArrayDeque<Long> recent = new ArrayDeque<>();
        long errors;
        boolean disabled;
        /** Disabled for memory abuse: until the daemon restarts. */
        boolean permanent;
        String reason;
    }

    /**
     * @param scheduler the engine's thread and clock
     * @param probes    makes each checker's launcher
     * @param sink      receives real-server state changes
     * @param log       where transitions and plugin trouble are told
     * @param random    draws the warm-up delays
     * @param limits    the isolation limits
     */
    public CheckEngine(Scheduler scheduler, ProbeFactory probes, StateSink sink, EventLog log, RandomGenerator random,
                       Limits limits) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.probes = Objects.requireNonNull(probes, "probes");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.log = Objects.requireNonNull(log, "log");
        this.random = Objects.requireNonNull(random, "random");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.takeArrivedOnGrid = scheduler.alarm(takeArrived);
    }

    /**
     * Takes the checkers of a configuration (at start and on each reload), queued onto the engine
     * thread.
     *
     * @param specs       every checker to run
     * @param realServers the names of every real server of the configuration: one that lost its
     *                    last checker is set up again if the checks had it down (keepalived: a
     *                    real server without checkers is alive)
     */
    public void configure(List<CheckSpec> specs, Set<String> realServers) {
        List<CheckSpec> copy = List.copyOf(specs);
        Set<String> names = Set.copyOf(realServers);
        scheduler.execute(() -> doConfigure(copy, names));
    }

    /** The per-target state and counters for {@code vigil status}, read on the engine thread. */
    public CompletableFuture<Map<String, Object>> status() {
        CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
        try {
            scheduler.execute(() -> f.complete(doStatus()));
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Disables a plugin at once, for memory abuse, until the daemon restarts (see the class
     * comment); queued onto the engine thread. The future completes when its checkers are frozen
     * and their probes closed. A plugin already disabled so is left as it is.
     */
    public CompletableFuture<Void> disablePlugin(String pluginId, String reason) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            scheduler.execute(() -> {
                // Results that arrived before the verdict (the failed call's own, waiting for the
                // next grid step) are taken first, so that its target shows why.
                takeArrived();
                PluginStats p = plugins.computeIfAbsent(pluginId, k -> new PluginStats());
                if (!closed && !p.permanent) {
                    disable(pluginId, p, reason, true);
                }
                f.complete(null);
            });
        } catch (RejectedExecutionException e) {
            f.complete(null);
        }
        return f;
    }

    /** Plugins disabled for their errors, with the reason; readable from any thread. */
    public Map<String, String> disabledPlugins() {
        return disabled;
    }

    /** Stops every checker (no more probes, results ignored, launchers closed); completes on the engine thread. */
    public CompletableFuture<Void> close() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            scheduler.execute(() -> {
                closed = true;
                if (audit != null) {
                    audit.cancel();
                }
                targets.values().forEach(this::stop);
                targets = new LinkedHashMap<>();
                servers = new LinkedHashMap<>();
                f.complete(null);
            });
        } catch (RejectedExecutionException e) {
            f.complete(null);
        }
        return f;
    }

    // ------------------------------------------------------------------ on the engine thread

    private void doConfigure(List<CheckSpec> specs, Set<String> realServers) {
        if (closed) {
            return;
        }
        if (audit == null) {
            audit = scheduler.alarm(this::audit);
            audit.armAt(scheduler.nanoTime() + AUDIT_NANOS);
        }
        for (Map.Entry<String, PluginStats> e : plugins.entrySet()) {
            PluginStats p = e.getValue();
            p.recent.clear();
            if (p.disabled && !p.permanent) {
                p.disabled = false;
                p.reason = null;
                log.info(SUBJECT, "plugin " + e.getKey() + " enabled again by the reload");
            }
        }
        publishDisabled();
        Map<String, Target> old = targets;
        Map<String, Target> next = new LinkedHashMap<>();
        int kept = 0;
        int started = 0;
        int restarted = 0;
        for (CheckSpec spec : specs) {
            if (next.containsKey(spec.key())) {
                continue;
            }
            Target t = old.remove(spec.key());
            PluginStats owner = plugins.get(spec.pluginId());
            boolean barred = owner != null && owner.permanent;
            if (t != null && t.spec.fingerprint().equals(spec.fingerprint()) && t.spec.pluginId().equals(spec.pluginId())) {
                t.spec = spec;
                if (t.frozen && !barred) {
                    t.frozen = false;
                    t.launcher = probes.create(spec);
                    schedule(t, warmup(spec));
                }
                kept++;
            } else {
                if (t != null) {
                    stop(t);
                    restarted++;
                } else {
                    started++;
                }
                t = new Target(spec);
                if (barred) {
                    t.frozen = true;
                } else {
                    t.launcher = probes.create(spec);
                    schedule(t, warmup(spec));
                }
            }
            next.put(spec.key(), t);
        }
        int removed = old.size();
        old.values().forEach(this::stop);
        targets = next;

        Map<String, Server> oldServers = servers;
        Map<String, Server> nextServers = new LinkedHashMap<>();
        Map<String, List<Target>> byServer = new LinkedHashMap<>();
        for (Target t : next.values()) {
            byServer.computeIfAbsent(t.spec.realServer(), k -> new ArrayList<>()).add(t);
        }
        byServer.forEach((name, list) -> {
            Server s = oldServers.remove(name);
            boolean fresh = s == null;
            if (fresh) {
                s = new Server(name);
            }
            s.targets = List.copyOf(list);
            s.weight = -1;
            for (Target t : list) {
                t.server = s;
            }
            nextServers.put(name, s);
            if (fresh) {
                // The forwarder starts it the same way: up unless alpha.
                s.pushed = s.aggregate();
            } else {
                update(s, "its checkers changed");
            }
        });
        servers = nextServers;
        for (Server gone : oldServers.values()) {
            if (!gone.pushed && realServers.contains(gone.name)) {
                gone.pushed = true;
                sink.changed(gone.name, true, "it has no checker any more");
            }
        }
        log.info(SUBJECT, next.size() + " checker" + (next.size() == 1 ? "" : "s") + " on " + nextServers.size()
                + " real server" + (nextServers.size() == 1 ? "" : "s") + " (" + started + " started, " + kept + " kept, "
                + restarted + " restarted, " + removed + " removed)");
    }

    /**
     * Every second: a checker that is neither waiting for its next probe nor for a result lost a
     * task of this thread (an {@link OutOfMemoryError} while a runaway plugin had exhausted the
     * heap, say): it is probed again. The alarm is re-armed first, and re-arming allocates
     * nothing, so the audit itself survives such a moment.
     */
    private void audit() {
        if (closed) {
            return;
        }
        audit.armAt(scheduler.nanoTime() + AUDIT_NANOS);
        if (flightHead != null && !sweepArmed) {
            armSweep(scheduler.nanoTime());
        }
        for (Target t : targets.values()) {
            if (t.stopped || t.frozen) {
                continue;
            }
            boolean lostResult = t.inFlight != 0 && !t.watchdogArmed;
            if (lostResult || (t.inFlight == 0 && !t.timerArmed && !t.waiting)) {
                endFlight(t);
                rescued++;
                schedule(t, lostResult ? 0 : t.spec.timing().delayLoop().toNanos());
            }
        }
    }

    private long warmup(CheckSpec spec) {
        long w = spec.timing().warmup().toNanos();
        return w <= 0 ? 0 : random.nextLong(w + 1);
    }

    private void schedule(Target t, long delayNanos) {
        if (t.timer == null) {
            t.timer = scheduler.alarm(() -> probe(t));
        }
        t.timerArmed = true;
        t.timer.armAt(onGrid(scheduler.nanoTime() + Math.max(0, delayNanos)));
    }

    /** {@code at} rounded up to the next multiple of {@link #PROBE_GRID_NANOS} (on the scheduler's clock). */
    static long onGrid(long at) {
        return at + Math.floorMod(-at, PROBE_GRID_NANOS);
    }

    private void probe(Target t) {
        t.timerArmed = false;
        if (closed || t.stopped || t.frozen) {
            return;
        }
        if (inFlightCount >= limits.maxInFlight()) {
            if (!t.waiting) {
                t.waiting = true;
                waiting.addLast(t);
                waitedCount++;
            }
            return;
        }
        long attempt = ++t.attempts;
        t.inFlight = attempt;
        inFlightCount++;
        t.probes++;
        probeCount++;
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        long limit = t.spec.timing().connectTimeout().toNanos() + limits.grace().toNanos();
        t.launchedAt = scheduler.nanoTime();
        t.watchdogAt = t.launchedAt + limit;
        watch(t);
        result.whenComplete(new Outcome(t, attempt));
        try {
            t.launcher.launch(result);
        } catch (Throwable e) {
            result.completeExceptionally(new ProbeFailure("the launch threw " + ProbeFailure.describe(e)));
        }
    }

    /**
     * A probe's result on its way to the engine thread: heard where the probe completes, then run
     * there (one object per probe for both steps).
     */
    private final class Outcome implements java.util.function.BiConsumer<CheckResult, Throwable>, Runnable {
        private final Target target;
        private final long attempt;
        private CheckResult result;
        private Throwable failure;

        Outcome(Target target, long attempt) {
            this.target = target;
            this.attempt = attempt;
        }

        @Override
        public void accept(CheckResult r, Throwable e) {
            result = r;
            failure = e;
            // The queue orders these writes before the engine thread's reads.
            arrived.add(this);
            if (takingArrived.compareAndSet(false, true)) {
                try {
                    if (scheduler.inEngineThread()) {
                        scheduler.execute(takeArrived);
                    } else {
                        // At the next step of the grid, when the engine wakes for the probes due
                        // then anyway: the results of a burst wait for it (10 ms at most) instead
                        // of waking the engine as they come in.
                        takeArrivedOnGrid.armAt(onGrid(scheduler.nanoTime()));
                    }
                } catch (RejectedExecutionException closing) {
                    // the engine is gone: nobody waits for this result
                }
            }
        }

        @Override
        public void run() {
            completed(target, attempt, result, failure);
        }
    }

    /**
     * On the engine thread: every result that has arrived. The flag is cleared first, so a result
     * queued after the last look asks for another run of this.
     */
    private void takeArrived() {
        takingArrived.set(false);
        try {
            for (Outcome o; (o = arrived.poll()) != null; ) {
                o.run();
            }
        } finally {
            // One that threw (reported by the scheduler) leaves the rest for another run.
            if (!arrived.isEmpty() && takingArrived.compareAndSet(false, true)) {
                scheduler.execute(takeArrived);
            }
        }
    }

    /** Links {@code t}'s probe into the list in flight; the sweep comes no later than its deadline. */
    private void watch(Target t) {
        t.watchdogArmed = true;
        t.flightPrev = flightTail;
        t.flightNext = null;
        if (flightTail == null) {
            flightHead = t;
        } else {
            flightTail.flightNext = t;
        }
        flightTail = t;
        if (!sweepArmed || t.watchdogAt - sweepAt < 0) {
            armSweep(t.watchdogAt);
        }
    }

    /** Takes {@code t}'s probe out of the list in flight, if it is there. */
    private void unwatch(Target t) {
        if (!t.watchdogArmed) {
            return;
        }
        t.watchdogArmed = false;
        if (t.flightPrev == null) {
            flightHead = t.flightNext;
        } else {
            t.flightPrev.flightNext = t.flightNext;
        }
        if (t.flightNext == null) {
            flightTail = t.flightPrev;
        } else {
            t.flightNext.flightPrev = t.flightPrev;
        }
        t.flightPrev = null;
        t.flightNext = null;
    }

    private void armSweep(long at) {
        if (sweep == null) {
            sweep = scheduler.alarm(this::sweep);
        }
        sweepArmed = true;
        sweepAt = at;
        sweep.armAt(at);
    }

    /**
     * The probes in flight whose deadline has come time out, in launch order; the sweep is armed
     * again at the earliest deadline left. The overdue ones are gathered first: a timeout may stop
     * other targets (a plugin disabled for its errors), which leave the list meanwhile.
     */
    private void sweep() {
        sweepArmed = false;
        if (closed) {
            return;
        }
        long now = scheduler.nanoTime();
        overdue.clear();
        for (Target t = flightHead; t != null; t = t.flightNext) {
            if (t.watchdogAt - now <= 0) {
                overdue.add(t);
            }
        }
        try {
            for (Target t : overdue) {
                timedOut(t);
            }
        } finally {
            overdue.clear();
            long next = 0;
            boolean any = false;
            for (Target t = flightHead; t != null; t = t.flightNext) {
                if (!any || t.watchdogAt - next < 0) {
                    next = t.watchdogAt;
                    any = true;
                }
            }
            // Probes launched meanwhile may have armed it already, for a later deadline.
            if (any && (!sweepArmed || next - sweepAt < 0)) {
                armSweep(next);
            }
        }
    }

    private void timedOut(Target t) {
        if (t.inFlight == 0 || !t.watchdogArmed) {
            return;
        }
        endFlight(t);
        unwatch(t);
        long tolerance = limits.hostLag().toNanos();
        long late = scheduler.nanoTime() - t.watchdogAt;
        String host = late > tolerance ? "the check engine ran " + late / 1_000_000 + " ms behind"
                : t.launcher == null ? null : t.launcher.hostLate(t.launchedAt, tolerance);
        if (host != null) {
            hostLate(t, "no result within the time limit: " + host);
            return;
        }
        String excuse = t.launcher == null ? null : t.launcher.excuse();
        if (excuse != null) {
            noVerdict(t, "no result within the time limit, " + excuse);
            return;
        }
        Duration timeout = t.spec.timing().connectTimeout();
        handle(t, pluginError(t, "no result within " + (timeout.toMillis() + limits.grace().toMillis()) + " ms (connect_timeout "
                + timeout.toMillis() + " ms + " + limits.grace().toMillis() + " ms grace)"));
    }

    private void completed(Target t, long attempt, CheckResult r, Throwable e) {
        if (t.inFlight != attempt) {
            t.late++;
            lateCount++;
            return;
        }
        endFlight(t);
        unwatch(t);
        if (e instanceof ProbeFailure f && f.noVerdict()) {
            noVerdict(t, f.getMessage());
            return;
        }
        if (e instanceof ProbeFailure f && f.hostLate()) {
            hostLate(t, f.getMessage());
            return;
        }
        if (e instanceof ProbeFailure f && f.memory()) {
            CheckResult result = pluginError(t, f.getMessage());
            t.last = result;
            t.lastAt = scheduler.nanoTime();
            t.failures++;
            failureCount++;
            t.pluginErrors++;
            pluginErrorCount++;
            log.warn(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " (" + t.spec.location() + "): " + result.detail());
            PluginStats p = plugins.computeIfAbsent(t.spec.pluginId(), k -> new PluginStats());
            p.errors++;
            if (!closed && !p.permanent) {
                disable(t.spec.pluginId(), p, f.getMessage(), true);
            }
            return;
        }
        CheckResult result;
        if (e != null) {
            result = pluginError(t, e instanceof ProbeFailure ? e.getMessage() : "the probe failed with " + ProbeFailure.describe(e));
        } else if (r == null) {
            result = pluginError(t, "the probe completed without a result");
        } else {
            result = r;
            if (r.status() == CheckResult.Status.L4TOUT || r.status() == CheckResult.Status.L7TOUT) {
                String host = t.launcher == null ? null : t.launcher.hostLate(t.launchedAt, limits.hostLag().toNanos());
                if (host != null) {
                    hostLate(t, r.status() + " while " + host);
                    return;
                }
            }
        }
        handle(t, result);
    }

    /**
     * An attempt that missed its time because the host was behind: no verdict, as {@link #noVerdict},
     * counted apart and told at most once a minute (a busy host may have thousands a second).
     */
    private void hostLate(Target t, String why) {
        t.noVerdict++;
        t.hostLate++;
        noVerdictCount++;
        hostLateCount++;
        hostLateUntold++;
        hostLateLatest = t.spec.realServer() + ": " + t.spec.keyword() + ": " + why;
        long now = scheduler.nanoTime();
        if (!hostLateTold || now - hostLateToldAt >= HOST_LATE_LOG_NANOS) {
            log.warn(SUBJECT, "the host is behind: " + hostLateUntold + " probe" + (hostLateUntold == 1 ? "" : "s")
                    + " without a verdict" + (hostLateTold ? " in the last " + (now - hostLateToldAt) / 1_000_000_000L + " s" : "")
                    + ", counted neither against their plugin nor their server and probed again after delay_loop (latest: "
                    + hostLateLatest + "); this is told at most once a minute");
            hostLateTold = true;
            hostLateToldAt = now;
            hostLateUntold = 0;
        }
        if (!closed && !t.stopped && !t.frozen) {
            schedule(t, t.spec.timing().delayLoop().toNanos());
        }
    }

    /** An attempt that says nothing of the target nor of its plugin: not counted; the next one after {@code delay_loop}. */
    private void noVerdict(Target t, String why) {
        t.noVerdict++;
        noVerdictCount++;
        log.warn(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " (" + t.spec.location() + "): " + why
                + "; probing again in " + t.spec.timing().delayLoop().toMillis() + " ms");
        if (!closed && !t.stopped && !t.frozen) {
            schedule(t, t.spec.timing().delayLoop().toNanos());
        }
    }

    private static CheckResult pluginError(Target t, String reason) {
        return CheckResult.of(CheckResult.Status.PLUGINERR, "plugin " + t.spec.pluginId() + ": " + reason);
    }

    private void handle(Target t, CheckResult result) {
        if (closed || t.stopped || t.frozen) {
            return;
        }
        t.last = result;
        t.lastAt = scheduler.nanoTime();
        if (result.pass()) {
            t.passes++;
            passCount++;
        } else {
            t.failures++;
            failureCount++;
        }
        boolean pluginError = result.status() == CheckResult.Status.PLUGINERR;
        if (pluginError) {
            t.pluginErrors++;
            pluginErrorCount++;
            log.warn(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " (" + t.spec.location() + "): " + result.detail());
            if (countPluginError(t.spec.pluginId())) {
                return;
            }
        }
        if (result.pass() && result.weight().isPresent() && t.server != null
                && t.server.weight != result.weight().getAsInt()) {
            t.server.weight = result.weight().getAsInt();
            log.info(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " sets weight " + t.server.weight + ": " + result.status() + " " + result.detail());
            sink.weight(t.spec.realServer(), t.server.weight, t.spec.keyword() + ": " + result.status() + " " + result.detail());
        }
        CheckerState.Step step = t.state.onResult(result.pass());
        if (!pluginError) {
            t.lastGenuineUp = step.up();
        }
        if (!step.counted()) {
            log.log(Log.Level.DEBUG, SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " attempt failed ("
                    + result + "), retry " + t.state.retries() + " of " + t.spec.timing().retry());
        }
        if (step.changed()) {
            log.info(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + " " + (step.up() ? "up" : "down")
                    + describeStep(t, step.up()) + ": " + result);
            update(t.server, t.spec.keyword() + ": " + result);
        }
        schedule(t, step.nextDelayNanos());
    }

    private static String describeStep(Target t, boolean up) {
        CheckTiming timing = t.spec.timing();
        if (up) {
            return timing.rise() > 1 ? " after " + timing.rise() + " passed checks" : "";
        }
        int attempts = timing.retry() + 1;
        return " after " + (timing.fall() > 1 ? timing.fall() + " failed checks of " : "") + attempts + " attempt"
                + (attempts == 1 ? "" : "s");
    }

    /** Counts a plugin error; true when it disabled the plugin. */
    private boolean countPluginError(String pluginId) {
        PluginStats p = plugins.computeIfAbsent(pluginId, k -> new PluginStats());
        p.errors++;
        long now = scheduler.nanoTime();
        p.recent.addLast(now);
        long window = limits.window().toNanos();
        while (!p.recent.isEmpty() && now - p.recent.peekFirst() > window) {
            p.recent.pollFirst();
        }
        if (p.disabled || p.recent.size() <= limits.pluginErrorLimit()) {
            return false;
        }
        disable(pluginId, p, p.recent.size() + " plugin errors within " + limits.window().toSeconds() + " s (limit "
                + limits.pluginErrorLimit() + ")", false);
        return true;
    }

    private void disable(String pluginId, PluginStats p, String reason, boolean permanent) {
        p.disabled = true;
        p.permanent = permanent;
        p.reason = reason;
        List<Target> affected = targets.values().stream().filter(t -> t.spec.pluginId().equals(pluginId)).toList();
        Map<String, Server> touched = new LinkedHashMap<>();
        int up = 0;
        for (Target t : affected) {
            stop(t);
            t.stopped = false;
            t.frozen = true;
            t.state.force(t.lastGenuineUp);
            up += t.lastGenuineUp ? 1 : 0;
            if (t.server != null) {
                touched.put(t.server.name, t.server);
            }
        }
        log.log(Log.Level.ERROR, SUBJECT, "plugin " + pluginId + " DISABLED: " + p.reason + ". Its " + affected.size()
                + " checker" + (affected.size() == 1 ? "" : "s") + " stop probing and keep the state of their last genuine"
                + " result (" + up + " up, " + (affected.size() - up) + " down); the real servers are no longer checked by it."
                + (permanent ? " Its probes are dropped; it stays disabled until the daemon restarts."
                        : " A reload enables it again; a fixed plugin needs a restart."));
        publishDisabled();
        for (Server s : touched.values()) {
            update(s, "plugin " + pluginId + " disabled: its checkers keep their last known state");
        }
    }

    private void publishDisabled() {
        Map<String, String> d = new TreeMap<>();
        plugins.forEach((id, p) -> {
            if (p.disabled) {
                d.put(id, p.reason);
            }
        });
        disabled = Map.copyOf(d);
    }

    /** Pushes the server's state if the checkers changed it. */
    private void update(Server s, String reason) {
        if (s == null) {
            return;
        }
        boolean now = s.aggregate();
        if (now == s.pushed) {
            return;
        }
        s.pushed = now;
        String why = reason;
        if (!now) {
            for (Target t : s.targets) {
                if (!t.state.up() && t.last != null) {
                    why = t.spec.keyword() + ": " + t.last;
                    break;
                }
            }
        } else if (s.targets.size() > 1) {
            why = "all " + s.targets.size() + " checkers up (" + reason + ")";
        }
        sink.changed(s.name, now, why);
    }

    /** The probe of {@code t} is over (result, timeout, stop): its slot goes to the longest waiting target. */
    private void endFlight(Target t) {
        if (t.inFlight == 0) {
            return;
        }
        t.inFlight = 0;
        inFlightCount--;
        while (!waiting.isEmpty() && inFlightCount < limits.maxInFlight()) {
            Target next = waiting.pollFirst();
            next.waiting = false;
            if (!next.stopped && !next.frozen && next.inFlight == 0 && !next.timerArmed) {
                // Launched from a task of its own: this target's result is handled first.
                next.timerArmed = true;
                next.timer.armAt(scheduler.nanoTime());
                break;
            }
        }
    }

    private void stop(Target t) {
        t.stopped = true;
        endFlight(t);
        t.waiting = false;
        if (t.timerArmed) {
            t.timer.cancel();
            t.timerArmed = false;
        }
        unwatch(t);
        if (t.launcher != null) {
            try {
                t.launcher.close();
            } catch (RuntimeException e) {
                log.warn(SUBJECT, t.spec.realServer() + ": " + t.spec.keyword() + ": closing the probe: " + ProbeFailure.describe(e));
            }
            t.launcher = null;
        }
    }

    private Map<String, Object> doStatus() {
        long now = scheduler.nanoTime();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("probes", probeCount);
        out.put("passes", passCount);
        out.put("failures", failureCount);
        out.put("pluginErrors", pluginErrorCount);
        out.put("lateResults", lateCount);
        out.put("noVerdicts", noVerdictCount);
        out.put("hostLateNoVerdicts", hostLateCount);
        out.put("probesInFlight", inFlightCount);
        out.put("probesWaited", waitedCount);
        out.put("probesWaiting", waiting.size());
        out.put("rescuedProbes", rescued);
        Map<String, Object> ps = new TreeMap<>();
        plugins.forEach((id, p) -> {
            long window = limits.window().toNanos();
            long recent = p.recent.stream().filter(at -> now - at <= window).count();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pluginErrors", p.errors);
            m.put("pluginErrorsInWindow", recent);
            m.put("disabled", p.disabled);
            m.put("disabledUntilRestart", p.permanent);
            m.put("reason", p.reason);
            ps.put(id, m);
        });
        out.put("plugins", ps);
        Map<String, Object> rs = new LinkedHashMap<>();
        for (Server s : servers.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("state", s.aggregate() ? "UP" : "DOWN");
            m.put("checkers", targets(s.targets, now));
            rs.put(s.name, m);
        }
        out.put("realServers", rs);
        return out;
    }

    private List<Object> targets(Collection<Target> list, long now) {
        List<Object> out = new ArrayList<>();
        for (Target t : list) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("checker", t.spec.keyword());
            m.put("plugin", t.spec.pluginId());
            m.put("location", t.spec.location());
            var a = t.spec.target().address();
            String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            m.put("target", (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
            m.put("state", t.state.up() ? "UP" : "DOWN");
            m.put("disabled", t.frozen);
            m.put("probes", t.probes);
            m.put("passes", t.passes);
            m.put("failures", t.failures);
            m.put("pluginErrors", t.pluginErrors);
            m.put("lateResults", t.late);
            m.put("noVerdicts", t.noVerdict);
            m.put("hostLateNoVerdicts", t.hostLate);
            m.put("retries", t.state.retries());
            m.put("consecutivePasses", t.state.passes());
            m.put("consecutiveFailures", t.state.failures());
            m.put("lastResult", t.last == null ? null : t.last.toString());
            m.put("lastStatus", t.last == null ? null : t.last.status().name());
            m.put("lastResultAgoMs", t.last == null ? null : (now - t.lastAt) / 1_000_000);
            out.add(m);
        }
        return out;
    }
}
