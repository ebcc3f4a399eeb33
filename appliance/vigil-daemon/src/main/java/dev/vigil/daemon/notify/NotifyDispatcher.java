package dev.vigil.daemon.notify;

import dev.vigil.api.NotifierEvent;
import dev.vigil.config.model.GlobalDefs;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.NotifyFifo;
import dev.vigil.config.model.VrrpInstance;
import dev.vigil.config.model.VrrpSyncGroup;
import dev.vigil.daemon.event.LvsNotice;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.daemon.track.ScriptCommand;
import dev.vigil.daemon.track.ScriptProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tells the outside world about VRRP state changes the way keepalived does (KEEPALIVED.md §4): the
 * state's {@code notify_*} script of the instance or sync group run as configured, then the generic
 * {@code notify} with {@code INSTANCE|GROUP}, the name, the state and the priority appended (0 for
 * groups), and one line per change to {@code notify_fifo} and {@code vrrp_notify_fifo}
 * ({@code INSTANCE "VI_1" MASTER 100\n}). The forwarder's events ({@link #lvsEvent}) go to
 * {@code notify_fifo} and {@code lvs_notify_fifo}, never to {@code vrrp_notify_fifo}:
 * {@code notify_fifo} gets everything, in the order it happened.
 *
 * <p>The caller never waits: {@link #instanceChanged} and {@link #groupChanged} only queue work. Scripts
 * run on virtual threads, one lane per instance or group, and each run is waited for before the lane's
 * next one starts, so a MASTER script can never run after a later BACKUP script of the same instance
 * (keepalived forks them unordered, its most common notify complaint). A run that outlasts its timeout
 * is killed with its process group so that one hung script cannot hold its lane forever; {@code STOP}
 * scripts get one second, as keepalived gives them at shutdown. FIFO lines are written in call order on
 * the dispatcher's own FIFO thread. Scripts run as {@code script_user} when it is set.
 *
 * <p>The forwarder's events use the same lanes: {@link #lvsEvent} runs a real server's
 * {@code notify_up}/{@code notify_down} or a virtual server's {@code quorum_up}/{@code quorum_down}.
 *
 * <p>Each FIFO is opened once, however many of the three keywords name its path; each
 * {@code *_fifo_script} is started with its FIFO's path as its last argument (the first script
 * given for a path when several name it).
 */
public final class NotifyDispatcher implements AutoCloseable {

    /** How long a non-STOP notify script may run before it is killed. */
    public static final Duration DEFAULT_SCRIPT_TIMEOUT = Duration.ofSeconds(30);
    /** How long a STOP script may run (keepalived's shutdown timer). */
    public static final Duration STOP_SCRIPT_TIMEOUT = Duration.ofSeconds(1);

    private static final Set<String> STATES = Set.of("MASTER", "BACKUP", "FAULT", "STOP");
    private static final String NAME = "notify";

    /** The notify commands of one instance or group. */
    private record Scripts(Map<String, String> byState, String generic) {
    }

    private final EventLog log;
    private final Duration scriptTimeout;
    private final String user;
    private final String group;
    private final Map<String, Scripts> instances = new HashMap<>();
    private final Map<String, Scripts> groups = new HashMap<>();
    private final List<FifoWriter> fifos = new ArrayList<>();
    private final List<NotifyFifo> fifoConfigs = new ArrayList<>();
    /** The FIFOs VRRP lines go to ({@code notify_fifo}, {@code vrrp_notify_fifo}). */
    private final List<FifoWriter> vrrpFifos = new ArrayList<>();
    /** The FIFOs LVS lines go to ({@code notify_fifo}, {@code lvs_notify_fifo}). */
    private final List<FifoWriter> lvsFifos = new ArrayList<>();
    private final List<ScriptProcess> fifoScripts = new ArrayList<>();
    private final ExecutorService scriptExecutor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("vigil-notify-", 0).factory());
    private final ExecutorService fifoExecutor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("vigil-notify-fifo").factory());
    private final Map<String, CompletableFuture<Void>> lanes = new HashMap<>();
    private final Set<ScriptProcess> running = ConcurrentHashMap.newKeySet();
    private final AtomicLong scriptsRun = new AtomicLong();
    private final AtomicLong scriptsFailed = new AtomicLong();
    private final AtomicLong scriptsTimedOut = new AtomicLong();
    private final AtomicLong fifoWritten = new AtomicLong();
    private final AtomicLong fifoDropped = new AtomicLong();
    private volatile boolean closed;

    /** A dispatcher with {@link #DEFAULT_SCRIPT_TIMEOUT}. */
    public NotifyDispatcher(KeepalivedConfig config, EventLog log) {
        this(config, log, DEFAULT_SCRIPT_TIMEOUT);
    }

    /**
     * @param config        notify commands, FIFOs and {@code script_user}
     * @param log           failures and FIFO problems
     * @param scriptTimeout how long a non-STOP script may run before it is killed
     */
    public NotifyDispatcher(KeepalivedConfig config, EventLog log, Duration scriptTimeout) {
        this.log = Objects.requireNonNull(log, "log");
        this.scriptTimeout = Objects.requireNonNull(scriptTimeout, "scriptTimeout");
        GlobalDefs g = config.globalDefs();
        this.user = g.scriptUser();
        this.group = g.scriptGroup();
        for (VrrpInstance i : config.vrrpInstances()) {
            instances.put(i.name(), scripts(i.notifyMaster(), i.notifyBackup(), i.notifyFault(), i.notifyStop(),
                    i.notifyScript()));
        }
        for (VrrpSyncGroup s : config.syncGroups()) {
            groups.put(s.name(), scripts(s.notifyMaster(), s.notifyBackup(), s.notifyFault(), s.notifyStop(),
                    s.notifyScript()));
        }
        addFifo(g.notifyFifo(), true, true);
        addFifo(g.vrrpNotifyFifo(), true, false);
        addFifo(g.lvsNotifyFifo(), false, true);
    }

    /** Opens one writer per path; a path named twice gets the lines of both. */
    private void addFifo(NotifyFifo f, boolean vrrp, boolean lvs) {
        if (f == null) {
            return;
        }
        FifoWriter w = null;
        for (int i = 0; i < fifoConfigs.size(); i++) {
            if (fifoConfigs.get(i).path().equals(f.path())) {
                w = fifos.get(i);
            }
        }
        if (w == null) {
            w = new FifoWriter(f, log);
            fifoConfigs.add(f);
            fifos.add(w);
        }
        if (vrrp && !vrrpFifos.contains(w)) {
            vrrpFifos.add(w);
        }
        if (lvs && !lvsFifos.contains(w)) {
            lvsFifos.add(w);
        }
    }

    private static Scripts scripts(String master, String backup, String fault, String stop, String generic) {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, "MASTER", master);
        put(m, "BACKUP", backup);
        put(m, "FAULT", fault);
        put(m, "STOP", stop);
        return new Scripts(Map.copyOf(m), generic);
    }

    private static void put(Map<String, String> m, String state, String command) {
        if (command != null && !command.isBlank()) {
            m.put(state, command);
        }
    }

    /**
     * Opens the FIFOs and starts each {@code *_fifo_script} with its FIFO's path as the last argument.
     * Call once, before the first state change; it does not wait for the scripts.
     */
    public void start() {
        CompletableFuture.runAsync(() -> {
            for (int i = 0; i < fifos.size(); i++) {
                FifoWriter w = fifos.get(i);
                String script = fifoConfigs.get(i).script();
                if (w.open() && script != null) {
                    startFifoScript(script, w);
                }
            }
        }, fifoExecutor).join();
    }

    private void startFifoScript(String script, FifoWriter w) {
        try {
            ScriptCommand cmd = ScriptCommand.parse(script, user, group).withArgs(List.of(w.path().toString()));
            fifoScripts.add(ScriptProcess.start(cmd));
        } catch (IOException | IllegalArgumentException e) {
            log.warn(NAME, "cannot start FIFO script " + script + ": " + e.getMessage());
        }
    }

    /**
     * The dispatcher's subscription to the daemon's event bus, the one path its events come by: a
     * {@code vrrp.instance} or {@code vrrp.group} event into MASTER, BACKUP, FAULT or STOP runs
     * {@link #instanceChanged} or {@link #groupChanged}; a forwarder event carrying keepalived's
     * notice runs {@link #lvsEvent}; other events are not keepalived's and are ignored. Returns at once.
     */
    public void accept(NotifierEvent event, LvsNotice lvs) {
        if (lvs != null) {
            lvsEvent(lvs.subject(), lvs.event(), lvs.command(), lvs.fifoLine(), lvs.stopping());
            return;
        }
        String to = event.detail("to");
        if (to == null || !STATES.contains(to)) {
            return;
        }
        switch (event.type()) {
            case NotifierEvent.VRRP_INSTANCE -> instanceChanged(event.detail("instance"), to, priority(event));
            case NotifierEvent.VRRP_GROUP -> groupChanged(event.detail("group"), to);
            default -> {
            }
        }
    }

    private static int priority(NotifierEvent event) {
        try {
            return Integer.parseInt(event.detail("priority"));
        } catch (NumberFormatException | NullPointerException e) {
            return 0;
        }
    }

    /**
     * An instance entered {@code state} ({@code MASTER}, {@code BACKUP}, {@code FAULT} or {@code STOP}) with
     * effective priority {@code priority}. Returns at once.
     */
    public void instanceChanged(String instance, String state, int priority) {
        dispatch("INSTANCE", instance, state, priority, instances.get(instance));
    }

    /** A sync group entered {@code state}; group notifies pass priority 0. Returns at once. */
    public void groupChanged(String group, String state) {
        dispatch("GROUP", group, state, 0, groups.get(group));
    }

    private void dispatch(String type, String name, String state, int priority, Scripts scripts) {
        Objects.requireNonNull(name, "name");
        if (!STATES.contains(state)) {
            throw new IllegalArgumentException("state: " + state + " (expected: one of MASTER BACKUP FAULT STOP)");
        }
        if (closed) {
            return;
        }
        writeLine(vrrpFifos, String.format("%s \"%s\" %s %d\n", type, name, state, priority));
        if (scripts == null) {
            return;
        }
        List<ScriptCommand> runs = new ArrayList<>();
        String specific = scripts.byState().get(state);
        if (specific != null) {
            command(specific, List.of()).ifPresent(runs::add);
        }
        if (scripts.generic() != null) {
            command(scripts.generic(), List.of(type, name, state, Integer.toString(priority))).ifPresent(runs::add);
        }
        if (runs.isEmpty()) {
            return;
        }
        Duration timeout = state.equals("STOP") ? STOP_SCRIPT_TIMEOUT : scriptTimeout;
        String subject = name;
        synchronized (lanes) {
            String key = type + " " + name;
            CompletableFuture<Void> tail = lanes.getOrDefault(key, CompletableFuture.completedFuture(null));
            lanes.put(key, tail.thenRunAsync(() -> runAll(subject, state, runs, timeout), scriptExecutor));
        }
    }

    /** Queues {@code line} for {@code writers} on the FIFO thread, behind every line queued before. */
    private void writeLine(List<FifoWriter> writers, String line) {
        if (writers.isEmpty()) {
            return;
        }
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        try {
            fifoExecutor.execute(() -> {
                for (FifoWriter w : writers) {
                    (w.write(bytes) ? fifoWritten : fifoDropped).incrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            // Closed between the caller's check and now (a reload replaced this dispatcher).
            fifoDropped.addAndGet(writers.size());
        }
    }

    /**
     * An LVS event: a real server's {@code notify_up}/{@code notify_down} or a virtual server's
     * {@code quorum_up}/{@code quorum_down}. {@code fifoLine} goes to {@code notify_fifo} and
     * {@code lvs_notify_fifo} in call order with every other line. The command, when there is one,
     * runs as configured, without appended arguments (keepalived passes none), in one lane per
     * subject so that a server's scripts keep their order; at shutdown ({@code stopping}) it gets
     * {@link #STOP_SCRIPT_TIMEOUT}, as keepalived gives its shutdown notifications. Returns at once.
     *
     * @param subject  the real or virtual server, for the lane and the log
     * @param event    what happened ({@code UP}, {@code DOWN}, {@code QUORUM_UP}, {@code QUORUM_DOWN})
     * @param command  the configured command line, or {@code null}
     * @param fifoLine the FIFO line, newline included ({@code RS ... UP\n}, {@code VS ... DOWN\n}), or {@code null}
     * @param stopping whether the daemon is shutting down
     */
    public void lvsEvent(String subject, String event, String command, String fifoLine, boolean stopping) {
        Objects.requireNonNull(subject, "subject");
        if (closed) {
            return;
        }
        if (fifoLine != null) {
            writeLine(lvsFifos, fifoLine);
        }
        if (command == null || command.isBlank()) {
            return;
        }
        java.util.Optional<ScriptCommand> cmd = command(command, List.of());
        if (cmd.isEmpty()) {
            return;
        }
        Duration timeout = stopping ? STOP_SCRIPT_TIMEOUT : scriptTimeout;
        List<ScriptCommand> runs = List.of(cmd.get());
        synchronized (lanes) {
            String key = "LVS " + subject;
            CompletableFuture<Void> tail = lanes.getOrDefault(key, CompletableFuture.completedFuture(null));
            lanes.put(key, tail.thenRunAsync(() -> runAll(subject, event, runs, timeout), scriptExecutor));
        }
    }

    private java.util.Optional<ScriptCommand> command(String line, List<String> extra) {
        try {
            return java.util.Optional.of(ScriptCommand.parse(line, user, group).withArgs(extra));
        } catch (IllegalArgumentException e) {
            scriptsRun.incrementAndGet();
            scriptsFailed.incrementAndGet();
            log.warn(NAME, "cannot run " + line + ": " + e.getMessage());
            return java.util.Optional.empty();
        }
    }

    private void runAll(String subject, String state, List<ScriptCommand> runs, Duration timeout) {
        for (ScriptCommand cmd : runs) {
            if (closed) {
                return;
            }
            scriptsRun.incrementAndGet();
            ScriptProcess p;
            try {
                p = ScriptProcess.start(cmd);
            } catch (IOException | RuntimeException e) {
                scriptsFailed.incrementAndGet();
                log.warn(subject, "notify " + state + ": " + cmd.program() + ": cannot start: " + e.getMessage());
                continue;
            }
            running.add(p);
            ScriptProcess.Outcome outcome;
            try {
                outcome = p.await(timeout);
            } finally {
                running.remove(p);
            }
            switch (outcome) {
                case ScriptProcess.Outcome.Exited e when e.code() == 0 ->
                        log.log(dev.vigil.daemon.Log.Level.DEBUG, subject, "notify " + state + ": " + cmd.program()
                                + " exit 0");
                case ScriptProcess.Outcome.TimedOut t -> {
                    scriptsTimedOut.incrementAndGet();
                    log.warn(subject, "notify " + state + ": " + cmd.program() + " " + outcome.describe()
                            + "; killed");
                }
                default -> {
                    scriptsFailed.incrementAndGet();
                    log.warn(subject, "notify " + state + ": " + cmd.program() + " " + outcome.describe());
                }
            }
        }
    }

    /** The counters so far. */
    public NotifyCounters counters() {
        return new NotifyCounters(scriptsRun.get(), scriptsFailed.get(), scriptsTimedOut.get(), fifoWritten.get(),
                fifoDropped.get());
    }

    /**
     * Waits until every queued script has finished and every queued FIFO line is written, up to
     * {@code timeout}; true when idle.
     */
    public boolean awaitIdle(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<CompletableFuture<Void>> pending;
        synchronized (lanes) {
            pending = List.copyOf(lanes.values());
        }
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            CompletableFuture.runAsync(() -> { }, fifoExecutor)
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }

    /**
     * Shuts down as keepalived does: waits for queued scripts (STOP scripts are themselves bounded to one
     * second) up to {@code STOP_SCRIPT_TIMEOUT} plus a margin, kills whatever still runs, writes the queued
     * FIFO lines, closes the FIFOs and sends SIGTERM to the FIFO scripts.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        awaitIdle(STOP_SCRIPT_TIMEOUT.plusMillis(500));
        closed = true;
        running.forEach(ScriptProcess::kill);
        scriptExecutor.shutdownNow();
        fifoExecutor.execute(() -> fifos.forEach(FifoWriter::close));
        fifoExecutor.shutdown();
        try {
            scriptExecutor.awaitTermination(2, TimeUnit.SECONDS);
            fifoExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ScriptProcess p : fifoScripts) {
            p.terminate();
        }
        for (ScriptProcess p : fifoScripts) {
            if (p.await(STOP_SCRIPT_TIMEOUT) instanceof ScriptProcess.Outcome.TimedOut) {
                log.warn(NAME, "FIFO script " + p.pid() + " ignored SIGTERM; killed");
            }
        }
    }
}
