package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkMonitor;
import dev.vigil.kernel.NeighbourAdvertiser;
import dev.vigil.kernel.PacketBuffer;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.kernel.VrrpChannel;
import dev.vigil.kernel.VrrpTransport;
import dev.vigil.vrrp.codec.DecodeError;
import dev.vigil.vrrp.codec.ReceiveValidator;
import dev.vigil.vrrp.codec.VrrpCodec;
import dev.vigil.vrrp.fsm.MachineConfig;
import dev.vigil.vrrp.fsm.TimerKind;
import dev.vigil.vrrp.fsm.VrrpAction;
import dev.vigil.vrrp.fsm.VrrpEvent;
import dev.vigil.vrrp.fsm.VrrpState;
import dev.vigil.vrrp.fsm.VrrpStateMachine;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * Runs VRRP instances and sync groups on one engine thread (the {@link Scheduler}'s).
 *
 * <p>{@link #start()} removes configured VIPs left on the interfaces (a crash restart leaves none
 * behind), reads the link states, opens one {@link VrrpChannel} per (interface, family, source,
 * group) and starts every instance. Received packets are demultiplexed by VRID, checked by the
 * instance's {@link ReceiveValidator} and fed to its {@link VrrpStateMachine}; the actions it
 * returns are applied through the ports. Transport and link callbacks only enqueue onto the engine
 * thread. A failing kernel call is reported as a {@link RouterEvent.KernelError} and the engine goes
 * on. {@link #shutdown(Duration)} makes every MASTER send priority 0 and remove its VIPs.
 *
 * <h2>VIP backends</h2>
 * Every instance that starts is bound to its VIP backend ({@link VipBackends#bind}, before its
 * channel opens): the binding names the interface the channel is opened on (a {@code use_vmac}
 * instance advertises from its macvlan) and receives the {@code AddVips}, {@code RemoveVips} and
 * {@code AnnounceVips} actions, one call per address and per repeat, on the engine thread. A
 * binding that cannot be made holds the instance in FAULT. It is released when the instance stops,
 * after its addresses are down and its channel is closed.
 *
 * <h2>Tracking</h2>
 * {@link #setTracking(String, int, Set)} gives the whole tracker state of an instance: the sum of
 * its trackers' weights and the names of its failed weight-0 trackers. The effective priority is
 * the base plus that sum within 1..254; an owner (255) stays 255 (keepalived: trackers neither move
 * an owner nor make a non-owner one). Any failed tracker holds the instance in FAULT.
 *
 * <h2>Sync groups</h2>
 * Around the per-instance machines (keepalived {@code vrrp_sync.c}): a member that leaves MASTER
 * for BACKUP takes the other MASTER members to BACKUP ({@link VrrpEvent.SyncBackup}); a member with a
 * fault of its own holds every other member in FAULT with a group fault; a member whose master down
 * timer expires goes MASTER only when every other member is MASTER or has expired too, and then the
 * held members go with it ({@link VrrpEvent.SyncMaster}). The owner's immediate start as MASTER is
 * not used in a group, so that every way to MASTER passes this gate. The group's state (FAULT if a
 * member is, MASTER if all are, INIT if a member is, else BACKUP) is reported once per change as
 * {@link RouterEvent.GroupTransitioned}.
 *
 * <h2>Reload</h2>
 * {@link #reconfigure(List, List)} diffs the new configuration against the running one by name;
 * see {@link ReloadReport}.
 *
 * <p>{@link #status()}, {@link #groupStates()} and {@link #counters(String)} read snapshots and may
 * be called from any thread.
 */
public final class VrrpRouter {

    private static final int C_SENT = 0;
    private static final int C_RECEIVED = 1;
    private static final int C_PRIO0_SENT = 2;
    private static final int C_PRIO0_RECEIVED = 3;
    private static final int C_TRANSITIONS = 4;
    private static final int C_BECAME_MASTER = 5;
    private static final int C_ADDRESS_LIST = 6;
    private static final int C_IGNORED = 7;
    private static final int C_KERNEL_ERRORS = 8;
    private static final int C_DROPS = 9;
    private static final DecodeError[] DROP_REASONS = DecodeError.values();
    private static final TimerKind[] TIMER_KINDS = TimerKind.values();
    private static final VrrpEvent[] TIMER_EVENTS = new VrrpEvent[TIMER_KINDS.length];
    /** Packets one drain takes before the engine thread turns to its timers again. */
    private static final int DRAIN_BATCH = 64;

    static {
        for (TimerKind k : TIMER_KINDS) {
            TIMER_EVENTS[k.ordinal()] = VrrpEvent.timerExpired(k);
        }
    }

    private final VrrpTransport transport;
    private final AddressManager addressManager;
    private final VipBackends vips;
    private final LinkMonitor linkMonitor;
    private final Scheduler scheduler;
    private final RouterListener listener;
    private final List<Channel> channels = new ArrayList<>();
    private final AtomicLong unknownVrid = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final Map<String, Boolean> linkUp = new HashMap<>();
    private final ArrayDeque<Runnable> groupWork = new ArrayDeque<>();
    private final Map<String, Group> groups = new LinkedHashMap<>();
    // Replaced, never mutated, so other threads read consistent snapshots.
    private volatile List<Instance> instances;
    private volatile Map<String, Instance> byName;
    private volatile Map<String, VrrpState> groupStates = Map.of();
    private boolean draining;
    private boolean groupsDirty;
    private int batch;
    private boolean started;
    private boolean stopped;

    /**
     * The ports the router drives. {@code addresses} lists what is on the interfaces (stale VIPs
     * of a crashed run are removed through it at start); {@code vips} brings each instance's
     * addresses up and down and announces them.
     */
    public record Ports(VrrpTransport transport, AddressManager addresses, NeighbourAdvertiser advertiser,
                        LinkMonitor links, VipBackends vips) {
        public Ports {
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(addresses, "addresses");
            Objects.requireNonNull(advertiser, "advertiser");
            Objects.requireNonNull(links, "links");
            Objects.requireNonNull(vips, "vips");
        }

        /** Ports whose VIPs go straight to {@code addresses} and {@code advertiser} ({@link VipBackends#direct}). */
        public Ports(VrrpTransport transport, AddressManager addresses, NeighbourAdvertiser advertiser,
                     LinkMonitor links) {
            this(transport, addresses, advertiser, links, VipBackends.direct(addresses, advertiser));
        }
    }

    /** A router without sync groups. */
    public VrrpRouter(List<InstanceParams> params, Ports ports, Scheduler scheduler, RouterListener listener) {
        this(params, List.of(), ports, scheduler, listener);
    }

    /**
     * @throws IllegalArgumentException on duplicate names, two instances with one VRID on one
     *                                  channel, or a sync group naming an unknown instance or sharing
     *                                  a member with another group
     */
    public VrrpRouter(List<InstanceParams> params, List<SyncGroupParams> syncGroups, Ports ports, Scheduler scheduler,
                      RouterListener listener) {
        this.transport = ports.transport();
        this.addressManager = ports.addresses();
        this.vips = ports.vips();
        this.linkMonitor = ports.links();
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.listener = Objects.requireNonNull(listener, "listener");
        validate(params, syncGroups);
        List<Instance> list = new ArrayList<>();
        Map<String, Instance> names = new LinkedHashMap<>();
        for (InstanceParams p : params) {
            Instance inst = new Instance(p);
            list.add(inst);
            names.put(p.name(), inst);
        }
        this.instances = List.copyOf(list);
        this.byName = Collections.unmodifiableMap(names);
        for (SyncGroupParams g : syncGroups) {
            Group group = new Group(g.name());
            for (String m : g.members()) {
                Instance inst = names.get(m);
                group.members.add(inst);
                inst.group = group;
                inst.config = machineConfig(inst);
            }
            groups.put(g.name(), group);
        }
        publishGroupStates();
    }

    // ------------------------------------------------------------------ public API

    /** Starts every instance; blocks until done (at most 10 s) unless called on the engine thread. */
    public void start() {
        onEngine(() -> {
            doStart();
            return null;
        }, Duration.ofSeconds(10));
    }

    /**
     * Runs the take-over path of every instance {@code rounds} times on scratch state, so that the
     * first real take-over does not pay for first execution (class loading and initialisation,
     * string concatenation and pattern switch bootstraps, interpreted code). A scratch
     * {@link VrrpStateMachine} per instance goes through startup, BACKUP, the master down timer,
     * MASTER and back; every advert it asks for is encoded, every transition described and a status
     * snapshot built. Nothing leaves the process: no port is called, no timer armed, the listener
     * hears nothing and the instances' state, counters and status are untouched. Call before
     * {@link #start()}; runs on the engine thread and returns how long it took.
     *
     * @throws IllegalStateException once the router has started
     */
    public Duration warmUp(int rounds) {
        if (rounds < 0) {
            throw new IllegalArgumentException("rounds: " + rounds + " (expected: >= 0)");
        }
        return onEngine(() -> {
            if (started) {
                throw new IllegalStateException("warm-up after start");
            }
            long t0 = scheduler.nanoTime();
            for (int r = 0; r < rounds; r++) {
                for (Instance inst : instances) {
                    warmUpInstance(inst);
                }
            }
            return Duration.ofNanos(scheduler.nanoTime() - t0);
        }, Duration.ofSeconds(10));
    }

    /**
     * Stops every instance: MASTERs send priority 0 and remove their VIPs; channels are closed.
     * Blocks until done or {@code timeout} passed, unless called on the engine thread.
     */
    public void shutdown(Duration timeout) {
        onEngine(() -> {
            doShutdown();
            return null;
        }, timeout);
    }

    /**
     * Sets the complete tracker state of {@code instance}, replacing the previous one, so repeated
     * calls are harmless. Applied on the engine thread; before {@link #start()} it is kept and
     * applied at start.
     *
     * @param priorityDelta sum of the weights of the instance's trackers (effective priority =
     *                      base + delta within 1..254; an owner stays 255)
     * @param faults        names of failed weight-0 trackers and down tracked interfaces; any
     *                      holds the instance in FAULT, none lets it leave FAULT (RFC 5798 §6.4.1)
     * @throws IllegalArgumentException for an unknown instance
     */
    public void setTracking(String instance, int priorityDelta, Set<String> faults) {
        instance(instance);
        Set<String> copy = Collections.unmodifiableSet(new LinkedHashSet<>(faults));
        scheduler.execute(() -> {
            Instance inst = byName.get(instance);
            if (inst == null) {
                return; // removed by a reload since
            }
            inst.trackDelta = priorityDelta;
            inst.trackFaults = copy;
            if (started && !stopped && !inst.removed) {
                guarded(inst, "setTracking", () -> applyTracking(inst));
            }
        });
    }

    /**
     * Replaces the configuration, keeping what did not change: see {@link ReloadReport}. Runs on the
     * engine thread and blocks until done (at most 10 s).
     *
     * <ul>
     *   <li>An unchanged instance keeps its state, timers and addresses.</li>
     *   <li>A changed one with the same identity ({@link ReloadReport#restarted()}) is updated in
     *       place: priority, interval, preemption, authentication, GARP settings, peers, VIPs (a
     *       MASTER adds the new ones, announcing only them, and removes the dropped ones).</li>
     *   <li>A removed one stops as at shutdown, an added one starts as at start (stale VIPs
     *       removed first); an identity change is both.</li>
     *   <li>Channels no longer used are closed; tracker state of removed instances is dropped.</li>
     * </ul>
     *
     * @throws IllegalArgumentException if the new configuration is refused (nothing is changed)
     */
    public ReloadReport reconfigure(List<InstanceParams> params, List<SyncGroupParams> syncGroups) {
        List<InstanceParams> p = List.copyOf(params);
        List<SyncGroupParams> g = List.copyOf(syncGroups);
        validate(p, g);
        return onEngine(() -> doReconfigure(p, g), Duration.ofSeconds(10));
    }

    /** Snapshots of every instance, in configuration order. */
    public List<InstanceStatus> status() {
        List<Instance> list = instances;
        List<InstanceStatus> out = new ArrayList<>(list.size());
        for (Instance i : list) {
            out.add(i.status);
        }
        return out;
    }

    /** Snapshot of one instance. */
    public InstanceStatus status(String instance) {
        return instance(instance).status;
    }

    /** The state of every sync group, in configuration order. */
    public Map<String, VrrpState> groupStates() {
        return groupStates;
    }

    /** Counter snapshot of one instance. */
    public InstanceCounters counters(String instance) {
        AtomicLongArray c = instance(instance).counters;
        Map<DecodeError, Long> drops = new EnumMap<>(DecodeError.class);
        for (DecodeError e : DROP_REASONS) {
            drops.put(e, c.get(C_DROPS + e.ordinal()));
        }
        return new InstanceCounters(c.get(C_SENT), c.get(C_RECEIVED), c.get(C_PRIO0_SENT), c.get(C_PRIO0_RECEIVED),
                c.get(C_TRANSITIONS), c.get(C_BECAME_MASTER), c.get(C_ADDRESS_LIST), c.get(C_IGNORED),
                c.get(C_KERNEL_ERRORS), drops);
    }

    /** Adverts received for a VRID no instance has on that channel. */
    public long unknownVridCount() {
        return unknownVrid.get();
    }

    /** Packets too short to carry a VRID. */
    public long malformedCount() {
        return malformed.get();
    }

    // ------------------------------------------------------------------ configuration checks

    private static void validate(List<InstanceParams> params, List<SyncGroupParams> syncGroups) {
        Set<String> names = new HashSet<>();
        Map<ChannelKey, Map<Integer, String>> vrids = new HashMap<>();
        for (InstanceParams p : params) {
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("duplicate instance name: " + p.name());
            }
            String clash = vrids.computeIfAbsent(ChannelKey.of(p), k -> new HashMap<>()).putIfAbsent(p.vrid(), p.name());
            if (clash != null) {
                throw new IllegalArgumentException("duplicate vrid " + p.vrid() + " on " + p.ifname() + " "
                        + p.family() + ": " + clash + ", " + p.name());
            }
        }
        Set<String> groupNames = new HashSet<>();
        Map<String, String> memberOf = new HashMap<>();
        for (SyncGroupParams g : syncGroups) {
            if (!groupNames.add(g.name())) {
                throw new IllegalArgumentException("duplicate sync group name: " + g.name());
            }
            for (String m : g.members()) {
                if (!names.contains(m)) {
                    throw new IllegalArgumentException("sync group " + g.name() + ": unknown instance " + m);
                }
                String other = memberOf.putIfAbsent(m, g.name());
                if (other != null) {
                    throw new IllegalArgumentException("instance " + m + " in sync groups " + other + " and " + g.name());
                }
            }
        }
    }

    // ------------------------------------------------------------------ engine thread: life cycle

    private void doStart() {
        if (started) {
            return;
        }
        started = true;
        List<Instance> all = instances;
        removeStaleVips(all);
        readLinks();
        batch(() -> startInstances(all));
    }

    /** Opens channels, applies link, channel and tracker faults, group faults, then Startup. */
    private void startInstances(List<Instance> list) {
        for (Instance inst : list) {
            bind(inst);
            openChannel(inst);
        }
        for (Instance inst : list) {
            guarded(inst, "startup", () -> {
                if (!linkUp.getOrDefault(inst.params.ifname(), false)) {
                    handle(inst, new VrrpEvent.LinkDown(inst.params.ifname()));
                }
                if (inst.bindFault != null) {
                    handle(inst, new VrrpEvent.FaultRaised(inst.bindFault));
                } else if (inst.channel == null) {
                    handle(inst, new VrrpEvent.FaultRaised("no VRRP channel"));
                }
                applyTracking(inst);
            });
        }
        for (Group g : groups.values()) {
            syncFaults(g);
        }
        for (Instance inst : list) {
            guarded(inst, "startup", () -> handle(inst, new VrrpEvent.Startup()));
        }
    }

    private void removeStaleVips(List<Instance> list) {
        List<InterfaceAddress> present;
        try {
            present = addressManager.addresses();
        } catch (KernelException e) {
            listener.onEvent(new RouterEvent.KernelError(null, "list addresses", e));
            return;
        }
        for (Instance inst : list) {
            for (VirtualAddress vip : inst.allVips) {
                if (!isPresent(present, vip) || heldByRunningMaster(vip, inst)) {
                    continue;
                }
                try {
                    addressManager.remove(vip);
                    listener.onEvent(new RouterEvent.StaleVipRemoved(inst.params.name(), vip));
                } catch (KernelException e) {
                    kernelError(inst, "remove stale " + vip, e);
                }
            }
        }
    }

    private static boolean isPresent(List<InterfaceAddress> present, VirtualAddress vip) {
        for (InterfaceAddress a : present) {
            if (a.ifname().equals(vip.ifname()) && a.address().equals(vip.address())) {
                return true;
            }
        }
        return false;
    }

    /** Whether a running MASTER other than {@code except} owns {@code vip} (a reload must not take it away). */
    private boolean heldByRunningMaster(VirtualAddress vip, Instance except) {
        for (Instance i : instances) {
            if (i != except && !i.removed && i.machine != null && i.machine.state() == VrrpState.MASTER) {
                for (VirtualAddress v : i.allVips) {
                    if (v.ifname().equals(vip.ifname()) && v.address().equals(vip.address())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private void readLinks() {
        try {
            for (LinkInfo l : linkMonitor.links()) {
                linkUp.put(l.name(), l.up());
            }
            linkMonitor.subscribe(info -> scheduler.execute(() -> onLink(info)));
        } catch (KernelException e) {
            listener.onEvent(new RouterEvent.KernelError(null, "read links", e));
        }
    }

    /** Binds the instance to its VIP backend; a failure is kept as the fault it starts in. */
    private void bind(Instance inst) {
        inst.bindFault = null;
        try {
            inst.binding = vips.bind(inst.params);
        } catch (KernelException | RuntimeException e) {
            inst.binding = null;
            inst.bindFault = "VIP backend " + inst.params.vip().backend() + ": " + e.getMessage();
            KernelException k = e instanceof KernelException ke ? ke : new KernelException("bind", 0, String.valueOf(e));
            kernelError(inst, "VIP backend " + inst.params.vip().backend(), k);
        }
    }

    /** Releases the instance's VIP backend (after its addresses went down and its channel closed). */
    private void release(Instance inst) {
        VipBinding b = inst.binding;
        inst.binding = null;
        if (b != null) {
            guarded(inst, "release VIP backend", b::release);
        }
    }

    private void openChannel(Instance inst) {
        ChannelKey key = ChannelKey.of(inst.params, inst.binding);
        for (Channel c : channels) {
            if (c.key.equals(key)) {
                attach(inst, c);
                return;
            }
        }
        Channel c = new Channel(key);
        try {
            c.channel = key.ifname.equals(key.addressIfname)
                    ? transport.open(key.ifname, key.family, key.source, key.group, c.readable)
                    : transport.open(key.ifname, key.addressIfname, key.family, key.source, key.group, c.readable);
        } catch (KernelException e) {
            kernelError(inst, "open VRRP channel on " + key.ifname, e);
            inst.machine = new VrrpStateMachine(inst.config, unspecified(key.family));
            inst.appliedFaults = Set.of();
            return;
        }
        channels.add(c);
        attach(inst, c);
    }

    private void attach(Instance inst, Channel c) {
        c.byVrid[inst.params.vrid()] = inst;
        inst.chan = c;
        inst.channel = c.channel;
        inst.encodedPriority = -1;
        inst.machine = new VrrpStateMachine(inst.config, c.channel.source());
        inst.appliedFaults = Set.of();
        publishStatus(inst);
    }

    private void detach(Instance inst) {
        Channel c = inst.chan;
        if (c != null && c.byVrid[inst.params.vrid()] == inst) {
            c.byVrid[inst.params.vrid()] = null;
        }
        inst.chan = null;
        inst.channel = null;
    }

    private void closeUnusedChannels() {
        for (var it = channels.iterator(); it.hasNext(); ) {
            Channel c = it.next();
            boolean used = false;
            for (Instance i : c.byVrid) {
                if (i != null) {
                    used = true;
                    break;
                }
            }
            if (!used) {
                c.channel.close();
                it.remove();
            }
        }
    }

    private void doShutdown() {
        if (stopped) {
            return;
        }
        batch(() -> {
            for (Instance inst : instances) {
                stopInstance(inst, "shutdown");
            }
        });
        stopped = true;
        for (Channel c : channels) {
            c.channel.close();
        }
        channels.clear();
        for (Instance inst : instances) {
            release(inst);
        }
    }

    /** Shutdown event (a MASTER sends priority 0 and removes its VIPs), then every timer cancelled. */
    private void stopInstance(Instance inst, String cause) {
        if (inst.machine != null) {
            guarded(inst, cause, () -> handle(inst, new VrrpEvent.Shutdown(cause)));
        }
        for (TimerSlot t : inst.timers) {
            t.cancel();
        }
    }

    // ------------------------------------------------------------------ engine thread: reload

    private ReloadReport doReconfigure(List<InstanceParams> params, List<SyncGroupParams> syncGroups) {
        ReloadReport[] out = new ReloadReport[1];
        batch(() -> out[0] = reconfigureBatch(params, syncGroups));
        return out[0];
    }

    private ReloadReport reconfigureBatch(List<InstanceParams> params, List<SyncGroupParams> syncGroups) {
        if (stopped) {
            throw new IllegalStateException("router is shut down");
        }
        Map<String, InstanceParams> next = new LinkedHashMap<>();
        for (InstanceParams p : params) {
            next.put(p.name(), p);
        }
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        Map<String, List<String>> changed = new LinkedHashMap<>();
        List<String> restarted = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        Map<String, Instance> old = byName;

        // Removed instances stop first, so their VRIDs and addresses are free for the new ones.
        for (Instance inst : instances) {
            if (!next.containsKey(inst.params.name())) {
                removeInstance(inst, "removed by reload");
                removed.add(inst.params.name());
            }
        }
        List<Instance> list = new ArrayList<>();
        List<Instance> toStart = new ArrayList<>();
        List<Runnable> inPlace = new ArrayList<>();
        for (InstanceParams p : params) {
            Instance cur = old.get(p.name());
            if (cur == null) {
                Instance inst = new Instance(p);
                list.add(inst);
                toStart.add(inst);
                added.add(p.name());
                continue;
            }
            List<String> diff = ParamsDiff.differences(cur.params, p);
            if (diff.isEmpty()) {
                list.add(cur);
                unchanged.add(p.name());
            } else if (ParamsDiff.identityChanged(cur.params, p)) {
                removeInstance(cur, "restarted by reload: " + String.join(", ", diff));
                Instance inst = new Instance(p);
                // The trackers of the instance are the same objects; their state carries over.
                inst.trackDelta = cur.trackDelta;
                inst.trackFaults = cur.trackFaults;
                list.add(inst);
                toStart.add(inst);
                changed.put(p.name(), diff);
                restarted.add(p.name());
            } else {
                list.add(cur);
                changed.put(p.name(), diff);
                inPlace.add(() -> updateInPlace(cur, p));
            }
        }
        Map<String, Instance> names = new LinkedHashMap<>();
        for (Instance i : list) {
            names.put(i.params.name(), i);
        }
        instances = List.copyOf(list);
        byName = Collections.unmodifiableMap(names);

        List<String> groupChanges = regroup(syncGroups, names);
        groupsDirty = true;
        for (Runnable r : inPlace) {
            r.run();
        }
        // Membership may have changed the machine configuration (the owner shortcut, see class doc).
        for (Instance inst : list) {
            if (!toStart.contains(inst)) {
                MachineConfig mc = machineConfig(inst);
                if (!mc.equals(inst.config)) {
                    inst.config = mc;
                    Instance i = inst;
                    guarded(i, "reconfigure", () -> handle(i, new VrrpEvent.Reconfigure(mc)));
                }
            }
        }
        if (started) {
            removeStaleVips(toStart);
            startInstances(toStart);
            for (Group g : groups.values()) {
                syncFaults(g);
            }
            for (Instance inst : list) {
                releaseIfHeld(inst);
            }
        }
        closeUnusedChannels();
        return new ReloadReport(added, removed, changed, restarted, unchanged, groupChanges);
    }

    private void removeInstance(Instance inst, String cause) {
        stopInstance(inst, cause);
        inst.removed = true;
        detach(inst);
        publishStatus(inst);
        if (inst.binding != null && !inst.binding.advertInterface().equals(inst.params.ifname())) {
            // Its channel is on the backend's own interface, which the release may delete and a
            // restarted instance make again: the socket must not outlive it.
            closeUnusedChannels();
        }
        release(inst);
    }

    /** Rebuilds the sync groups; an instance that left a group loses its group fault. */
    private List<String> regroup(List<SyncGroupParams> syncGroups, Map<String, Instance> names) {
        List<String> changes = new ArrayList<>();
        Map<String, List<String>> before = new LinkedHashMap<>();
        for (Group g : groups.values()) {
            List<String> m = new ArrayList<>();
            for (Instance i : g.members) {
                m.add(i.params.name());
            }
            before.put(g.name, m);
        }
        Map<String, Group> kept = new HashMap<>(groups);
        groups.clear();
        for (Instance i : names.values()) {
            i.group = null;
        }
        for (SyncGroupParams sp : syncGroups) {
            Group g = kept.getOrDefault(sp.name(), new Group(sp.name()));
            g.members.clear();
            for (String m : sp.members()) {
                Instance inst = names.get(m);
                g.members.add(inst);
                inst.group = g;
            }
            groups.put(sp.name(), g);
            List<String> was = before.get(sp.name());
            if (was == null) {
                changes.add("sync group " + sp.name() + ": added " + sp.members());
            } else if (!was.equals(sp.members())) {
                changes.add("sync group " + sp.name() + ": members " + was + " -> " + sp.members());
            }
        }
        for (String name : before.keySet()) {
            if (!groups.containsKey(name)) {
                changes.add("sync group " + name + ": removed");
            }
        }
        for (Instance i : names.values()) {
            if (i.group == null && i.groupFault != null && i.machine != null && !i.removed) {
                String reason = i.groupFault;
                i.groupFault = null;
                guarded(i, "regroup", () -> handle(i, new VrrpEvent.FaultCleared(reason)));
            }
        }
        return changes;
    }

    private void updateInPlace(Instance inst, InstanceParams p) {
        guarded(inst, "reconfigure", () -> {
            List<VirtualAddress> oldVips = inst.allVips;
            inst.setParams(p);
            inst.config = machineConfig(inst);
            if (inst.machine == null) {
                return; // not started yet
            }
            handle(inst, new VrrpEvent.Reconfigure(inst.config));
            applyTracking(inst);
            if (inst.machine.state() == VrrpState.MASTER) {
                List<VirtualAddress> gone = ParamsDiff.minus(oldVips, inst.allVips);
                List<VirtualAddress> fresh = ParamsDiff.minus(inst.allVips, oldVips);
                for (VirtualAddress v : gone) {
                    removeVip(inst, v);
                }
                for (VirtualAddress v : fresh) {
                    addVip(inst, v);
                }
                int repeat = inst.params.garp().masterRepeat();
                for (VirtualAddress v : fresh) {
                    announce(inst, v, repeat);
                }
            }
        });
    }

    // ------------------------------------------------------------------ engine thread: events

    private void onLink(LinkInfo info) {
        Boolean old = linkUp.put(info.name(), info.up());
        if (stopped || old != null && old == info.up()) {
            return;
        }
        for (Instance inst : instances) {
            if (inst.machine != null && inst.params.ifname().equals(info.name())) {
                guarded(inst, "link change", () -> handle(inst,
                        info.up() ? new VrrpEvent.LinkUp(info.name()) : new VrrpEvent.LinkDown(info.name())));
            }
        }
    }

    /**
     * Takes the packets the channel has queued, on the engine thread, each timed by its kernel
     * receive time stamp where the channel has one: the master down timer runs from an advert's
     * arrival, not from when a thread got to it. At most {@link #DRAIN_BATCH} at a time, so timers
     * due in between are not held up by a flood.
     */
    private void drain(Channel c) {
        VrrpChannel channel = c.channel;
        if (channel == null) {
            return;
        }
        PacketBuffer b = c.buffer;
        int n = 0;
        try {
            while (n < DRAIN_BATCH && channel.receive(b)) {
                n++;
                if (!stopped) {
                    onPacket(c, b, scheduler.nanoTime() - b.ageNanos());
                }
            }
        } catch (KernelException e) {
            listener.onEvent(new RouterEvent.KernelError(null, "receive on " + c.key.ifname, e));
            return;
        }
        if (n == DRAIN_BATCH) {
            scheduler.execute(c.drain);
        }
    }

    private void onPacket(Channel c, PacketBuffer packet, long receivedAt) {
        byte[] payload = packet.payload();
        int length = packet.length();
        if (length < 2) {
            malformed.incrementAndGet();
            if (c.dropReported(DecodeError.TRUNCATED, receivedAt)) {
                listener.onEvent(new RouterEvent.AdvertDropped(null, DecodeError.TRUNCATED, "truncated advert: "
                        + length + " bytes (expected: at least " + VrrpCodec.HEADER_LENGTH + ")"));
            }
            return;
        }
        int vrid = payload[1] & 0xff;
        Instance inst = c.byVrid[vrid];
        InetAddress source = c.addresses.of(packet.source(), packet.addressLength());
        if (inst == null) {
            unknownVrid.incrementAndGet();
            if (c.dropReported(DecodeError.UNKNOWN_VRID, receivedAt)) {
                listener.onEvent(new RouterEvent.AdvertDropped(null, DecodeError.UNKNOWN_VRID, "unknown vrid " + vrid
                        + " on " + c.key.ifname + " from " + source.getHostAddress()));
            }
            return;
        }
        if (source.equals(c.channel.source())) {
            return; // our own advert looped back
        }
        InetAddress destination = c.addresses.of(packet.destination(), packet.addressLength());
        try {
            receive(inst, payload, length, source, destination, packet.ttl(), receivedAt);
        } catch (RuntimeException e) {
            listener.onEvent(new RouterEvent.InternalError(inst.params.name(), "advert", e));
        }
    }

    private void receive(Instance inst, byte[] payload, int length, InetAddress source, InetAddress destination,
                         int ttl, long receivedAt) {
        ReceiveValidator.Checked checked = inst.checked;
        if (!inst.validator.check(payload, length, source, destination, ttl, checked)) {
            DecodeError kind = checked.error();
            inst.counters.incrementAndGet(C_DROPS + kind.ordinal());
            if (inst.dropReported(kind, receivedAt)) {
                listener.onEvent(new RouterEvent.AdvertDropped(inst.params.name(), kind,
                        checked.message() + " from " + source.getHostAddress()));
            }
            return;
        }
        inst.counters.incrementAndGet(C_RECEIVED);
        if (checked.priority() == 0) {
            inst.counters.incrementAndGet(C_PRIO0_RECEIVED);
        }
        if (!checked.addressesMatch()) {
            inst.counters.incrementAndGet(C_ADDRESS_LIST);
            if (inst.dropReported(DecodeError.ADDRESS_MISMATCH, receivedAt)) {
                listener.onEvent(new RouterEvent.AddressListMismatch(inst.params.name(),
                        inst.validator.addressMismatchMessage(Arrays.copyOf(payload, length), source, destination)
                                + " from " + source.getHostAddress()));
            }
        }
        // The machine's advert entry point: no event object per advert.
        apply(inst, inst.machine.advert(checked.priority(), checked.advertIntervalNanos(), source, receivedAt),
                receivedAt, null);
    }

    private void onTimer(TimerSlot slot) {
        Instance inst = slot.inst;
        if (stopped || !slot.armed || inst.removed) {
            return;
        }
        if (slot.kind == TimerKind.MASTER_DOWN && inst.chan != null) {
            // Adverts that reached the kernel before the deadline but not yet the engine (its
            // receiver thread starved on a busy machine) count, timed by their receive stamps: a
            // master that did advertise is not declared down.
            drain(inst.chan);
            if (stopped || !slot.armed || inst.removed) {
                return;
            }
        }
        if (scheduler.nanoTime() - slot.deadline < 0) {
            slot.alarm.armAt(slot.deadline);
            return;
        }
        slot.armed = false;
        try {
            if (slot.kind == TimerKind.MASTER_DOWN && inst.group != null && inst.machine.state() == VrrpState.BACKUP) {
                batch(() -> masterDownInGroup(inst));
            } else {
                handle(inst, TIMER_EVENTS[slot.kind.ordinal()]);
            }
        } catch (RuntimeException e) {
            listener.onEvent(new RouterEvent.InternalError(inst.params.name(), slot.kind + " timer", e));
        }
    }

    /** keepalived vrrp_sync_can_goto_master: MASTER only together with every other member. */
    private void masterDownInGroup(Instance inst) {
        Group g = inst.group;
        if (!canGoMaster(inst)) {
            inst.wantsMaster = true;
            return;
        }
        handle(inst, TIMER_EVENTS[TimerKind.MASTER_DOWN.ordinal()]);
        String cause = "sync group " + g.name + " going MASTER with " + inst.params.name();
        for (Instance m : List.copyOf(g.members)) {
            if (m != inst && m.wantsMaster && m.machine.state() == VrrpState.BACKUP) {
                handle(m, new VrrpEvent.SyncMaster(cause));
            }
        }
    }

    private boolean canGoMaster(Instance inst) {
        for (Instance m : inst.group.members) {
            if (m == inst || m.machine == null) {
                continue;
            }
            VrrpState s = m.machine.state();
            if (s != VrrpState.MASTER && !(s == VrrpState.BACKUP && m.wantsMaster)) {
                return false;
            }
        }
        return true;
    }

    /** A member held at BACKUP whose group no longer holds it (a reload) goes on as its timer said. */
    private void releaseIfHeld(Instance inst) {
        if (!inst.wantsMaster || inst.removed || inst.machine == null || inst.machine.state() != VrrpState.BACKUP) {
            return;
        }
        if (inst.group == null) {
            inst.wantsMaster = false;
            guarded(inst, "release", () -> handle(inst, TIMER_EVENTS[TimerKind.MASTER_DOWN.ordinal()]));
        } else if (canGoMaster(inst)) {
            guarded(inst, "release", () -> batch(() -> masterDownInGroup(inst)));
        }
    }

    // ------------------------------------------------------------------ warm-up

    /** Sink for warm-up results, so the work cannot be optimised away. */
    private int warmUpSink;

    /** One scratch take-over of {@code inst}: see {@link #warmUp(int)}. */
    private void warmUpInstance(Instance inst) {
        InstanceParams p = inst.params;
        InetAddress self = p.sourceAddress() != null ? p.sourceAddress() : documentationAddress(p.family(), 1);
        InetAddress peer = documentationAddress(p.family(), 2);
        VrrpStateMachine m = new VrrpStateMachine(inst.config, self);
        long interval = p.advertInterval().toNanos();
        long now = 0;
        warmUpStep(inst, m, new VrrpEvent.Startup(), now, self);
        if (m.state() == VrrpState.BACKUP) {
            int higher = Math.min(255, m.effectivePriority() + 1);
            warmUpStep(inst, m, new VrrpEvent.AdvertReceived(higher, interval, peer), now += interval, self);
            warmUpStep(inst, m, TIMER_EVENTS[TimerKind.MASTER_DOWN.ordinal()], now += 4 * interval, self);
        }
        if (m.state() == VrrpState.MASTER) {
            warmUpStep(inst, m, TIMER_EVENTS[TimerKind.ADVERT.ordinal()], now += interval, self);
            warmUpStep(inst, m, new VrrpEvent.AdvertReceived(0, interval, peer), now += 1, self);
            if (m.effectivePriority() < 255) {
                warmUpStep(inst, m, new VrrpEvent.AdvertReceived(255, interval, peer), now += 1, self);
            }
        }
        warmUpStep(inst, m, new VrrpEvent.Shutdown(), now + 1, self);
    }

    /** What {@link #apply} does with each action, on scratch values only. */
    private void warmUpStep(Instance inst, VrrpStateMachine m, VrrpEvent event, long now, InetAddress self) {
        List<VrrpAction> actions = m.handle(event, now);
        int sink = 0;
        for (int i = 0, n = actions.size(); i < n; i++) {
            switch (actions.get(i)) {
                case VrrpAction.SendAdvert(int priority) -> {
                    var template = inst.params.advertTemplate().withPriority(priority);
                    for (InetAddress dst : inst.destinations) {
                        sink += VrrpCodec.encode(template, self, dst, inst.params.checksumMode()).length;
                    }
                }
                case VrrpAction.AddVips a -> sink += inst.allVips.size();
                case VrrpAction.RemoveVips r -> sink += inst.allVips.size();
                case VrrpAction.AnnounceVips(int repeat) -> {
                    for (VirtualAddress v : inst.allVips) {
                        sink += v.address() instanceof Inet4Address ? repeat : -repeat;
                    }
                }
                case VrrpAction.ArmTimer(TimerKind kind, long delay) -> sink += (int) (now + delay) + kind.ordinal();
                case VrrpAction.CancelTimer(TimerKind kind) -> sink += kind.ordinal();
                case VrrpAction.Transition(VrrpState from, VrrpState to, String cause) ->
                        sink += new RouterEvent.Transitioned(inst.params.name(), from, to, cause).describe().length();
                case VrrpAction.AdvertIgnored ignored -> sink++;
            }
        }
        InstanceStatus s = new InstanceStatus(inst.params.name(), m.state(), inst.params.priority(),
                m.effectivePriority(), m.masterAddress(), m.masterPriority(), self);
        warmUpSink += sink + s.hashCode();
    }

    /** An address of the documentation ranges (RFC 5737 192.0.2.0/24, RFC 3849 2001:db8::/32). */
    private static InetAddress documentationAddress(AddressFamily family, int host) {
        byte[] raw = family == AddressFamily.INET ? new byte[]{(byte) 192, 0, 2, (byte) host}
                : new byte[]{0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) host};
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ tracking

    private int effectivePriority(Instance inst) {
        int base = inst.params.priority();
        return base == MachineConfig.OWNER_PRIORITY ? base : Math.clamp((long) base + inst.trackDelta, 1, 254);
    }

    /** Brings the machine to the instance's tracker state: priority first, then faults. */
    private void applyTracking(Instance inst) {
        int effective = effectivePriority(inst);
        int old = inst.machine.effectivePriority();
        if (effective != old) {
            listener.onEvent(new RouterEvent.PriorityChanged(inst.params.name(), old, effective));
            handle(inst, new VrrpEvent.PriorityChanged(effective));
        }
        Set<String> want = inst.trackFaults;
        Set<String> have = inst.appliedFaults;
        if (want.equals(have)) {
            return;
        }
        inst.appliedFaults = want;
        for (String f : have) {
            if (!want.contains(f)) {
                handle(inst, new VrrpEvent.FaultCleared(f));
            }
        }
        for (String f : want) {
            if (!have.contains(f)) {
                handle(inst, new VrrpEvent.FaultRaised(f));
            }
        }
    }

    // ------------------------------------------------------------------ sync groups

    /** Faults of the member's own (tracking, link, channel), not the one its group put on it. */
    private static boolean hasOwnFault(Instance m) {
        return m.machine != null && m.machine.faults().size() > (m.groupFault != null ? 1 : 0);
    }

    /** Holds every member in FAULT while another member has a fault of its own. */
    private void syncFaults(Group g) {
        for (Instance m : List.copyOf(g.members)) {
            if (m.machine == null || m.removed) {
                continue;
            }
            Instance faulty = null;
            for (Instance o : g.members) {
                if (o != m && hasOwnFault(o)) {
                    faulty = o;
                    break;
                }
            }
            if (faulty != null && m.groupFault == null) {
                m.groupFault = "sync group " + g.name + " member " + faulty.params.name() + " in FAULT";
                handle(m, new VrrpEvent.FaultRaised(m.groupFault));
            } else if (faulty == null && m.groupFault != null) {
                String reason = m.groupFault;
                m.groupFault = null;
                handle(m, new VrrpEvent.FaultCleared(reason));
            }
        }
    }

    /**
     * Runs {@code body} as one step for the sync groups: their reactions run and their states are
     * reported once, after it.
     */
    private void batch(Runnable body) {
        batch++;
        try {
            body.run();
        } finally {
            batch--;
        }
        if (batch == 0) {
            settle();
        }
    }

    /** Runs the group reactions queued by {@link #handle}, then reports group state changes. */
    private void settle() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            Runnable r;
            while ((r = groupWork.poll()) != null) {
                r.run();
            }
        } finally {
            draining = false;
        }
        evaluateGroups();
    }

    private void evaluateGroups() {
        if (!groupsDirty) {
            return;
        }
        groupsDirty = false;
        boolean any = false;
        for (Group g : groups.values()) {
            VrrpState now = groupState(g);
            if (now != g.state) {
                VrrpState from = g.state;
                g.state = now;
                any = true;
                String why = g.cause != null ? g.cause : "sync group membership changed";
                listener.onEvent(new RouterEvent.GroupTransitioned(g.name, from, now, why));
            }
            g.cause = null;
        }
        if (any || groupStates.size() != groups.size() || !groupStates.keySet().equals(groups.keySet())) {
            publishGroupStates();
        }
    }

    private static VrrpState groupState(Group g) {
        boolean allMaster = true;
        boolean anyInit = false;
        for (Instance m : g.members) {
            VrrpState s = m.machine == null ? VrrpState.INIT : m.machine.state();
            if (s == VrrpState.FAULT) {
                return VrrpState.FAULT;
            }
            anyInit |= s == VrrpState.INIT;
            allMaster &= s == VrrpState.MASTER;
        }
        return anyInit ? VrrpState.INIT : allMaster ? VrrpState.MASTER : VrrpState.BACKUP;
    }

    private void publishGroupStates() {
        Map<String, VrrpState> out = new LinkedHashMap<>();
        for (Group g : groups.values()) {
            out.put(g.name, g.state);
        }
        groupStates = Collections.unmodifiableMap(out);
    }

    /** What a member's transition does to the rest of its group (keepalived vrrp_sync.c). */
    private void groupReaction(Instance inst, VrrpState from, VrrpState to, String cause) {
        Group g = inst.group;
        if (g == null || inst.removed) {
            return;
        }
        if (g.cause == null) {
            g.cause = inst.params.name() + " " + from + " -> " + to + ": " + cause;
        }
        if (from == VrrpState.MASTER && to == VrrpState.BACKUP) {
            String why = "sync group " + g.name + ": " + inst.params.name() + " left MASTER";
            for (Instance m : List.copyOf(g.members)) {
                if (m != inst && m.machine != null && m.machine.state() == VrrpState.MASTER) {
                    handle(m, new VrrpEvent.SyncBackup(why));
                }
            }
        }
        if (to == VrrpState.FAULT || from == VrrpState.FAULT) {
            syncFaults(g);
        }
    }

    // ------------------------------------------------------------------ actions

    private void handle(Instance inst, VrrpEvent event) {
        handle(inst, event, scheduler.nanoTime());
    }

    /**
     * Feeds {@code event}, which happened at {@code now}, to the instance's machine and applies its
     * actions; timers it arms run from {@code now} (for an advert, its receive time).
     */
    private void handle(Instance inst, VrrpEvent event, long now) {
        apply(inst, inst.machine.handle(event, now), now, event);
    }

    /** Applies the actions the machine returned for {@code event} ({@code null} for an advert). */
    private void apply(Instance inst, List<VrrpAction> actions, long now, VrrpEvent event) {
        for (int i = 0, n = actions.size(); i < n; i++) {
            apply(inst, actions.get(i), now);
        }
        publishStatus(inst);
        if (inst.group != null) {
            if (event instanceof VrrpEvent.FaultRaised || event instanceof VrrpEvent.FaultCleared
                    || event instanceof VrrpEvent.LinkDown || event instanceof VrrpEvent.LinkUp) {
                Group g = inst.group;
                groupWork.add(() -> syncFaults(g));
            }
            if (batch == 0) {
                settle();
            }
        }
    }

    private void apply(Instance inst, VrrpAction action, long now) {
        switch (action) {
            case VrrpAction.SendAdvert(int priority) -> sendAdvert(inst, priority);
            case VrrpAction.AddVips a -> {
                for (VirtualAddress v : inst.allVips) {
                    addVip(inst, v);
                }
            }
            case VrrpAction.RemoveVips r -> {
                for (VirtualAddress v : inst.allVips) {
                    removeVip(inst, v);
                }
            }
            case VrrpAction.AnnounceVips(int repeat) -> {
                for (VirtualAddress v : inst.allVips) {
                    announce(inst, v, repeat);
                }
            }
            case VrrpAction.ArmTimer(TimerKind kind, long delay) -> {
                if (kind == TimerKind.MASTER_DOWN) {
                    inst.wantsMaster = false;
                }
                inst.timers[kind.ordinal()].arm(now, delay);
            }
            case VrrpAction.CancelTimer(TimerKind kind) -> inst.timers[kind.ordinal()].cancel();
            case VrrpAction.Transition(VrrpState from, VrrpState to, String cause) -> {
                inst.wantsMaster = false;
                inst.counters.incrementAndGet(C_TRANSITIONS);
                if (to == VrrpState.MASTER) {
                    inst.counters.incrementAndGet(C_BECAME_MASTER);
                }
                publishStatus(inst);
                listener.onEvent(new RouterEvent.Transitioned(inst.params.name(), from, to, cause));
                if (inst.group != null) {
                    groupsDirty = true;
                    groupWork.add(() -> groupReaction(inst, from, to, cause));
                }
            }
            case VrrpAction.AdvertIgnored i -> inst.counters.incrementAndGet(C_IGNORED);
        }
    }

    private void addVip(Instance inst, VirtualAddress v) {
        VipBinding b = inst.binding;
        if (b == null) {
            return;
        }
        try {
            b.add(v);
        } catch (KernelException e) {
            kernelError(inst, "add " + v, e);
        }
    }

    private void removeVip(Instance inst, VirtualAddress v) {
        VipBinding b = inst.binding;
        if (b == null) {
            return;
        }
        try {
            b.remove(v);
        } catch (KernelException e) {
            kernelError(inst, "remove " + v, e);
        }
    }

    private void sendAdvert(Instance inst, int priority) {
        if (inst.channel == null) {
            return;
        }
        if (inst.encodedPriority != priority) {
            inst.encode(priority);
        }
        InetAddress[] dst = inst.destinations;
        for (int i = 0; i < dst.length; i++) {
            try {
                // The channel copies the bytes before send returns, so the encoding is reused.
                inst.channel.send(dst[i], inst.encoded[i]);
                inst.counters.incrementAndGet(C_SENT);
                if (priority == 0) {
                    inst.counters.incrementAndGet(C_PRIO0_SENT);
                }
            } catch (KernelException e) {
                kernelError(inst, "send advert to " + dst[i].getHostAddress(), e);
            }
        }
    }

    private void announce(Instance inst, VirtualAddress v, int repeat) {
        VipBinding b = inst.binding;
        if (b == null) {
            return;
        }
        for (int i = 0; i < repeat; i++) {
            try {
                b.announce(v);
            } catch (KernelException e) {
                kernelError(inst, "announce " + v.address().getHostAddress() + " on " + v.ifname(), e);
                break;
            }
        }
    }

    private void kernelError(Instance inst, String action, KernelException e) {
        if (inst != null) {
            inst.counters.incrementAndGet(C_KERNEL_ERRORS);
        }
        listener.onEvent(new RouterEvent.KernelError(inst == null ? null : inst.params.name(), action, e));
    }

    private void guarded(Instance inst, String during, Runnable body) {
        try {
            body.run();
        } catch (RuntimeException e) {
            listener.onEvent(new RouterEvent.InternalError(inst == null ? null : inst.params.name(), during, e));
        }
    }

    private void publishStatus(Instance inst) {
        VrrpStateMachine m = inst.machine;
        if (m == null) {
            return;
        }
        InstanceStatus old = inst.status;
        InetAddress source = inst.channel == null ? null : inst.channel.source();
        if (old.state() == m.state() && old.effectivePriority() == m.effectivePriority()
                && old.basePriority() == inst.params.priority()
                && Objects.equals(old.masterAddress(), m.masterAddress()) && old.masterPriority() == m.masterPriority()
                && Objects.equals(old.sourceAddress(), source)) {
            return;
        }
        inst.status = new InstanceStatus(inst.params.name(), m.state(), inst.params.priority(), m.effectivePriority(),
                m.masterAddress(), m.masterPriority(), source);
    }

    private <T> T onEngine(Supplier<T> task, Duration timeout) {
        if (scheduler.inEngineThread()) {
            return task.get();
        }
        CompletableFuture<T> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            try {
                done.complete(task.get());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            return done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("engine task failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("engine task did not finish within " + timeout);
        }
    }

    private Instance instance(String name) {
        Instance inst = byName.get(name);
        if (inst == null) {
            throw new IllegalArgumentException("unknown instance: " + name + " (expected: one of " + byName.keySet() + ")");
        }
        return inst;
    }

    /** The machine configuration: a sync group member never takes the owner's shortcut to MASTER. */
    private static MachineConfig machineConfig(Instance inst) {
        MachineConfig mc = inst.params.toMachineConfig();
        return inst.group != null && mc.initialState() != VrrpState.BACKUP ? mc.withInitialState(VrrpState.BACKUP) : mc;
    }

    private static InetAddress unspecified(AddressFamily family) {
        try {
            return InetAddress.getByAddress(new byte[family == AddressFamily.INET ? 4 : 16]);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ state

    /**
     * What a channel is shared on: the interface its sockets are bound to (the backend's advert
     * interface), the interface whose address is the default source, family, source and group.
     */
    private record ChannelKey(String ifname, String addressIfname, AddressFamily family, InetAddress source,
                              InetAddress group) {
        static ChannelKey of(InstanceParams p) {
            return new ChannelKey(p.ifname(), p.ifname(), p.family(), p.sourceAddress(), p.effectiveGroup());
        }

        static ChannelKey of(InstanceParams p, VipBinding binding) {
            String on = binding == null ? p.ifname() : binding.advertInterface();
            return new ChannelKey(on, p.ifname(), p.family(), p.sourceAddress(), p.effectiveGroup());
        }
    }

    private final class Channel {
        final ChannelKey key;
        final Instance[] byVrid = new Instance[256];
        final PacketBuffer buffer = new PacketBuffer();
        final AddressCache addresses = new AddressCache();
        final DropReports drops = new DropReports();
        /** Made once: the channel's drain, and its readable callback that queues it. */
        final Runnable drain = () -> drain(this);
        final Runnable readable = () -> scheduler.execute(drain);
        VrrpChannel channel;

        Channel(ChannelKey key) {
            this.key = key;
        }

        boolean dropReported(DecodeError kind, long now) {
            return drops.allow(kind, now);
        }
    }

    private static final class Group {
        final String name;
        final List<Instance> members = new ArrayList<>();
        VrrpState state = VrrpState.INIT;
        String cause;

        Group(String name) {
            this.name = name;
        }
    }

    /**
     * One timer of one instance, on one {@link Scheduler.Alarm} for its whole life: a BACKUP that
     * hears its master re-arms it every advert without allocating.
     */
    private final class TimerSlot implements Runnable {
        final Instance inst;
        final TimerKind kind;
        final Scheduler.Alarm alarm;
        long deadline;
        boolean armed;

        TimerSlot(Instance inst, TimerKind kind) {
            this.inst = inst;
            this.kind = kind;
            this.alarm = scheduler.alarm(this);
        }

        /** Arms the timer to fire {@code delayNanos} after {@code from} (the time of the event that armed it). */
        void arm(long from, long delayNanos) {
            deadline = from + delayNanos;
            armed = true;
            alarm.armAt(deadline);
        }

        void cancel() {
            armed = false;
            alarm.cancel();
        }

        @Override
        public void run() {
            onTimer(this);
        }
    }

    private final class Instance {
        InstanceParams params;
        MachineConfig config;
        ReceiveValidator validator;
        List<VirtualAddress> allVips;
        InetAddress[] destinations = new InetAddress[0];
        byte[][] encoded = new byte[0][];
        int encodedPriority = -1;
        final TimerSlot[] timers = new TimerSlot[TIMER_KINDS.length];
        final AtomicLongArray counters = new AtomicLongArray(C_DROPS + DROP_REASONS.length);
        final ReceiveValidator.Checked checked = new ReceiveValidator.Checked();
        final DropReports drops = new DropReports();

        boolean dropReported(DecodeError kind, long now) {
            return drops.allow(kind, now);
        }
        VrrpStateMachine machine;
        VrrpChannel channel;
        Channel chan;
        VipBinding binding;
        String bindFault;
        Group group;
        int trackDelta;
        Set<String> trackFaults = Set.of();
        Set<String> appliedFaults = Set.of();
        String groupFault;
        boolean wantsMaster;
        boolean removed;
        volatile InstanceStatus status;

        Instance(InstanceParams params) {
            for (TimerKind k : TIMER_KINDS) {
                timers[k.ordinal()] = new TimerSlot(this, k);
            }
            setParams(params);
            this.config = params.toMachineConfig();
            this.status = new InstanceStatus(params.name(), VrrpState.INIT, params.priority(), params.priority(),
                    null, 0, null);
        }

        void setParams(InstanceParams p) {
            this.params = p;
            this.validator = new ReceiveValidator(p.expectations());
            List<VirtualAddress> all = new ArrayList<>(p.vips());
            all.addAll(p.excludedVips());
            this.allVips = List.copyOf(all);
            InetAddress group = p.effectiveGroup();
            this.destinations = group != null ? new InetAddress[]{group} : p.unicastPeers().toArray(new InetAddress[0]);
            this.encodedPriority = -1;
        }

        /** Encodes the advert with {@code priority} once per destination (the checksum depends on it). */
        void encode(int priority) {
            var template = params.advertTemplate().withPriority(priority);
            InetAddress src = channel.source();
            byte[][] out = new byte[destinations.length][];
            for (int i = 0; i < destinations.length; i++) {
                out[i] = VrrpCodec.encode(template, src, destinations[i], params.checksumMode());
            }
            encoded = out;
            encodedPriority = priority;
        }
    }
}
