package dev.vigil.daemon;

import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import dev.vigil.config.Severity;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.daemon.event.EventBus;
import dev.vigil.daemon.event.LvsNotice;
import dev.vigil.daemon.event.NotifierHost;
import dev.vigil.daemon.event.NotifierSpec;
import dev.vigil.daemon.event.NotifierValidation;
import dev.vigil.daemon.event.ScriptNotifier;
import dev.vigil.daemon.forward.Backend;
import dev.vigil.daemon.forward.ServiceManager;
import dev.vigil.daemon.notify.NotifyDispatcher;
import dev.vigil.daemon.policy.PolicyHost;
import dev.vigil.api.NotifierEvent;
import dev.vigil.daemon.policy.LiveWorld;
import dev.vigil.daemon.policy.PolicyEffects;
import dev.vigil.daemon.policy.PolicyRunner;
import dev.vigil.dsl.InstanceView;
import dev.vigil.dsl.PolicyEngine;
import dev.vigil.dsl.PolicyLimits;
import dev.vigil.dsl.PolicyWorld;
import dev.vigil.dsl.ServiceView;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.daemon.track.PolicyTracking;
import dev.vigil.daemon.track.TrackerManager;
import dev.vigil.daemon.vip.HostVipContext;
import dev.vigil.daemon.vip.VipHost;
import dev.vigil.dsl.CompiledPolicy;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.kernel.linux.LinuxVrrpTransport;
import dev.vigil.kernel.linux.NetlinkAddressManager;
import dev.vigil.kernel.linux.NetlinkLinkManager;
import dev.vigil.kernel.linux.NetlinkLinkMonitor;
import dev.vigil.kernel.linux.PacketNeighbourAdvertiser;
import dev.vigil.vrrp.fsm.VrrpState;
import dev.vigil.vrrp.runtime.ExecutorScheduler;
import dev.vigil.vrrp.runtime.InstanceCounters;
import dev.vigil.vrrp.runtime.InstanceParams;
import dev.vigil.vrrp.runtime.InstanceStatus;
import dev.vigil.vrrp.runtime.ReloadReport;
import dev.vigil.vrrp.runtime.RouterEvent;
import dev.vigil.vrrp.runtime.SyncGroupParams;
import dev.vigil.vrrp.runtime.VrrpRouter;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The running daemon: wires the Linux adapters into the VRRP runtime, runs the trackers, the
 * forwarder ({@link ServiceManager}) and the notifications, logs every event, serves the status API
 * and handles signals.
 *
 * <p>Signals only queue a command; the main thread carries it out. SIGTERM and SIGINT stop
 * gracefully (every MASTER sends priority 0 and removes its addresses, the forwarder's services are
 * removed unless {@code --dont-release-ipvs}, STOP notifications run, exit 0). SIGHUP reloads: the
 * file is read again and, when valid, only the difference is applied; an invalid file is rejected
 * with located errors and the running configuration stays in force.
 */
final class Daemon {

    private static final Duration SHUTDOWN_LIMIT = Duration.ofSeconds(5);
    /** How long the start and a reload wait for the forwarder's apply before going on. */
    private static final Duration FORWARDER_WAIT = Duration.ofSeconds(15);
    /**
     * Scratch take-overs per instance at start: enough for the state machine and advert encoder to
     * be compiled (the JIT's first tier compiles after a few hundred calls), few enough to cost
     * milliseconds.
     */
    static final int WARM_UP_ROUNDS = 300;
    /** Keeps the warm-up's results reachable, so none of its work can be optimised away. */
    static volatile int warmUpSink;

    /** A configuration ready to run: the model and what the router runs. */
    record Loaded(KeepalivedConfig config, List<InstanceParams> instances, List<SyncGroupParams> groups,
                  List<NotifierSpec> notifiers) {
    }

    private final Supplier<LoadResult> loader;
    private final boolean releaseServices;
    private InetSocketAddress api;
    private final BlockingQueue<String> commands = new LinkedBlockingQueue<>();
    private final Instant started = Instant.now();
    private final RateLimiter dropLimiter = new RateLimiter(Duration.ofSeconds(10));
    private final EventLog eventLog = EventLog.daemon();
    private final HealthChecks checks = new HealthChecks(eventLog);
    /** The built-in {@code script} notifier; it runs its commands as the current {@code script_user}. */
    private final ScriptNotifier scriptNotifier = new ScriptNotifier();

    private volatile String node;
    private volatile VrrpRouter router;
    private volatile NotifyDispatcher notifier;
    private volatile ServiceManager services;
    private VipHost vips;
    private volatile EventBus events;
    private volatile NotifierHost notifiers;
    /** The failover policies of the store ({@code vigil_policy_store}). */
    private volatile PolicyHost policies;
    /** Runs the active policies and applies their actions. */
    private volatile PolicyRunner policyRunner;
    /** Each instance's sync group, for the policies' view of the instances. */
    private volatile Map<String, String> groupOf = Map.of();
    /** Why the last reload was refused, or {@code null}: the reason of its {@code daemon.reload} event. */
    private String refusal;
    /** The configuration file as events name it. */
    private String configFile = "";
    /** The trackers' state with the policies' priority offsets on top, on its way to the router. */
    private volatile PolicyTracking policyTracking;
    /** The running trackers (a reload replaces them). */
    private volatile TrackerManager trackers;
    /** The policies' tracker marks in force, given to every tracker manager a reload starts. */
    private volatile Map<String, Boolean> trackerMarks = Map.of();
    /** The state last published per tracker ({@code script chk}, ...), across reloads. */
    private final Map<String, String> trackerStates = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param loader          reads the configuration file (again on each reload)
     * @param releaseServices whether shutdown removes the forwarder's services (keepalived's default)
     */
    Daemon(Supplier<LoadResult> loader, boolean releaseServices) {
        this.loader = loader;
        this.releaseServices = releaseServices;
    }

    /** Loads, checks and maps the configuration; logs every diagnostic; null when it cannot run. */
    Loaded load() {
        LoadResult result = loader.get();
        result = checks.validate(result);
        NotifierValidation.Result notifierCheck = NotifierValidation.apply(result,
                checks.notifierTypes(List.of(scriptNotifier)));
        result = notifierCheck.load();
        report(result.diagnostics());
        notifierCheck.notes().forEach(n -> Log.warn("notifiers", n));
        if (result.hasErrors()) {
            refusal = result.errors().size() + " error" + (result.errors().size() == 1 ? "" : "s") + " in the file, the first: "
                    + result.errors().getFirst().format(ConfigOptions.base());
        }
        if (result.hasErrors()) {
            return null;
        }
        InstanceMapper mapper = new InstanceMapper(VipHost.names(checks.vipBackends()));
        List<InstanceParams> instances = mapper.map(result.config());
        List<SyncGroupParams> groups = mapper.groups(result.config(), instances);
        report(mapper.diagnostics());
        if (mapper.hasErrors()) {
            refusal = "the VRRP instances cannot be mapped";
            return null;
        }
        return new Loaded(result.config(), instances, groups, notifierCheck.specs());
    }

    int runUntilStopped(Loaded initial) {
        List<String> apiWords = initial.config().globalDefs().other().get("vigil_api");
        try {
            api = apiWords == null || apiWords.isEmpty() ? StatusServer.DEFAULT
                    : "off".equals(apiWords.getFirst()) ? null : StatusServer.parse(apiWords.getFirst());
        } catch (IllegalArgumentException e) {
            Log.error("vigil", "vigil_api " + apiWords + ": expected HOST:PORT or off");
            return 1;
        }
        node = initial.config().globalDefs().routerId();
        EventBus bus = new EventBus(node, Clock.systemUTC(), eventLog);
        events = bus;
        NotifierHost host = new NotifierHost(checks.notifierTypes(List.of(scriptNotifier)), Clock.systemUTC(), eventLog);
        notifiers = host;
        scriptNotifier.runAs(initial.config().globalDefs().scriptUser(), initial.config().globalDefs().scriptGroup());
        host.configure(node, initial.notifiers());
        // keepalived's scripts and FIFOs take their events from the bus too, through whichever dispatcher is current.
        bus.subscribe((event, lvs) -> notifier.accept(event, lvs));
        bus.subscribe(host);
        // A thread that ends on an error says so: the daemon's own threads catch what they expect, so
        // this is a library's thread (or a plugin's) that an exhausted heap or a bug ended.
        // The main thread carries signals and reloads out: if it ends, the daemon exits (status 70) so
        // that its supervisor starts it again, rather than run on deaf to SIGTERM and SIGHUP.
        Thread mainThread = Thread.currentThread();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            try {
                Log.warn("vigil", "thread " + t.getName() + " ended: " + e);
                if (t == mainThread) {
                    Log.error("vigil", "the daemon's main thread ended; exiting");
                }
            } catch (Throwable ignored) {
                // nothing more to do for it
            }
            if (t == mainThread) {
                Runtime.getRuntime().halt(70);
            }
        });
        Signals.on("TERM", () -> commands.add("SIGTERM"));
        Signals.on("INT", () -> commands.add("SIGINT"));
        Signals.on("HUP", () -> commands.add("SIGHUP"));

        NetlinkAddressManager addresses;
        NetlinkLinkMonitor links;
        PacketNeighbourAdvertiser advertiser;
        NetlinkLinkManager linkManager;
        try {
            addresses = new NetlinkAddressManager();
            links = new NetlinkLinkMonitor();
            advertiser = new PacketNeighbourAdvertiser();
            linkManager = new NetlinkLinkManager();
        } catch (KernelException e) {
            Log.error("vigil", "cannot open kernel interfaces: " + e.getMessage());
            return 1;
        }
        LinuxVrrpTransport transport = new LinuxVrrpTransport(addresses,
                e -> Log.warn("vigil", "receive error: " + e.getMessage()));
        ExecutorScheduler scheduler = new ExecutorScheduler("vrrp-engine");
        notifier = new NotifyDispatcher(initial.config(), eventLog);
        notifier.start();
        // VIPs go through their backends: the built-in ones on the engine thread, plugins' queued.
        vips = new VipHost(new HostVipContext.Kernel(addresses, advertiser, linkManager, addresses::linkLocal),
                checks.vipBackends());
        vips.prepare(initial.instances());
        VrrpRouter r = new VrrpRouter(initial.instances(), initial.groups(),
                new VrrpRouter.Ports(transport, addresses, advertiser, links, vips), scheduler, this::onEvent);
        router = r;
        policyTracking = new PolicyTracking(r::setTracking);
        try {
            // The caches of interface indexes and MACs follow the links from now on.
            links.subscribe(info -> {
                addresses.linkChanged(info);
                advertiser.linkChanged(info);
            });
        } catch (KernelException e) {
            Log.warn("vigil", "link notifications for the interface caches: " + e.getMessage());
        }
        warmUp(r, initial.instances(), addresses, advertiser);
        // The services are in place before any VIP comes up, so the first client is served.
        ServiceManager lb = new ServiceManager(Backend::open, eventLog, new ServiceManager.Notifier() {
            @Override
            public void run(String subject, String event, String command, String fifoLine, boolean stopping) {
                notifier.lvsEvent(subject, event, command, fifoLine, stopping);
            }

            @Override
            public void realServer(String virtualServer, String realServer, boolean up, String reason, LvsNotice notice) {
                bus.publish(bus.realServer(virtualServer, realServer, up, reason), notice);
            }

            @Override
            public void quorum(String virtualServer, String from, boolean up, long healthy, long quorum, LvsNotice notice) {
                bus.publish(bus.quorum(virtualServer, from, up, healthy, quorum), notice);
            }
        });
        services = lb;
        await(lb.configure(initial.config()), "the forwarder's first apply");
        checks.start(initial.config(), lb);
        groupOf = groupsOf(initial.groups());
        PolicyEffects effects = new PolicyEffects(policyTracking, () -> services, marks -> {
            trackerMarks = marks;
            TrackerManager t = trackers;
            if (t != null) {
                t.setMarks(marks);
            }
        });
        PolicyHost policyHost = new PolicyHost(PolicyHost.storePath(initial.config()).orElse(null),
                () -> "vigil@" + node, this::policiesChanged);
        PolicyRunner runner = new PolicyRunner(new PolicyEngine(PolicyLimits.DEFAULT, Clock.systemUTC()), effects,
                this::policyWorld, bus, (policy, revision, kind, detail) -> policyHost.audit(policy, revision, kind, detail),
                eventLog, Clock.systemUTC());
        policyRunner = runner;
        bus.subscribe(runner);
        policies = policyHost;
        policyHost.start();
        StatusServer statusServer = startApi();

        Log.info("vigil", "starting node " + node + " (pid " + ProcessHandle.current().pid() + ", "
                + initial.instances().size() + " VRRP instance" + (initial.instances().size() == 1 ? "" : "s")
                + ", " + initial.groups().size() + " sync group" + (initial.groups().size() == 1 ? "" : "s") + ")");
        TrackerManager trackers = newTrackers(initial.config(), links);
        configFile = configName(initial);
        bus.daemonStart(configFile, version());
        try {
            r.start();
            trackers.start();
        } catch (KernelException | RuntimeException e) {
            Log.error("vigil", "start failed: " + e.getMessage());
            bus.daemonStop("start failed: " + e.getMessage());
            trackers.close();
            checks.close();
            policyHost.close();
            runner.close();
            r.shutdown(SHUTDOWN_LIMIT);
            lb.stop(releaseServices, SHUTDOWN_LIMIT);
            host.close(SHUTDOWN_LIMIT);
            return 1;
        }
        for (InstanceStatus s : r.status()) {
            Log.info(s.name(), "started: " + s.state() + ", priority " + s.effectivePriority());
        }

        String command;
        while (!(command = nextCommand()).equals("SIGTERM") && !command.equals("SIGINT")) {
            trackers = reload(trackers, links);
            this.trackers = trackers;
        }

        Log.info("vigil", command + ": stopping");
        bus.daemonStop(command);
        trackers.close();
        checks.close();
        policyHost.close();
        runner.close();
        List<InstanceStatus> before = r.status();
        r.shutdown(SHUTDOWN_LIMIT);
        for (InstanceStatus s : before) {
            InstanceCounters c = r.counters(s.name());
            if (s.state() == VrrpState.MASTER && c.priorityZeroSent() > 0) {
                Log.info(s.name(), "handed over: sent priority 0, removed virtual addresses");
            }
            bus.instance(s.name(), s.state().name(), "STOP", s.effectivePriority(), "shutdown");
        }
        // After the hand-over: the VIPs are gone from here before the services behind them.
        lb.stop(releaseServices, SHUTDOWN_LIMIT);
        host.close(SHUTDOWN_LIMIT);
        notifier.close();
        if (statusServer != null) {
            statusServer.close();
        }
        scheduler.close();
        vips.close();
        links.close();
        advertiser.close();
        linkManager.close();
        addresses.close();
        Log.info("vigil", "stopped");
        return 0;
    }

    /**
     * Runs the take-over path once before any instance starts, so the first real take-over does
     * not pay for first execution (measured: 4 to 16 ms from the first advert to the first
     * gratuitous ARP, against under 4 ms once warm; see docs/benchmarks.md). Nothing reaches the
     * wire and no address changes: the router works on scratch machines, the kernel adapters send
     * requests the kernel must refuse, and log lines are formatted but not written.
     */
    static void warmUp(VrrpRouter r, List<InstanceParams> instances, NetlinkAddressManager addresses,
                       PacketNeighbourAdvertiser advertiser) {
        long t0 = System.nanoTime();
        int sink = 0;
        List<VirtualAddress> vips = new ArrayList<>();
        try {
            r.warmUp(WARM_UP_ROUNDS);
            for (InstanceParams p : instances) {
                vips.addAll(p.vips());
                vips.addAll(p.excludedVips());
                for (VrrpState from : VrrpState.values()) {
                    RouterEvent e = new RouterEvent.Transitioned(p.name(), from, VrrpState.MASTER, "warm-up");
                    sink += Log.format(Instant.now(), Log.Level.INFO, p.name(), lineOf(e)).length();
                }
            }
        } catch (RuntimeException e) {
            Log.warn("vigil", "take-over warm-up incomplete: " + e.getMessage());
        }
        // An interface missing at start (its instance starts in FAULT) is skipped by the adapters.
        try {
            sink += addresses.warmUp(vips);
            sink += advertiser.warmUp(vips);
        } catch (RuntimeException e) {
            Log.warn("vigil", "kernel warm-up incomplete: " + e.getMessage());
        }
        warmUpSink = sink;
        Log.info("vigil", "take-over path warmed up in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /** The log message for a router event: its description without the leading instance name. */
    static String lineOf(RouterEvent event) {
        String line = event.describe();
        String prefix = "(" + event.instance() + ") ";
        return line.startsWith(prefix) ? line.substring(prefix.length()) : line;
    }

    private String nextCommand() {
        try {
            return commands.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "SIGTERM";
        }
    }

    /** SIGHUP: apply the difference of a valid new file, keep everything on an invalid one. */
    private TrackerManager reload(TrackerManager trackers, NetlinkLinkMonitor links) {
        Log.info("vigil", "SIGHUP: reloading the configuration");
        refusal = null;
        Loaded next = load();
        String file = next != null ? configName(next) : configFile;
        if (next == null) {
            Log.error("vigil", "reload rejected: the file has errors; the running configuration stays in force");
            events.daemonReload(file, false, refusal);
            return trackers;
        }
        ReloadReport report;
        vips.prepare(next.instances());
        try {
            report = router.reconfigure(next.instances(), next.groups());
        } catch (IllegalArgumentException e) {
            Log.error("vigil", "reload rejected: " + e.getMessage() + "; the running configuration stays in force");
            events.daemonReload(file, false, e.getMessage());
            return trackers;
        }
        node = next.config().globalDefs().routerId();
        events.node(node);
        scriptNotifier.runAs(next.config().globalDefs().scriptUser(), next.config().globalDefs().scriptGroup());
        notifiers.configure(node, next.notifiers());
        policies.reconfigure(PolicyHost.storePath(next.config()).orElse(null));
        groupOf = groupsOf(next.groups());
        report.added().forEach(n -> Log.info(n, "added"));
        report.removed().forEach(n -> Log.info(n, "removed"));
        report.changed().forEach((n, what) -> Log.info(n,
                (report.restarted().contains(n) ? "restarted: " : "changed: ") + String.join(", ", what)));
        report.unchanged().forEach(n -> Log.info(n, "unchanged"));
        configFile = file;
        report.groupChanges().forEach(line -> Log.info("vigil", line));

        NotifyDispatcher old = notifier;
        NotifyDispatcher fresh = new NotifyDispatcher(next.config(), eventLog);
        fresh.start();
        notifier = fresh;
        Thread.ofVirtual().name("notify-close").start(old::close);

        await(services.configure(next.config()), "the forwarder's apply of the new configuration");
        checks.reconfigure(next.config());

        trackers.close();
        TrackerManager replacement = newTrackers(next.config(), links);
        try {
            replacement.start();
        } catch (KernelException e) {
            Log.error("vigil", "trackers not restarted: " + e.getMessage());
        }
        Log.info("vigil", "reload done: " + report.added().size() + " added, " + report.removed().size()
                + " removed, " + report.changed().size() + " changed, " + report.unchanged().size() + " unchanged");
        events.daemonReload(file, true, report.added().size() + " added, " + report.removed().size() + " removed, "
                + report.changed().size() + " changed, " + report.unchanged().size() + " unchanged");
        return replacement;
    }

    /**
     * The trackers of {@code config}, their changes published as {@code tracker} events. A reload
     * starts new trackers, which report their states afresh: a state equal to the one published
     * last for that tracker is not a change and is not published.
     */
    private TrackerManager newTrackers(KeepalivedConfig config, NetlinkLinkMonitor links) {
        EventBus bus = events;
        TrackerManager t = new TrackerManager(config, links, policyTracking, eventLog, (tracker, from, to, instances) -> {
            String last = trackerStates.put(tracker, to);
            if (!to.equals(last)) {
                bus.tracker(tracker, last != null ? last : from, to, instances);
            }
        });
        t.setMarks(trackerMarks);
        trackers = t;
        return t;
    }

    /** The configuration file as events name it. */
    private String configName(Loaded loaded) {
        List<java.nio.file.Path> files = loaded != null ? loaded.config().sourceFiles() : List.of();
        return files.isEmpty() ? "" : files.getFirst().toAbsolutePath().normalize().toString();
    }

    /** The daemon's version, from its jar's manifest ({@code dev} when run from classes). */
    static String version() {
        String v = Daemon.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** Waits for a forwarder task; a slow or failed one is logged (the manager logs its own failures). */
    private static void await(CompletableFuture<?> task, String what) {
        try {
            task.get(FORWARDER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            Log.warn("vigil", what + " takes longer than " + FORWARDER_WAIT.toSeconds() + " s; going on");
        } catch (ExecutionException e) {
            Log.error("vigil", what + " failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private StatusServer startApi() {
        if (api == null) {
            return null;
        }
        try {
            StatusServer server = new StatusServer(api, this::status, () -> services, checks::pluginsText);
            Log.info("vigil", "status API on http://" + api.getHostString() + ":" + api.getPort() + "/status");
            return server;
        } catch (IOException | RuntimeException e) {
            Log.warn("vigil", "status API not started on " + api + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * The compiled policies in force changed (and once at start): called on the policy host's
     * thread with the whole set, name to policy. The policy engine takes it from here.
     */
    private void policiesChanged(Map<String, CompiledPolicy> active) {
        Log.info("policies", active.isEmpty() ? "no policies in force" : "in force: " + String.join(", ",
                active.values().stream().map(c -> c.name() + " r" + c.revision()).toList()));
        PolicyRunner runner = policyRunner;
        if (runner != null) {
            runner.install(active);
        }
    }

    /** Instance name to sync group name. */
    private static Map<String, String> groupsOf(List<SyncGroupParams> groups) {
        Map<String, String> out = new HashMap<>();
        for (SyncGroupParams g : groups) {
            g.members().forEach(m -> out.putIfAbsent(m, g.name()));
        }
        return Map.copyOf(out);
    }

    /**
     * What a policy run reads: the router's instance snapshots, the services read on the forwarder
     * thread (so that every real-server event published before is reflected; the last published
     * ones if it does not answer within a second), the trackers and the recent events.
     */
    private PolicyWorld policyWorld(List<NotifierEvent> recent) {
        List<InstanceView> instances = new ArrayList<>();
        VrrpRouter r = router;
        if (r != null) {
            Map<String, String> groups = groupOf;
            for (InstanceStatus s : r.status()) {
                instances.add(new InstanceView(s.name(), s.state().name(), s.basePriority(), s.effectivePriority(),
                        groups.get(s.name())));
            }
        }
        List<ServiceView> views = List.of();
        ServiceManager m = services;
        if (m != null) {
            try {
                views = m.currentViews().get(1, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                views = m.views();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                views = m.views();
            }
        }
        TrackerManager t = trackers;
        return new LiveWorld(Instant.now(), instances, views, t == null ? List.of() : t.views(), recent);
    }

    /** The daemon's state for the status API: node, instances with states, priorities and counters. */
    Map<String, Object> status() {
        VrrpRouter r = router;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", node);
        out.put("pid", ProcessHandle.current().pid());
        out.put("started", started.toString());
        List<Object> list = new ArrayList<>();
        if (r != null) {
            for (InstanceStatus s : r.status()) {
                list.add(instanceStatus(s, r.counters(s.name())));
            }
            Map<String, Object> groups = new TreeMap<>();
            r.groupStates().forEach((g, state) -> groups.put(g, state.name()));
            out.put("syncGroups", groups);
            out.put("unknownVridAdverts", r.unknownVridCount());
            out.put("malformedAdverts", r.malformedCount());
        }
        out.put("instances", list);
        NotifyDispatcher n = notifier;
        if (n != null) {
            var c = n.counters();
            out.put("notify", Map.of("scriptsRun", c.scriptsRun(), "scriptsFailed", c.scriptsFailed(),
                    "scriptsTimedOut", c.scriptsTimedOut(), "fifoLinesWritten", c.fifoLinesWritten(),
                    "fifoLinesDropped", c.fifoLinesDropped()));
        }
        ServiceManager lb = services;
        if (lb != null) {
            out.put("forwarder", lb.status());
        }
        out.put("checks", checks.status());
        NotifierHost h = notifiers;
        if (h != null) {
            out.put("notifiers", h.status());
        }
        PolicyHost p = policies;
        if (p != null) {
            Map<String, Object> ps = new LinkedHashMap<>(p.status());
            PolicyRunner runner = policyRunner;
            if (runner != null) {
                ps.putAll(runner.status());
            }
            out.put("policies", ps);
        }
        EventBus bus = events;
        if (bus != null) {
            out.put("events", Map.of("published", bus.published(), "unchanged", bus.unchanged()));
        }
        return out;
    }

    private static Map<String, Object> instanceStatus(InstanceStatus s, InstanceCounters c) {
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("name", s.name());
        i.put("state", s.state().name());
        i.put("basePriority", s.basePriority());
        i.put("effectivePriority", s.effectivePriority());
        i.put("master", s.masterAddress() != null ? s.masterAddress().getHostAddress() : null);
        i.put("masterPriority", s.masterPriority());
        i.put("source", s.sourceAddress() != null ? s.sourceAddress().getHostAddress() : null);
        Map<String, Object> counters = new LinkedHashMap<>();
        counters.put("advertsSent", c.advertsSent());
        counters.put("advertsReceived", c.advertsReceived());
        counters.put("priorityZeroSent", c.priorityZeroSent());
        counters.put("priorityZeroReceived", c.priorityZeroReceived());
        counters.put("transitions", c.transitions());
        counters.put("becameMaster", c.becameMaster());
        counters.put("addressListErrors", c.addressListErrors());
        counters.put("kernelErrors", c.kernelErrors());
        Map<String, Object> drops = new TreeMap<>();
        c.drops().forEach((reason, n) -> drops.put(reason.name(), n));
        counters.put("drops", drops);
        i.put("counters", counters);
        return i;
    }

    /** Router events: one log line each; transitions also go to the notifications. */
    private void onEvent(RouterEvent event) {
        String subject = event.instance() != null ? event.instance() : "vrrp";
        String line = lineOf(event);
        switch (event) {
            case RouterEvent.Transitioned t -> {
                Log.info(subject, line);
                notifyState(t.to()).ifPresent(state -> events.instance(t.instance(), t.from().name(), state,
                        priorityOf(t.instance()), t.cause()));
            }
            case RouterEvent.GroupTransitioned g -> {
                String groupLine = g.describe().startsWith("(" + g.group() + ") ")
                        ? g.describe().substring(g.group().length() + 3) : g.describe();
                Log.info(g.group(), "group " + groupLine);
                notifyState(g.to()).ifPresent(state -> events.group(g.group(), g.from().name(), state, g.cause()));
            }
            case RouterEvent.StaleVipRemoved s -> Log.info(subject, line);
            case RouterEvent.PriorityChanged p -> Log.info(subject, line);
            case RouterEvent.AddressListMismatch m -> Log.warn(subject, line);
            case RouterEvent.AdvertDropped d -> {
                if (dropLimiter.allow(subject + "/" + d.reason())) {
                    Log.warn(subject, line);
                } else {
                    Log.debug(subject, line);
                }
            }
            case RouterEvent.KernelError k -> Log.error(subject, line);
            case RouterEvent.InternalError x -> Log.error(subject, line);
        }
    }

    private int priorityOf(String instance) {
        try {
            return router.status(instance).effectivePriority();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** keepalived notifies MASTER, BACKUP and FAULT; INIT (shutdown, removal) is told as STOP at exit. */
    private static java.util.Optional<String> notifyState(VrrpState to) {
        return switch (to) {
            case MASTER, BACKUP, FAULT -> java.util.Optional.of(to.name());
            case INIT -> java.util.Optional.empty();
        };
    }

    static void report(List<Diagnostic> diagnostics) {
        for (Diagnostic d : diagnostics) {
            if (d.severity() == Severity.ERROR) {
                Log.error("config", d.format(ConfigOptions.base()));
            } else {
                Log.warn("config", d.format(ConfigOptions.base()));
            }
        }
    }
}
