package dev.vigil.daemon.forward;

import dev.vigil.config.model.ForwarderBackend;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.ApplyReport;
import dev.vigil.kernel.forward.DesiredState;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the forwarder's rules equal to what the configuration and the real servers' health ask
 * for. It holds the health set (which real servers are down), maps it with the
 * {@link ServiceMapper} to the complete desired state and hands that to the {@link Backend}'s
 * forwarder, which changes only the difference (and nothing when nothing differs: a restarted
 * daemon adopts the rules the previous one left).
 *
 * <p>Everything runs on one thread of its own, {@code vigil-forwarder}: the configuration, health
 * changes (from the {@code vigil real-server} command now, from health checkers later), the
 * statistics for {@code vigil services} and the shutdown are queued to it, so the VRRP engine
 * never waits for the kernel's forwarding tables. A failed apply is logged with its reason,
 * counted, and retried every {@link #RETRY} until one succeeds; it never stops the daemon.
 *
 * <p>keepalived's semantics: a real server starts up unless {@code alpha} (on it, its virtual
 * server or a checker) makes it wait for a check or the command; {@code notify_up}/{@code notify_down}
 * run when a real server changes state and {@code quorum_up}/{@code quorum_down} when a virtual
 * server gains or loses its quorum (both without arguments). At shutdown the services are removed
 * (keepalived's default) unless the daemon runs with {@code --dont-release-ipvs}; with {@code omega}
 * the removal runs {@code notify_down} of the live real servers and {@code quorum_down}.
 */
public final class ServiceManager implements AutoCloseable {

    /** Delay before a failed apply is tried again. */
    public static final Duration RETRY = Duration.ofSeconds(5);

    private static final String SUBJECT = "forwarder";

    /** Runs an LVS notify command (no arguments are appended); returns at once. */
    @FunctionalInterface
    public interface Notifier {
        /**
         * @param subject  the real or virtual server, for the log
         * @param event    {@code UP}, {@code DOWN}, {@code QUORUM_UP} or {@code QUORUM_DOWN}
         * @param command  the configured command line
         * @param stopping whether the daemon is shutting down (keepalived gives such scripts one second)
         */
        void run(String subject, String event, String command, boolean stopping);
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

    // Confined to the executor thread.
    private Backend backend;
    private ForwarderBackend wanted = ForwarderBackend.AUTO;
    private List<VirtualServer> servers = List.of();
    private List<VirtualServerGroup> groups = List.of();
    private Map<String, Member> members = new LinkedHashMap<>();
    private Map<String, Boolean> alive = new LinkedHashMap<>();
    private Map<String, Boolean> quorum = Map.of();
    private Set<String> reported = Set.of();
    private ScheduledFuture<?> retry;
    private boolean adopted;
    private String lastError;
    private int leftOut;

    private volatile Map<String, Object> snapshot = Map.of("backend", "none");

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
        return submit(() -> doSetState(selector, up));
    }

    /** The table as {@code ipvsadm -Ln} (or {@code --stats}) prints it, read from the backend now. */
    public CompletableFuture<String> services(boolean stats) {
        return submit(() -> {
            if (backend == null) {
                return IpvsadmFormat.render("none", DesiredState.EMPTY,
                        stats ? new ForwarderStats(new TreeMap<>()) : null, false);
            }
            return IpvsadmFormat.render(backend.name(), backend.forwarder().current(),
                    stats ? backend.forwarder().stats() : null, backend.traffic());
        });
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
        servers = config.virtualServers();
        groups = config.virtualServerGroups();
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
        members = nextMembers;
        alive = nextAlive;
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
        }
        reconcile("configuration");
    }

    private StateResult doSetState(RealServerSelector selector, boolean up) {
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
                log.info(SUBJECT, "real server " + e.getKey() + " " + (up ? "up" : "down") + " (set from outside)");
                String command = up ? m.real().notifyUp() : m.real().notifyDown();
                if (command != null) {
                    notifier.run(e.getKey(), up ? "UP" : "DOWN", command, false);
                }
            }
        }
        if (changes.isEmpty() || changes.stream().allMatch(c -> c.wasUp() == c.up())) {
            publish();
            return new StateResult(changes, backend != null && lastError == null, lastError);
        }
        boolean ok = reconcile("real server state");
        return new StateResult(changes, ok, ok ? null : lastError);
    }

    /** Maps and applies; true when the forwarder took the state. */
    private boolean reconcile(String why) {
        if (backend == null) {
            publish();
            return false;
        }
        ServiceMapper.Result r = mapper.map(servers, groups, down());
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
            if (vs.sorryServer() != null && vs.quorumDown() != null) {
                notifier.run(name, "QUORUM_DOWN", vs.quorumDown(), false);
            }
            return;
        }
        if (c.up()) {
            log.info(SUBJECT, name + " gained its quorum: live weight " + c.liveWeight() + " >= " + up);
            if (vs.quorumUp() != null) {
                notifier.run(name, "QUORUM_UP", vs.quorumUp(), false);
            }
        } else {
            log.warn(SUBJECT, name + " lost its quorum: live weight " + c.liveWeight() + " < " + Math.max(down, 1)
                    + (vs.sorryServer() != null ? "; the sorry server " + vs.sorryServer() + " replaces the real servers" : ""));
            if (vs.quorumDown() != null) {
                notifier.run(name, "QUORUM_DOWN", vs.quorumDown(), false);
            }
        }
    }

    private void doStop(boolean release) {
        if (retry != null) {
            retry.cancel(false);
        }
        if (backend == null) {
            return;
        }
        if (release) {
            for (VirtualServer vs : servers) {
                if (!vs.omega()) {
                    continue;
                }
                for (RealServer rs : vs.realServers()) {
                    String name = ServiceMapper.realServerName(vs, rs);
                    if (Boolean.TRUE.equals(alive.get(name)) && rs.notifyDown() != null) {
                        notifier.run(name, "DOWN", rs.notifyDown(), true);
                    }
                }
                if (vs.quorumDown() != null) {
                    notifier.run(ServiceMapper.virtualName(vs), "QUORUM_DOWN", vs.quorumDown(), true);
                }
            }
            try {
                ApplyReport report = backend.forwarder().apply(DesiredState.EMPTY);
                log.info(SUBJECT, "shutdown: removed " + report.operations().size() + " service"
                        + (report.operations().size() == 1 ? "" : "s"));
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
        snapshot = Collections.unmodifiableMap(s);
    }
}
