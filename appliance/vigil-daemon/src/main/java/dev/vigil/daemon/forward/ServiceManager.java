package dev.vigil.daemon.forward;

import dev.vigil.dsl.RealServerView;
import dev.vigil.dsl.ServiceView;
import dev.vigil.config.model.ForwarderBackend;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.LvsFlushOnStop;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.event.LvsNotice;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.ApplyReport;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Forwarder;
import dev.vigil.kernel.forward.ForwarderStats;
import dev.vigil.kernel.forward.ForwardingOp;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the forwarder's rules equal to what the configuration and the real servers' health ask
 * for. It holds the health set (which real servers are down), maps it with the
 * {@link ServiceMapper} to the complete desired state and hands that to the {@link Backend}'s
 * forwarder, which changes only the difference (and nothing when nothing differs: a restarted
 * daemon adopts the rules the previous one left).
 *
 * <p>Everything runs on one thread of its own, {@code vigil-forwarder}: the configuration, health
 * changes (from the health-check engine and the {@code vigil real-server} command), the
 * statistics for {@code vigil services} and the shutdown are queued to it, so the VRRP engine
 * never waits for the kernel's forwarding tables. A failed apply is logged with its reason,
 * counted, and retried every {@link #RETRY} until one succeeds; it never stops the daemon.
 *
 * <p>keepalived's semantics: a real server starts up unless {@code alpha} (on it, its virtual
 * server or a checker) makes it wait for a check or the command; {@code notify_up}/{@code notify_down}
 * run when a real server changes state and {@code quorum_up}/{@code quorum_down} when a virtual
 * server gains or loses its quorum (both without arguments), and each such event also writes its
 * line to the LVS notify FIFOs ({@link LvsFifoLines}), script or not. With {@code lvs_flush} the
 * backend's table is flushed when it opens at start, before anything is applied (IPVS: the whole
 * table, other tools' services included; nftables: Vigil's own rules, as it has no shared table).
 * At shutdown the services are removed (keepalived's default) unless the daemon runs with
 * {@code --dont-release-ipvs}, with {@code omega} running {@code notify_down} of the live real
 * servers and the virtual server's quorum-down notification. With {@code lvs_flush_on_stop} the
 * table is flushed instead, and with {@code lvs_flush_on_stop VS} the same services are removed;
 * both leave out the real servers' notifications, which keepalived tells only when it removes real
 * servers one by one ({@link LvsFlushOnStop}).
 *
 * <p>A checker may set a real server's weight ({@code MISC_CHECK} with {@code misc_dynamic},
 * through {@link #setWeight}): the set weight replaces the configured one in the forwarder and in
 * the quorum's live weight, up or down, without notifications (keepalived's ipwrapper.c
 * {@code update_svr_wgt}). It holds until a checker sets another, and across reloads unless the
 * reload changes that real server's configured {@code weight}, which then takes over (keepalived's
 * {@code init_service_rs} on reload); a real server that leaves the configuration loses it.
 *
 * <p><b>Bursts.</b> Each {@link #setState} takes its change at once, in order (state, log line,
 * {@code notify_up}/{@code notify_down}, FIFO line), but the desired state is built and applied
 * once for the changes queued behind each other: the apply waits while more state changes are
 * queued on the thread, up to {@value #BATCH_MAX} changes or {@value #BATCH_WAIT_MS} ms, and any
 * other task (a configuration, a weight, a read of the table, the shutdown) applies what was
 * taken first. A health checker that fails thousands of real servers within a second (a switch
 * gone) then costs a few applies rather than one per server. Each caller's future completes
 * after the apply that carried its change, with that apply's outcome. The quorum is judged at each
 * apply: a virtual server that lost and regained it within one batch tells neither.
 */
public final class ServiceManager implements AutoCloseable {

    /** Delay before a failed apply is tried again. */
    public static final Duration RETRY = Duration.ofSeconds(5);

    private static final String SUBJECT = "forwarder";

    /** Tells an LVS event: writes its FIFO line and runs its notify command (no arguments appended); returns at once. */
    @FunctionalInterface
    public interface Notifier {
        /**
         * @param subject  the real or virtual server, for the log
         * @param event    {@code UP}, {@code DOWN}, {@code QUORUM_UP} or {@code QUORUM_DOWN}
         * @param command  the configured command line, or {@code null} when none is configured
         * @param fifoLine the line for {@code notify_fifo} and {@code lvs_notify_fifo}, newline included
         * @param stopping whether the daemon is shutting down (keepalived gives such scripts one second)
         */
        void run(String subject, String event, String command, String fifoLine, boolean stopping);

        /**
         * A real server went up or down: by default only keepalived's notification ({@link #run});
         * the daemon publishes the event, with the notification, on its event bus.
         *
         * @param virtualServer the virtual server's name ({@link ServiceMapper#virtualName})
         * @param realServer    the real server's address ({@link ServiceMapper#realServerAddress})
         * @param reason        the checker's result or the command that set it
         */
        default void realServer(String virtualServer, String realServer, boolean up, String reason, LvsNotice notice) {
            run(notice.subject(), notice.event(), notice.command(), notice.fifoLine(), notice.stopping());
        }

        /**
         * A virtual server gained or lost its quorum: by default only keepalived's notification.
         *
         * @param from    {@code UP}, {@code DOWN}, or {@code START} when it starts without its quorum
         * @param healthy the live weight
         * @param quorum  the weight it had to reach ({@code quorum + hysteresis}) or fell below
         *                ({@code quorum - hysteresis})
         */
        default void quorum(String virtualServer, String from, boolean up, long healthy, long quorum, LvsNotice notice) {
            run(notice.subject(), notice.event(), notice.command(), notice.fifoLine(), notice.stopping());
        }
    }

    /** Opens the forwarder the configuration asks for. */
    @FunctionalInterface
    public interface Opener {
        Backend open(ForwarderBackend wanted) throws KernelException;
    }

    /**
     * A real server whose state a command changed.
     *
     * @param name  its {@link ServiceMapper#realServerName} name
     * @param wasUp its state before
     * @param up    its state now
     */
    public record Change(String name, boolean wasUp, boolean up) {
    }

    /** The outcome of {@link #setState}: the real servers named, and whether the forwarder took the new state. */
    public record StateResult(List<Change> changes, boolean applied, String error) {
        public StateResult {
            changes = List.copyOf(changes);
        }
    }

    /**
     * A real server whose weight a checker set.
     *
     * @param name the real server's {@link ServiceMapper#realServerName} name
     * @param was  its weight before (the configured one, or the one set last)
     * @param now  its weight now
     */
    public record WeightChange(String name, int was, int now) {
    }

    /** The outcome of {@link #setWeight}: the real servers named, and whether the forwarder took the new weights. */
    public record WeightResult(List<WeightChange> changes, boolean applied, String error) {
        public WeightResult {
            changes = List.copyOf(changes);
        }
    }

    private record Member(VirtualServer server, RealServer real) {
    }

    private final Opener opener;
    private final EventLog log;
    private final Notifier notifier;
    private final Duration retryDelay;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("vigil-forwarder").factory());
    private final ServiceMapper mapper = new ServiceMapper();
    private final AtomicLong applies = new AtomicLong();
    private final AtomicLong operations = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    /** State changes submitted and not yet taken by the thread. */
    private final AtomicInteger queuedStates = new AtomicInteger();

    /** The most state changes taken before they are applied. */
    static final int BATCH_MAX = 1000;
    /** The longest a taken state change waits for its apply, in ms. */
    static final long BATCH_WAIT_MS = 100;

    /** A state change taken and not applied yet, with its caller's future. */
    private record Pending(CompletableFuture<StateResult> future, List<Change> changes) {
    }

    // Confined to the executor thread.
    private Backend backend;
    private ForwarderBackend wanted = ForwarderBackend.AUTO;
    private List<VirtualServer> servers = List.of();
    private List<VirtualServerGroup> groups = List.of();
    private Map<String, Member> members = new LinkedHashMap<>();
    private Map<String, Boolean> alive = new LinkedHashMap<>();
    private Map<String, Integer> weights = new HashMap<>();
    private Map<String, Boolean> quorum = Map.of();
    private final List<Pending> pending = new ArrayList<>();
    private long pendingSince;
    private Set<String> reported = Set.of();
    private ScheduledFuture<?> retry;
    private boolean adopted;
    private boolean configured;
    private LvsFlushOnStop flushOnStop = LvsFlushOnStop.NONE;
    private String lastError;
    private int leftOut;

    private volatile Map<String, Object> snapshot = Map.of("backend", "none");
    private volatile List<ServiceView> views = List.of();

    /**
     * @param opener   opens the backend when the first virtual server appears
     * @param log      where every change, problem and failure is told
     * @param notifier runs {@code notify_up/down} and {@code quorum_up/down}
     */
    public ServiceManager(Opener opener, EventLog log, Notifier notifier) {
        this(opener, log, notifier, RETRY);
    }

    ServiceManager(Opener opener, EventLog log, Notifier notifier, Duration retryDelay) {
        this.opener = Objects.requireNonNull(opener, "opener");
        this.log = Objects.requireNonNull(log, "log");
        this.notifier = Objects.requireNonNull(notifier, "notifier");
        this.retryDelay = Objects.requireNonNull(retryDelay, "retryDelay");
    }

    /**
     * Takes a configuration (at start and on each reload) and applies it. Real servers keep their
     * state across a reload; new ones start per {@code alpha}. The backend is opened with the first
     * virtual server and kept until shutdown.
     */
    public CompletableFuture<Void> configure(KeepalivedConfig config) {
        return submit(() -> {
            doConfigure(config);
            return null;
        });
    }

    /**
     * Sets the state of the real servers {@code selector} names, runs their {@code notify_up} or
     * {@code notify_down}, and applies the result. Completes with no changes when nothing matches.
     */
    public CompletableFuture<StateResult> setState(RealServerSelector selector, boolean up) {
        return setState(selector, up, "set from outside");
    }

    /** {@link #setState(RealServerSelector, boolean)}, logging {@code cause} (a health check's result) as the reason. */
    public CompletableFuture<StateResult> setState(RealServerSelector selector, boolean up, String cause) {
        CompletableFuture<StateResult> f = new CompletableFuture<>();
        queuedStates.incrementAndGet();
        try {
            executor.execute(() -> {
                queuedStates.decrementAndGet();
                try {
                    takeState(f, selector, up, cause);
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
                if (!pending.isEmpty() && (queuedStates.get() == 0 || pending.size() >= BATCH_MAX
                        || System.nanoTime() - pendingSince >= TimeUnit.MILLISECONDS.toNanos(BATCH_WAIT_MS))) {
                    applyPending();
                }
            });
        } catch (RuntimeException e) {
            queuedStates.decrementAndGet();
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Sets the weight of the real servers {@code selector} names, in place of their configured
     * {@code weight}, and applies the result; {@code cause} (the checker's result) is logged as the
     * reason. Their state and notifications are unchanged; a real server that is down takes the
     * weight when it comes back. Completes with no changes when nothing matches.
     *
     * @throws IllegalArgumentException if {@code weight} is negative
     */
    public CompletableFuture<WeightResult> setWeight(RealServerSelector selector, int weight, String cause) {
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
        return submit(() -> doSetWeight(selector, weight, cause));
    }

    /**
     * The table as {@code ipvsadm -Ln} (or {@code -Ln --stats}) prints it, read from the backend now:
     * the services, and their counters (for the connection gauges of the plain layout too).
     */
    public CompletableFuture<String> services(boolean stats) {
        return submit(() -> {
            if (backend == null) {
                return IpvsadmFormat.render("none", DesiredState.EMPTY, new ForwarderStats(new TreeMap<>()), stats, false);
            }
            Forwarder f = backend.forwarder();
            return IpvsadmFormat.render(backend.name(), f.current(), f.stats(), stats, backend.traffic());
        });
    }

    /** The virtual servers as policies read them, as of the last apply; never waits for the forwarder thread. */
    public List<ServiceView> views() {
        return views;
    }

    /**
     * The virtual servers as policies read them, read on the forwarder thread after what it has taken
     * so far: every real-server event published before this call is reflected (a change is
     * published as it is taken, before the batched apply that updates {@link #views()}).
     */
    public CompletableFuture<List<ServiceView>> currentViews() {
        return submit(this::buildViews);
    }

    /** The state for the status API; never waits for the forwarder thread. */
    public Map<String, Object> status() {
        return snapshot;
    }

    /**
     * Stops: with {@code release}, runs the {@code omega} notifications and removes every service
     * this forwarder owns; without, leaves the rules for the next start to adopt. Then closes the
     * backend. Waits up to {@code limit}.
     */
    public void stop(boolean release, Duration limit) {
        try {
            submit(() -> {
                doStop(release);
                return null;
            }).get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.log(Log.Level.ERROR, SUBJECT, "shutdown incomplete: " + e.getMessage());
        }
        close();
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private <T> CompletableFuture<T> submit(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    applyPending();
                    f.complete(task.call());
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    // ------------------------------------------------------------------ on the forwarder thread

    private void doConfigure(KeepalivedConfig config) {
        // keepalived flushes at its first start only, never at a reload.
        boolean starting = !configured;
        configured = true;
        servers = config.virtualServers();
        groups = config.virtualServerGroups();
        flushOnStop = config.globalDefs().lvsFlushOnStop();
        ForwarderBackend next = config.globalDefs().vigilForwarder();
        if (backend != null && next != wanted) {
            log.warn(SUBJECT, "vigil_forwarder changed to " + next.name().toLowerCase(Locale.ROOT)
                    + "; the " + backend.name() + " backend stays until the next start");
        }
        wanted = next;
        Map<String, Member> nextMembers = new LinkedHashMap<>();
        Map<String, Boolean> nextAlive = new LinkedHashMap<>();
        for (VirtualServer vs : servers) {
            for (RealServer rs : vs.realServers()) {
                String name = ServiceMapper.realServerName(vs, rs);
                if (nextMembers.putIfAbsent(name, new Member(vs, rs)) == null) {
                    Boolean was = alive.get(name);
                    boolean up = was != null ? was : !ServiceMapper.startsDown(rs);
                    nextAlive.put(name, up);
                    if (was == null && !up) {
                        log.info(SUBJECT, "real server " + name + " starts down (alpha): waiting for a check or vigil real-server");
                    }
                }
            }
        }
        Map<String, Integer> nextWeights = new HashMap<>();
        weights.forEach((name, w) -> {
            Member was = members.get(name);
            Member now = nextMembers.get(name);
            if (now == null || was == null) {
                return;
            }
            if (now.real().weight() == was.real().weight()) {
                nextWeights.put(name, w);
            } else {
                log.info(SUBJECT, "real server " + name + ": configured weight " + was.real().weight() + " -> "
                        + now.real().weight() + " replaces the weight " + w + " its checker set");
            }
        });
        members = nextMembers;
        alive = nextAlive;
        weights = nextWeights;
        if (backend == null && !servers.isEmpty()) {
            try {
                backend = opener.open(wanted);
                log.info(SUBJECT, "backend " + backend.name() + " (" + backend.reason() + ")");
            } catch (KernelException | RuntimeException | LinkageError e) {
                failures.incrementAndGet();
                lastError = "cannot open the " + wanted.name().toLowerCase(Locale.ROOT) + " forwarder: " + e.getMessage();
                log.log(Log.Level.ERROR, SUBJECT, lastError + "; the virtual servers are not in force");
                publish();
                return;
            }
            if (starting && config.globalDefs().lvsFlush()) {
                flushAtStart();
            }
        }
        reconcile("configuration");
    }

    /** {@code lvs_flush}: the operator's choice to start from an empty table, whatever it held. */
    private void flushAtStart() {
        try {
            Forwarder.FlushScope scope = backend.forwarder().flush();
            log.info(SUBJECT, scope == Forwarder.FlushScope.EVERYTHING
                    ? "lvs_flush: flushed the whole " + backend.name() + " table, services of other tools included"
                    : "lvs_flush: the " + backend.name() + " backend has no table shared with other tools;"
                            + " flushed Vigil's own rules only");
        } catch (KernelException | RuntimeException e) {
            failures.incrementAndGet();
            log.log(Log.Level.ERROR, SUBJECT, "lvs_flush failed: " + e.getMessage()
                    + "; applying over what the table holds");
        }
    }

    /**
     * Takes one state change: a change that needs an apply joins the pending ones and its future
     * waits for {@link #applyPending}; one that changes nothing completes at once.
     */
    private void takeState(CompletableFuture<StateResult> f, RealServerSelector selector, boolean up, String cause) {
        Map<String, VirtualServerGroup> byName = new HashMap<>();
        groups.forEach(g -> byName.put(g.name(), g));
        List<Change> changes = new ArrayList<>();
        for (Map.Entry<String, Member> e : members.entrySet()) {
            Member m = e.getValue();
            if (!selector.matches(m.server(), m.real(), byName)) {
                continue;
            }
            boolean was = alive.get(e.getKey());
            changes.add(new Change(e.getKey(), was, up));
            if (was != up) {
                alive.put(e.getKey(), up);
                log.info(SUBJECT, "real server " + e.getKey() + " " + (up ? "up" : "down") + " (" + cause + ")");
                realServerNotify(m.server(), m.real(), up, false, cause);
            }
        }
        if (changes.isEmpty() || changes.stream().allMatch(c -> c.wasUp() == c.up())) {
            publish();
            f.complete(new StateResult(changes, backend != null && lastError == null, lastError));
            return;
        }
        if (pending.isEmpty()) {
            pendingSince = System.nanoTime();
        }
        pending.add(new Pending(f, changes));
    }

    /** Applies the state changes taken since the last apply, once, and completes their futures. */
    private void applyPending() {
        if (pending.isEmpty()) {
            return;
        }
        int n = pending.size();
        boolean ok = reconcile(n == 1 ? "real server state" : n + " real server states");
        for (Pending p : pending) {
            p.future().complete(new StateResult(p.changes(), ok, ok ? null : lastError));
        }
        pending.clear();
    }

    private WeightResult doSetWeight(RealServerSelector selector, int weight, String cause) {
        Map<String, VirtualServerGroup> byName = new HashMap<>();
        groups.forEach(g -> byName.put(g.name(), g));
        List<WeightChange> changes = new ArrayList<>();
        boolean changed = false;
        for (Map.Entry<String, Member> e : members.entrySet()) {
            Member m = e.getValue();
            if (!selector.matches(m.server(), m.real(), byName)) {
                continue;
            }
            int was = weights.getOrDefault(e.getKey(), m.real().weight());
            changes.add(new WeightChange(e.getKey(), was, weight));
            if (was != weight) {
                changed = true;
                log.info(SUBJECT, "real server " + e.getKey() + " weight " + was + " -> " + weight + " ("
                        + (Boolean.TRUE.equals(alive.get(e.getKey())) ? "up" : "down, taken when it comes back")
                        + "; " + cause + ")");
            }
            if (weight == m.real().weight()) {
                weights.remove(e.getKey());
            } else {
                weights.put(e.getKey(), weight);
            }
        }
        if (!changed) {
            publish();
            return new WeightResult(changes, backend != null && lastError == null, lastError);
        }
        boolean ok = reconcile("real server weight");
        return new WeightResult(changes, ok, ok ? null : lastError);
    }

    /** Maps and applies; true when the forwarder took the state. */
    private boolean reconcile(String why) {
        if (backend == null) {
            publish();
            return false;
        }
        ServiceMapper.Result r = mapper.map(servers, groups, down(), weights);
        quorum = r.quorum();
        Set<String> problems = new LinkedHashSet<>(r.problems());
        java.util.SortedMap<ServiceKey, VirtualService> kept = new TreeMap<>();
        int excluded = 0;
        for (VirtualService vs : r.desired().services().values()) {
            String limit = backend.limits().apply(vs);
            if (limit != null) {
                problems.add("service " + vs.key() + ": " + limit + " is not supported by the " + backend.name()
                        + " forwarder; the service is left out");
                excluded++;
            } else {
                kept.put(vs.key(), vs);
            }
        }
        leftOut = excluded;
        for (String p : problems) {
            if (!reported.contains(p)) {
                log.log(Log.Level.ERROR, SUBJECT, p);
            }
        }
        reported = problems;
        boolean ok;
        try {
            ApplyReport report = backend.forwarder().apply(new DesiredState(kept));
            applies.incrementAndGet();
            operations.addAndGet(report.operations().size());
            if (report.changed()) {
                log.info(SUBJECT, "applied " + summary(report.operations()) + " (" + why + ")");
            } else if (!adopted) {
                log.info(SUBJECT, kept.size() + " service" + (kept.size() == 1 ? "" : "s")
                        + " already in place, adopted unchanged");
            }
            adopted = true;
            if (lastError != null) {
                log.info(SUBJECT, "apply succeeded again");
            }
            lastError = null;
            if (retry != null) {
                retry.cancel(false);
                retry = null;
            }
            ok = true;
        } catch (KernelException | RuntimeException e) {
            failures.incrementAndGet();
            lastError = e.getMessage();
            log.log(Log.Level.ERROR, SUBJECT, "apply failed (" + why + "): " + e.getMessage()
                    + "; retrying in " + retryDelay.toMillis() + " ms");
            if (retry == null || retry.isDone()) {
                retry = executor.schedule(() -> {
                    retry = null;
                    reconcile("retry");
                }, retryDelay.toMillis(), TimeUnit.MILLISECONDS);
            }
            ok = false;
        }
        for (ServiceMapper.QuorumChange c : r.quorumChanges()) {
            quorumChanged(c);
        }
        publish();
        return ok;
    }

    /** keepalived's quorum notifications (ipwrapper.c update_quorum_state): gained, lost, or starting down with a sorry server. */
    private void quorumChanged(ServiceMapper.QuorumChange c) {
        VirtualServer vs = c.server();
        String name = ServiceMapper.virtualName(vs);
        long up = (long) vs.quorum() + vs.hysteresis();
        long down = (long) vs.quorum() - vs.hysteresis();
        if (c.initial()) {
            if (c.up()) {
                return;
            }
            log.info(SUBJECT, name + " starts without its quorum: live weight " + c.liveWeight() + " < " + up
                    + (vs.sorryServer() != null ? "; the sorry server " + vs.sorryServer() + " serves" : ""));
            // keepalived tells a start without quorum only when it brings the sorry server in.
            if (vs.sorryServer() != null) {
                virtualServerNotify(vs, "START", false, c.liveWeight(), up, false);
            }
            return;
        }
        if (c.up()) {
            log.info(SUBJECT, name + " gained its quorum: live weight " + c.liveWeight() + " >= " + up);
        } else {
            log.warn(SUBJECT, name + " lost its quorum: live weight " + c.liveWeight() + " < " + Math.max(down, 1)
                    + (vs.sorryServer() != null ? "; the sorry server " + vs.sorryServer() + " replaces the real servers" : ""));
        }
        virtualServerNotify(vs, c.up() ? "DOWN" : "UP", c.up(), c.liveWeight(), c.up() ? up : Math.max(down, 1), false);
    }

    /** A real server's {@code notify_up}/{@code notify_down} (when configured) and FIFO line. */
    private void realServerNotify(VirtualServer vs, RealServer rs, boolean up, boolean stopping, String reason) {
        Map<String, VirtualServerGroup> byName = new HashMap<>();
        groups.forEach(g -> byName.put(g.name(), g));
        LvsNotice notice = new LvsNotice(ServiceMapper.realServerName(vs, rs), up ? "UP" : "DOWN",
                up ? rs.notifyUp() : rs.notifyDown(), LvsFifoLines.realServer(vs, rs, servers, byName, up), stopping);
        notifier.realServer(ServiceMapper.virtualName(vs), ServiceMapper.realServerAddress(vs, rs), up, reason, notice);
    }

    /** A virtual server's {@code quorum_up}/{@code quorum_down} (when configured) and FIFO line. */
    private void virtualServerNotify(VirtualServer vs, String from, boolean up, long healthy, long quorum,
                                     boolean stopping) {
        LvsNotice notice = new LvsNotice(ServiceMapper.virtualName(vs), up ? "QUORUM_UP" : "QUORUM_DOWN",
                up ? vs.quorumUp() : vs.quorumDown(), LvsFifoLines.virtualServer(vs, servers, up), stopping);
        notifier.quorum(ServiceMapper.virtualName(vs), from, up, healthy, quorum, notice);
    }

    private void doStop(boolean release) {
        if (retry != null) {
            retry.cancel(false);
        }
        if (backend == null) {
            return;
        }
        if (release) {
            // keepalived (ipwrapper.c clear_services): the real servers' notifications come only with its
            // one-by-one removal (no lvs_flush_on_stop); the virtual server's always; both only with omega.
            for (VirtualServer vs : servers) {
                if (!vs.omega()) {
                    continue;
                }
                if (flushOnStop == LvsFlushOnStop.NONE) {
                    for (RealServer rs : vs.realServers()) {
                        if (Boolean.TRUE.equals(alive.get(ServiceMapper.realServerName(vs, rs)))) {
                            realServerNotify(vs, rs, false, true, "shutdown");
                        }
                    }
                }
                virtualServerNotify(vs, "UP", false, 0, vs.quorum(), true);
            }
            try {
                if (flushOnStop == LvsFlushOnStop.FULL) {
                    Forwarder.FlushScope scope = backend.forwarder().flush();
                    log.info(SUBJECT, "shutdown: lvs_flush_on_stop flushed " + (scope == Forwarder.FlushScope.EVERYTHING
                            ? "the whole " + backend.name() + " table, services of other tools included"
                            : "Vigil's own " + backend.name() + " rules (the backend has no table shared with other tools)"));
                } else {
                    // Removing a service takes its destinations with it, so without lvs_flush_on_stop and
                    // with lvs_flush_on_stop VS the kernel sees the same; only the notifications differ.
                    ApplyReport report = backend.forwarder().apply(DesiredState.EMPTY);
                    log.info(SUBJECT, "shutdown: removed " + report.operations().size() + " service"
                            + (report.operations().size() == 1 ? "" : "s")
                            + (flushOnStop == LvsFlushOnStop.VS ? " (lvs_flush_on_stop VS)" : ""));
                }
            } catch (KernelException | RuntimeException e) {
                failures.incrementAndGet();
                log.log(Log.Level.ERROR, SUBJECT, "shutdown: removing the services failed: " + e.getMessage());
            }
        } else {
            log.info(SUBJECT, "shutdown: the services stay in place for the next start to adopt (--dont-release-ipvs)");
        }
        backend.forwarder().close();
        backend = null;
        publish();
    }

    private Set<String> down() {
        Set<String> d = new HashSet<>();
        alive.forEach((name, up) -> {
            if (!up) {
                d.add(name);
            }
        });
        return d;
    }

    /** {@code 1 service added, 2 real servers added}: what an apply did, counted by kind. */
    static String summary(List<ForwardingOp> ops) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ForwardingOp op : ops) {
            String what = switch (op) {
                case ForwardingOp.AddService a -> "service;services;added";
                case ForwardingOp.UpdateService u -> "service;services;changed";
                case ForwardingOp.DeleteService d -> "service;services;removed";
                case ForwardingOp.AddDestination a -> "real server;real servers;added";
                case ForwardingOp.UpdateDestination u -> "real server;real servers;changed";
                case ForwardingOp.DeleteDestination d -> "real server;real servers;removed";
            };
            counts.merge(what, 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((what, n) -> {
            String[] w = what.split(";");
            parts.add(n + " " + (n == 1 ? w[0] : w[1]) + " " + w[2]);
        });
        return String.join(", ", parts);
    }

    private void publish() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("backend", backend == null ? "none" : backend.name());
        s.put("reason", backend == null ? null : backend.reason());
        s.put("applies", applies.get());
        s.put("operations", operations.get());
        s.put("applyFailures", failures.get());
        s.put("lastError", lastError);
        s.put("servicesLeftOut", leftOut);
        Map<String, Object> q = new TreeMap<>();
        quorum.forEach((name, up) -> q.put(name, up ? "UP" : "DOWN"));
        s.put("quorum", q);
        Map<String, Object> rs = new LinkedHashMap<>();
        alive.forEach((name, up) -> rs.put(name, up ? "UP" : "DOWN"));
        s.put("realServers", rs);
        s.put("checkerWeights", new TreeMap<>(weights));
        snapshot = Collections.unmodifiableMap(s);
        views = buildViews();
    }

    /** Each virtual server with its real servers' health and weights, for policies. */
    private List<ServiceView> buildViews() {
        List<ServiceView> out = new ArrayList<>(servers.size());
        for (VirtualServer vs : servers) {
            List<RealServerView> reals = new ArrayList<>(vs.realServers().size());
            for (RealServer rs : vs.realServers()) {
                String name = ServiceMapper.realServerName(vs, rs);
                boolean up = Boolean.TRUE.equals(alive.get(name));
                reals.add(new RealServerView(rs.address().getHostAddress(), ServiceMapper.port(vs, rs), up,
                        weights.getOrDefault(name, rs.weight()), rs.weight()));
            }
            out.add(new ServiceView(vs.address() == null ? null : vs.address().getHostAddress(),
                    vs.port() == null ? 0 : vs.port(), vs.protocol() == null ? "tcp" : vs.protocol(),
                    vs.fwmark() == null ? 0 : vs.fwmark(), vs.group(), reals,
                    !Boolean.FALSE.equals(quorum.get(ServiceMapper.virtualName(vs)))));
        }
        return List.copyOf(out);
    }
}
