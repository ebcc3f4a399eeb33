package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkMonitor;
import dev.vigil.kernel.NeighbourAdvertiser;
import dev.vigil.kernel.ReceivedPacket;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.kernel.VrrpChannel;
import dev.vigil.kernel.VrrpTransport;
import dev.vigil.vrrp.codec.DecodeError;
import dev.vigil.vrrp.codec.DecodeResult;
import dev.vigil.vrrp.codec.ReceiveValidator;
import dev.vigil.vrrp.codec.VrrpAdvert;
import dev.vigil.vrrp.codec.VrrpCodec;
import dev.vigil.vrrp.fsm.MachineConfig;
import dev.vigil.vrrp.fsm.TimerKind;
import dev.vigil.vrrp.fsm.VrrpAction;
import dev.vigil.vrrp.fsm.VrrpEvent;
import dev.vigil.vrrp.fsm.VrrpState;
import dev.vigil.vrrp.fsm.VrrpStateMachine;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Runs VRRP instances on one engine thread (the {@link Scheduler}'s).
 *
 * <p>{@link #start()} removes configured VIPs left on the interfaces (a crash restart leaves none
 * behind), reads the link states, opens one {@link VrrpChannel} per (interface, family, source,
 * group) and starts every instance. Received packets are demultiplexed by VRID, checked by the
 * instance's {@link ReceiveValidator} and fed to its {@link VrrpStateMachine}; the actions it
 * returns are applied through the ports. Transport and link callbacks only enqueue onto the engine
 * thread. A failing kernel call is reported as a {@link RouterEvent.KernelError} and the engine goes
 * on. {@link #shutdown(Duration)} makes every MASTER send priority 0 and remove its VIPs.
 *
 * <p>{@link #status()} and {@link #counters(String)} read snapshots and may be called from any thread.
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

    private final List<Instance> instances = new ArrayList<>();
    private final Map<String, Instance> byName = new LinkedHashMap<>();
    private final VrrpTransport transport;
    private final AddressManager addressManager;
    private final NeighbourAdvertiser advertiser;
    private final LinkMonitor linkMonitor;
    private final Scheduler scheduler;
    private final RouterListener listener;
    private final List<Channel> channels = new ArrayList<>();
    private final AtomicLong unknownVrid = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final Map<String, Boolean> linkUp = new HashMap<>();
    private boolean started;
    private boolean stopped;

    /** The ports the router drives. */
    public record Ports(VrrpTransport transport, AddressManager addresses, NeighbourAdvertiser advertiser,
                        LinkMonitor links) {
        public Ports {
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(addresses, "addresses");
            Objects.requireNonNull(advertiser, "advertiser");
            Objects.requireNonNull(links, "links");
        }
    }

    /**
     * @throws IllegalArgumentException on duplicate names, or two instances with one VRID on one channel
     */
    public VrrpRouter(List<InstanceParams> params, Ports ports, Scheduler scheduler, RouterListener listener) {
        this.transport = ports.transport();
        this.addressManager = ports.addresses();
        this.advertiser = ports.advertiser();
        this.linkMonitor = ports.links();
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.listener = Objects.requireNonNull(listener, "listener");
        Map<ChannelKey, Map<Integer, String>> vrids = new HashMap<>();
        for (InstanceParams p : params) {
            if (byName.containsKey(p.name())) {
                throw new IllegalArgumentException("duplicate instance name: " + p.name());
            }
            String clash = vrids.computeIfAbsent(ChannelKey.of(p), k -> new HashMap<>()).putIfAbsent(p.vrid(), p.name());
            if (clash != null) {
                throw new IllegalArgumentException("duplicate vrid " + p.vrid() + " on " + p.ifname() + " "
                        + p.family() + ": " + clash + ", " + p.name());
            }
            Instance inst = new Instance(p);
            instances.add(inst);
            byName.put(p.name(), inst);
        }
    }

    // ------------------------------------------------------------------ public API

    /** Starts every instance; blocks until done (at most 10 s) unless called on the engine thread. */
    public void start() {
        onEngine(this::doStart, Duration.ofSeconds(10));
    }

    /**
     * Stops every instance: MASTERs send priority 0 and remove their VIPs; channels are closed.
     * Blocks until done or {@code timeout} passed, unless called on the engine thread.
     */
    public void shutdown(Duration timeout) {
        onEngine(this::doShutdown, timeout);
    }

    /**
     * Adds {@code delta} to the instance's priority adjustment (tracker weights). The effective
     * priority is the base plus the total adjustment, kept within 1..254; an owner (255) stays 255.
     */
    public void adjustPriority(String instance, int delta) {
        Instance inst = instance(instance);
        scheduler.execute(() -> guarded(inst, "adjustPriority", () -> {
            inst.priorityDelta += delta;
            applyPriority(inst);
        }));
    }

    /** Holds the instance in FAULT for {@code reason} (a weight-0 tracker, a sync group) until cleared. */
    public void raiseFault(String instance, String reason) {
        Instance inst = instance(instance);
        scheduler.execute(() -> guarded(inst, "raiseFault", () -> handle(inst, new VrrpEvent.FaultRaised(reason))));
    }

    /** Clears a fault raised with {@link #raiseFault}. */
    public void clearFault(String instance, String reason) {
        Instance inst = instance(instance);
        scheduler.execute(() -> guarded(inst, "clearFault", () -> handle(inst, new VrrpEvent.FaultCleared(reason))));
    }

    /** Snapshots of every instance, in configuration order. */
    public List<InstanceStatus> status() {
        List<InstanceStatus> out = new ArrayList<>(instances.size());
        for (Instance i : instances) {
            out.add(i.status);
        }
        return out;
    }

    /** Snapshot of one instance. */
    public InstanceStatus status(String instance) {
        return instance(instance).status;
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

    // ------------------------------------------------------------------ engine thread

    private void doStart() {
        if (started) {
            return;
        }
        started = true;
        removeStaleVips();
        readLinks();
        for (Instance inst : instances) {
            openChannel(inst);
        }
        for (Instance inst : instances) {
            guarded(inst, "startup", () -> {
                if (!linkUp.getOrDefault(inst.params.ifname(), false)) {
                    handle(inst, new VrrpEvent.LinkDown(inst.params.ifname()));
                }
                if (inst.channel == null) {
                    handle(inst, new VrrpEvent.FaultRaised("no VRRP channel"));
                }
                handle(inst, new VrrpEvent.Startup());
            });
        }
    }

    private void removeStaleVips() {
        List<InterfaceAddress> present;
        try {
            present = addressManager.addresses();
        } catch (KernelException e) {
            listener.onEvent(new RouterEvent.KernelError(null, "list addresses", e));
            return;
        }
        for (Instance inst : instances) {
            for (VirtualAddress vip : inst.allVips) {
                boolean found = false;
                for (InterfaceAddress a : present) {
                    if (a.ifname().equals(vip.ifname()) && a.address().equals(vip.address())) {
                        found = true;
                        break;
                    }
                }
                if (!found) {
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

    private void openChannel(Instance inst) {
        ChannelKey key = ChannelKey.of(inst.params);
        for (Channel c : channels) {
            if (c.key.equals(key)) {
                attach(inst, c);
                return;
            }
        }
        Channel c = new Channel(key);
        try {
            c.channel = transport.open(key.ifname, key.family, key.source, key.group,
                    packet -> scheduler.execute(() -> onPacket(c, packet)));
        } catch (KernelException e) {
            kernelError(inst, "open VRRP channel on " + key.ifname, e);
            inst.machine = new VrrpStateMachine(inst.config, unspecified(key.family));
            return;
        }
        channels.add(c);
        attach(inst, c);
    }

    private void attach(Instance inst, Channel c) {
        c.byVrid[inst.params.vrid()] = inst;
        inst.channel = c.channel;
        inst.machine = new VrrpStateMachine(inst.config, c.channel.source());
        publishStatus(inst);
    }

    private void doShutdown() {
        if (stopped) {
            return;
        }
        stopped = true;
        for (Instance inst : instances) {
            guarded(inst, "shutdown", () -> handle(inst, new VrrpEvent.Shutdown()));
            for (TimerKind k : TimerKind.values()) {
                cancelTimer(inst, k);
            }
        }
        for (Channel c : channels) {
            c.channel.close();
        }
    }

    private void onLink(LinkInfo info) {
        Boolean old = linkUp.put(info.name(), info.up());
        if (stopped || old != null && old == info.up()) {
            return;
        }
        for (Instance inst : instances) {
            if (inst.params.ifname().equals(info.name())) {
                guarded(inst, "link change", () -> handle(inst,
                        info.up() ? new VrrpEvent.LinkUp(info.name()) : new VrrpEvent.LinkDown(info.name())));
            }
        }
    }

    private void onPacket(Channel c, ReceivedPacket packet) {
        if (stopped) {
            return;
        }
        byte[] payload = packet.payload();
        if (payload.length < 2) {
            malformed.incrementAndGet();
            listener.onEvent(new RouterEvent.AdvertDropped(null, DecodeError.TRUNCATED, "truncated advert: "
                    + payload.length + " bytes (expected: at least " + VrrpCodec.HEADER_LENGTH + ")"));
            return;
        }
        int vrid = payload[1] & 0xff;
        Instance inst = c.byVrid[vrid];
        if (inst == null) {
            unknownVrid.incrementAndGet();
            listener.onEvent(new RouterEvent.AdvertDropped(null, DecodeError.UNKNOWN_VRID, "unknown vrid " + vrid
                    + " on " + packet.ifname() + " from " + packet.source().getHostAddress()));
            return;
        }
        if (packet.source().equals(c.channel.source())) {
            return; // our own advert looped back
        }
        guarded(inst, "advert", () -> receive(inst, packet));
    }

    private void receive(Instance inst, ReceivedPacket packet) {
        DecodeResult result = inst.validator.validate(packet.payload(), packet.source(), packet.destination(), packet.ttl());
        switch (result) {
            case DecodeResult.Error(DecodeError kind, String message) -> {
                inst.counters.incrementAndGet(C_DROPS + kind.ordinal());
                listener.onEvent(new RouterEvent.AdvertDropped(inst.params.name(), kind,
                        message + " from " + packet.source().getHostAddress()));
            }
            case DecodeResult.Ok(VrrpAdvert advert) -> {
                inst.counters.incrementAndGet(C_RECEIVED);
                if (advert.priority() == 0) {
                    inst.counters.incrementAndGet(C_PRIO0_RECEIVED);
                }
                if (!inst.validator.addressesMatch(advert)) {
                    inst.counters.incrementAndGet(C_ADDRESS_LIST);
                    listener.onEvent(new RouterEvent.AddressListMismatch(inst.params.name(),
                            inst.validator.addressMismatchMessage(advert) + " from " + packet.source().getHostAddress()));
                }
                handle(inst, new VrrpEvent.AdvertReceived(advert, packet.source()));
            }
        }
    }

    private void onTimer(Instance inst, TimerKind kind, long generation) {
        if (stopped || inst.timerGeneration[kind.ordinal()] != generation) {
            return;
        }
        inst.timers.remove(kind);
        guarded(inst, kind + " timer", () -> handle(inst, VrrpEvent.timerExpired(kind)));
    }

    private void applyPriority(Instance inst) {
        int base = inst.params.priority();
        int effective = base == MachineConfig.OWNER_PRIORITY ? base
                : Math.clamp((long) base + inst.priorityDelta, 1, 254);
        int old = inst.machine.effectivePriority();
        if (effective == old) {
            return;
        }
        listener.onEvent(new RouterEvent.PriorityChanged(inst.params.name(), old, effective));
        handle(inst, new VrrpEvent.PriorityChanged(effective));
    }

    private void handle(Instance inst, VrrpEvent event) {
        List<VrrpAction> actions = inst.machine.handle(event, scheduler.nanoTime());
        for (VrrpAction action : actions) {
            apply(inst, action);
        }
        publishStatus(inst);
    }

    private void apply(Instance inst, VrrpAction action) {
        switch (action) {
            case VrrpAction.SendAdvert(int priority) -> sendAdvert(inst, priority);
            case VrrpAction.AddVips a -> {
                for (VirtualAddress v : inst.allVips) {
                    try {
                        addressManager.add(v);
                    } catch (KernelException e) {
                        kernelError(inst, "add " + v, e);
                    }
                }
            }
            case VrrpAction.RemoveVips r -> {
                for (VirtualAddress v : inst.allVips) {
                    try {
                        addressManager.remove(v);
                    } catch (KernelException e) {
                        kernelError(inst, "remove " + v, e);
                    }
                }
            }
            case VrrpAction.AnnounceVips(int repeat) -> announce(inst, repeat);
            case VrrpAction.ArmTimer(TimerKind kind, long delay) -> armTimer(inst, kind, delay);
            case VrrpAction.CancelTimer(TimerKind kind) -> cancelTimer(inst, kind);
            case VrrpAction.Transition(VrrpState from, VrrpState to, String cause) -> {
                inst.counters.incrementAndGet(C_TRANSITIONS);
                if (to == VrrpState.MASTER) {
                    inst.counters.incrementAndGet(C_BECAME_MASTER);
                }
                publishStatus(inst);
                listener.onEvent(new RouterEvent.Transitioned(inst.params.name(), from, to, cause));
            }
            case VrrpAction.AdvertIgnored i -> inst.counters.incrementAndGet(C_IGNORED);
        }
    }

    private void sendAdvert(Instance inst, int priority) {
        if (inst.channel == null) {
            return;
        }
        inst.template = inst.template.withPriority(priority);
        InetAddress src = inst.channel.source();
        InetAddress group = inst.params.effectiveGroup();
        if (group != null) {
            sendTo(inst, src, group, priority);
        } else {
            for (InetAddress peer : inst.params.unicastPeers()) {
                sendTo(inst, src, peer, priority);
            }
        }
    }

    private void sendTo(Instance inst, InetAddress src, InetAddress dst, int priority) {
        // One buffer per instance: the channel copies the bytes before send returns.
        VrrpCodec.encode(inst.template, src, dst, inst.params.checksumMode(), inst.sendBuffer, 0);
        try {
            inst.channel.send(dst, inst.sendBuffer);
            inst.counters.incrementAndGet(C_SENT);
            if (priority == 0) {
                inst.counters.incrementAndGet(C_PRIO0_SENT);
            }
        } catch (KernelException e) {
            kernelError(inst, "send advert to " + dst.getHostAddress(), e);
        }
    }

    private void announce(Instance inst, int repeat) {
        for (VirtualAddress v : inst.allVips) {
            for (int i = 0; i < repeat; i++) {
                try {
                    if (v.address() instanceof Inet4Address a4) {
                        advertiser.gratuitousArp(v.ifname(), a4);
                    } else {
                        advertiser.unsolicitedNeighbourAdvert(v.ifname(), (Inet6Address) v.address());
                    }
                } catch (KernelException e) {
                    kernelError(inst, "announce " + v.address().getHostAddress() + " on " + v.ifname(), e);
                    break;
                }
            }
        }
    }

    private void armTimer(Instance inst, TimerKind kind, long delayNanos) {
        cancelTimer(inst, kind);
        long generation = ++inst.timerGeneration[kind.ordinal()];
        inst.timers.put(kind, scheduler.schedule(() -> onTimer(inst, kind, generation), delayNanos));
    }

    private void cancelTimer(Instance inst, TimerKind kind) {
        Scheduler.Cancellable c = inst.timers.remove(kind);
        if (c != null) {
            c.cancel();
        }
        inst.timerGeneration[kind.ordinal()]++;
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
        InstanceStatus old = inst.status;
        InetAddress source = inst.channel == null ? null : inst.channel.source();
        if (old.state() == m.state() && old.effectivePriority() == m.effectivePriority()
                && Objects.equals(old.masterAddress(), m.masterAddress()) && old.masterPriority() == m.masterPriority()
                && Objects.equals(old.sourceAddress(), source)) {
            return;
        }
        inst.status = new InstanceStatus(inst.params.name(), m.state(), inst.params.priority(), m.effectivePriority(),
                m.masterAddress(), m.masterPriority(), source);
    }

    private void onEngine(Runnable task, Duration timeout) {
        if (scheduler.inEngineThread()) {
            task.run();
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            try {
                task.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
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

    private static InetAddress unspecified(AddressFamily family) {
        try {
            return InetAddress.getByAddress(new byte[family == AddressFamily.INET ? 4 : 16]);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ state

    private record ChannelKey(String ifname, AddressFamily family, InetAddress source, InetAddress group) {
        static ChannelKey of(InstanceParams p) {
            return new ChannelKey(p.ifname(), p.family(), p.sourceAddress(), p.effectiveGroup());
        }
    }

    private static final class Channel {
        final ChannelKey key;
        final Instance[] byVrid = new Instance[256];
        VrrpChannel channel;

        Channel(ChannelKey key) {
            this.key = key;
        }
    }

    private static final class Instance {
        final InstanceParams params;
        final MachineConfig config;
        final ReceiveValidator validator;
        final List<VirtualAddress> allVips;
        final byte[] sendBuffer;
        final EnumMap<TimerKind, Scheduler.Cancellable> timers = new EnumMap<>(TimerKind.class);
        final long[] timerGeneration = new long[TimerKind.values().length];
        final AtomicLongArray counters = new AtomicLongArray(C_DROPS + DROP_REASONS.length);
        VrrpStateMachine machine;
        VrrpChannel channel;
        VrrpAdvert template;
        int priorityDelta;
        volatile InstanceStatus status;

        Instance(InstanceParams params) {
            this.params = params;
            this.config = params.toMachineConfig();
            this.validator = new ReceiveValidator(params.expectations());
            List<VirtualAddress> all = new ArrayList<>(params.vips());
            all.addAll(params.excludedVips());
            this.allVips = List.copyOf(all);
            this.template = params.advertTemplate();
            this.sendBuffer = new byte[template.encodedLength()];
            this.status = new InstanceStatus(params.name(), VrrpState.INIT, params.priority(), params.priority(),
                    null, 0, null);
        }
    }
}
