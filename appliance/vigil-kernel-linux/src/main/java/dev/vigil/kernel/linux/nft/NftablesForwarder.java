package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.ApplyReport;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.Forwarder;
import dev.vigil.kernel.forward.ForwarderStats;
import dev.vigil.kernel.forward.ForwardingDiff;
import dev.vigil.kernel.forward.ForwardingMethod;
import dev.vigil.kernel.forward.ForwardingOp;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;
import dev.vigil.kernel.linux.NetNs;
import dev.vigil.kernel.linux.Netlink;
import dev.vigil.kernel.linux.NetlinkSocket;

/**
 * A {@link Forwarder} for kernels without IPVS: NAT and direct-routing (DR) load balancing with
 * nftables. Rules are written as nf_tables netlink transactions ({@link NfTablesCodec}) and read
 * back through libnftables' JSON listing.
 *
 * <p><b>Layout.</b> Everything lives in tables Vigil owns, {@code ip vigil_0} .. {@code ip vigil_f}
 * and the same in {@code ip6}; a service goes to one of them by a hash of its name, and nothing
 * outside them is read or written. Each table has two NAT dispatch maps, {@code services}
 * (address . protocol . port) and {@code fwmarks} (mark), looked up by NAT base chains on
 * {@code prerouting} and {@code output} (priority dstnat), which jump to the service's chain. That
 * chain's one rule draws a slot, {@code numgen inc mod N} for {@code rr} (one slot per destination
 * with weight above 0) and {@code wrr} (as many consecutive slots as the weight), or
 * {@code jhash} of the source address for {@code sh} (weighted the same way; of the source address
 * and port with the {@code sh-port} flag), and DNATs to what the service's map holds for that slot;
 * each map element counts the connections it scheduled. Conntrack keeps established connections on
 * their destination whatever the rules become, until that destination is removed (below).
 * {@link NftScript} writes the same rules as an {@code nft -f} script.
 *
 * <p><b>Conntrack.</b> A NAT rule sees only a connection's first packet; conntrack keeps the rest
 * on the destination it was DNATed to. When a destination leaves a NAT service (deleted from it,
 * or with its service), an {@code apply} that committed then deletes over ctnetlink
 * ({@link Conntrack}) the conntrack entries of the connections sent to it: those whose reply comes
 * from the destination's address and port over the service's protocol and whose client addressed
 * the service. Without this, the entries of connections the real server reset stay in
 * {@code CLOSE} for {@code nf_conntrack_tcp_timeout_close}, and a new connection that reuses such
 * a client port within that time is taken for the old one and goes to the removed server again.
 * IPVS answers the same question with {@code expire_nodest_conn}. A fwmark service's entries are
 * selected by the destination alone, and not while that destination stays in a fwmark service. A
 * weight set to 0 quiesces the destination and leaves its connections, as with IPVS; DR keeps no
 * conntrack entries. A failure to delete never fails the {@code apply}, whose rules are in: it is
 * logged, and {@link #lastConntrackCleanup()} tells what the last {@code apply} deleted and what
 * failed.
 *
 * <p><b>DR.</b> A service whose real servers are DR is dispatched from the twin maps
 * {@code dr_services} and {@code dr_fwmarks}, looked up by a filter chain {@code dr_prerouting} on
 * {@code prerouting} at priority mangle + 10 (after conntrack's defragmentation and the mangle
 * chains that set firewall marks). A table has that chain only while it holds a DR service, since
 * the chain looks up every packet that enters the host. The service's rule draws a slot as above,
 * does {@code dup to} the address its map holds, then {@code drop}s: nf_dup routes the copy with
 * the real server as next hop, so the frame goes to that server's MAC with the IP header unchanged
 * (destination still the virtual address, as LVS-DR sends it), and the original, which this host
 * would deliver to itself since it holds the virtual address, is dropped. (A netdev ingress chain
 * with {@code fwd ... device} would do the same, but it needs the device, which the desired state
 * does not name.) The copy is untracked and the original never gets past conntrack's unconfirmed
 * stage, so DR leaves no conntrack entries. The real servers hold the virtual address on a loopback
 * and do not answer ARP or neighbour solicitations for it; they answer the clients directly.
 *
 * <p>The chain sees every packet from the client and none of the replies, and nftables keeps no
 * state for it, so a connection stays on one real server only if every one of its packets draws
 * the same slot: DR takes {@code sh} alone. Any change to a DR service's slots (a destination
 * added, removed, or weighted differently) moves the clients whose hash now lands elsewhere, and
 * their open connections break, where IPVS keeps them in its connection table; a destination at
 * weight 0 gets no packets at all, not even those of its open connections. Packets the director
 * sends itself to a DR service are delivered locally, not forwarded. DR never changes the port: a
 * DR destination's port is only part of its identity.
 *
 * <p>Why this shape: a change must cost in proportion to itself, not to the table. The kernel
 * re-validates a whole table (every chain a base chain reaches) when a transaction adds a rule or
 * jump, and libnftables 1.0 fetches every chain, set and object of the ruleset before it adds a
 * rule. So the forwarder speaks netlink itself, keeps one chain and one map per service (no chain
 * or counter object per destination), and spreads services over 16 tables per family.
 *
 * <p><b>State.</b> The service and destination attributes are kept in rule and element comments, so
 * {@link #current()} reads the whole state back and a new instance adopts what an earlier one made.
 * The forwarder reads its tables at the first {@link #apply}, after a failed one and at every
 * {@code current()} and {@link #stats()}; in between it takes them to be what it last applied. One
 * {@code apply} is one transaction: it all happens or none of it. Only services that differ are
 * touched, and within them only the elements that differ; an element re-written because its slots
 * moved keeps its counter. A service that changes between NAT and DR is made anew.
 *
 * <p><b>The earlier layout.</b> Vigil once kept everything in one table per family,
 * {@code ip vigil} and {@code ip6 vigil} ({@link #LEGACY_TABLE}), with a chain per destination. A
 * table of that name holding a rule with Vigil's service or destination comment is taken for it:
 * its services are not read as state, and the first {@code apply} deletes the table in the
 * transaction that makes the desired state in the current layout (even when that transaction has
 * no other change), so new connections meet the new rules at once and established ones keep their
 * conntrack NAT bindings. A table of that name without the comments is not Vigil's and is left
 * alone.
 *
 * <p>What nftables cannot do the way IPVS does is refused before any change ({@link #limitation}):
 * schedulers other than {@code rr}, {@code wrr} and {@code sh}; persistence; service flags other
 * than {@code sh-port}; connection thresholds; TUN forwarding; NAT and DR in one service; DR with
 * a scheduler other than {@code sh}; and a NAT destination port on a fwmark service. NAT replies
 * must pass back through this host (it is the real servers' gateway), as with IPVS NAT.
 * {@link #stats()} counts what each rule sees: a NAT rule sees only the first packet of each
 * connection, so a NAT destination reports connections and leaves packets and bytes at 0; a DR rule
 * sees every packet from the client and none of the replies, so a DR destination reports the
 * packets and bytes sent to it and leaves connections at 0.
 */
public final class NftablesForwarder implements Forwarder {
    /** The schedulers this backend implements. */
    public static final Set<String> SCHEDULERS = Set.of("rr", "wrr", "sh");
    /** The name of the single table per family of the earlier layout. */
    static final String LEGACY_TABLE = "vigil";

    private static final int EOPNOTSUPP = 95;
    private static final int NETLINK_NETFILTER = 12;
    private static final int ENOENT = 2;
    private static final System.Logger LOG = System.getLogger(NftablesForwarder.class.getName());

    private final NftContext nft;
    private final NetlinkSocket socket;
    private final Conntrack conntrack;
    private ConntrackCleanup lastCleanup = ConntrackCleanup.NONE;
    private boolean closed;
    /** What the tables hold as far as this forwarder knows; {@code null}: read them first. */
    private Model model;

    /** A forwarder in the calling thread's network namespace. */
    public NftablesForwarder() throws KernelException {
        this.nft = new NftContext();
        try {
            this.socket = NetlinkSocket.open(NETLINK_NETFILTER, 0, "netfilter netlink (nf_tables, ctnetlink)");
        } catch (KernelException e) {
            nft.close();
            throw e;
        }
        this.conntrack = new Conntrack(socket);
    }

    /** A forwarder in network namespace {@code netns} (as named by {@code ip netns}). */
    public static NftablesForwarder inNamespace(String netns) throws Exception {
        return NetNs.call(netns, NftablesForwarder::new);
    }

    @Override
    public synchronized ApplyReport apply(DesiredState desired) throws KernelException {
        checkOpen();
        Model m = model != null ? model : read().model();
        List<ForwardingOp> ops = ForwardingDiff.between(m.state, desired);
        lastCleanup = ConntrackCleanup.NONE;
        if (ops.isEmpty() && m.legacy.isEmpty()) {
            model = m;
            return new ApplyReport(ops);
        }
        // In the order the diff names them: removals first, then additions and changes by key.
        Set<ServiceKey> touched = new LinkedHashSet<>();
        ops.forEach(op -> touched.add(op.serviceKey()));
        for (ServiceKey key : touched) {
            VirtualService wanted = desired.services().get(key);
            if (wanted != null) {
                check(wanted);
            }
        }
        Plan plan = plan(m, desired, touched);
        // Whatever happens now, the tables may differ from the model until the transaction is known
        // to have committed.
        model = null;
        List<NftOp> changes = plan.ops();
        for (int i = 0; i < changes.size(); i++) {
            // A destination whose slots moved gets a new element: it starts from the old one's counter.
            if (changes.get(i) instanceof NftOp.AddSlots a && plan.carry().contains(a.plan().key())) {
                Map<DestinationKey, long[]> counted = countersOf(a.plan());
                List<ServicePlan.Slot> slots = new ArrayList<>();
                for (ServicePlan.Slot s : a.slots()) {
                    long[] c = counted.get(s.destination());
                    slots.add(c == null ? s : s.counting(c[0], c[1]));
                }
                changes.set(i, new NftOp.AddSlots(a.plan(), slots));
            }
        }
        NfTablesCodec.Batch batch = NfTablesCodec.batch(changes);
        List<KernelException> errors = socket.nfnetlinkBatch(batch.bytes(), batch.length(), batch.starts(), "nf_tables",
                batch.described()::get);
        if (!errors.isEmpty()) {
            KernelException first = errors.get(0);
            throw new KernelException("nf_tables", first.errno(), "applying " + ops.size() + " operations"
                    + (m.legacy.isEmpty() ? "" : " and deleting the earlier layout's table " + LEGACY_TABLE) + ": "
                    + reason(first) + (errors.size() > 1 ? "; " + (errors.size() - 1) + " more messages refused" : "")
                    + "; nothing was changed");
        }
        DesiredState before = m.state;
        m.commit(plan, desired);
        model = m;
        forgetConnections(before, desired, ops);
        return new ApplyReport(ops);
    }

    /**
     * What the last {@link #apply} did to conntrack: how many entries the kernel sent for it to look
     * at (with kernel-side filtering, only those of the removed real servers), how many it deleted,
     * and why it could not delete them all ({@code null} when it could).
     */
    public record ConntrackCleanup(int examined, int deleted, KernelException failure) {
        static final ConntrackCleanup NONE = new ConntrackCleanup(0, 0, null);
    }

    /** What the last {@link #apply} did to the conntrack entries of the NAT destinations it removed. */
    public synchronized ConntrackCleanup lastConntrackCleanup() {
        return lastCleanup;
    }

    /**
     * Deletes the conntrack entries of the NAT connections {@code ops} took the destination away
     * from: those of every destination deleted from a service, and of every destination of a
     * deleted service. A destination whose weight became 0 is quiesced, not removed: its
     * connections stay. A failure is logged and kept for {@link #lastConntrackCleanup}, never
     * thrown, since the rules are in.
     */
    private static final long SLOW_CLEANUP_MILLIS = 100;

    private void forgetConnections(DesiredState before, DesiredState after, List<ForwardingOp> ops) {
        Map<AddressFamily, List<Conntrack.Target>> targets = new EnumMap<>(AddressFamily.class);
        for (ForwardingOp op : ops) {
            VirtualService was = before.services().get(op.serviceKey());
            if (was == null) {
                continue;
            }
            List<Destination> gone = switch (op) {
                case ForwardingOp.DeleteService d -> List.copyOf(was.destinations().values());
                case ForwardingOp.DeleteDestination d -> was.destinations().containsKey(d.destination())
                        ? List.of(was.destinations().get(d.destination())) : List.of();
                default -> List.of();
            };
            ServiceKey k = op.serviceKey();
            for (Destination d : gone) {
                if (d.method() != ForwardingMethod.NAT || (k.isFwmark() && stillNatTarget(after, d))) {
                    continue;
                }
                // The reply of a DNATed connection comes from the real server; a destination port 0
                // keeps the client's destination port, the service's own for an address service.
                int port = d.port() != 0 ? d.port() : k.port();
                targets.computeIfAbsent(k.family(), f -> new ArrayList<>()).add(new Conntrack.Target(d.address(), port,
                        k.isFwmark() ? 0 : k.protocol().number(), k.address(), k.port()));
            }
        }
        int deleted = 0;
        int examined = 0;
        KernelException failure = null;
        long started = System.nanoTime();
        for (Map.Entry<AddressFamily, List<Conntrack.Target>> e : targets.entrySet()) {
            try {
                Conntrack.Result r = conntrack.delete(e.getKey(), e.getValue());
                examined += r.examined();
                deleted += r.deleted();
            } catch (KernelException x) {
                failure = failure == null ? x : failure;
                LOG.log(System.Logger.Level.WARNING, "nftables forwarder: the conntrack entries of removed real servers"
                        + " stay until they expire: " + x.getMessage());
            }
        }
        lastCleanup = new ConntrackCleanup(examined, deleted, failure);
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (millis >= SLOW_CLEANUP_MILLIS) {
            LOG.log(System.Logger.Level.INFO, "nftables forwarder: the conntrack cleanup of "
                    + targets.values().stream().mapToInt(List::size).sum() + " removed real servers took " + millis
                    + " ms (" + examined + " entries read, " + deleted + " deleted)");
        }
    }

    /** Whether {@code d} is still a NAT destination of a fwmark service of {@code state} (which a fwmark target cannot tell apart). */
    private static boolean stillNatTarget(DesiredState state, Destination d) {
        for (VirtualService vs : state.services().values()) {
            Destination now = vs.destinations().get(d.key());
            if (vs.key().isFwmark() && now != null && now.method() == ForwardingMethod.NAT) {
                return true;
            }
        }
        return false;
    }

    @Override
    public synchronized DesiredState current() throws KernelException {
        checkOpen();
        return read().model().state;
    }

    @Override
    public synchronized ForwarderStats stats() throws KernelException {
        checkOpen();
        Reading r = read();
        SortedMap<ServiceKey, ForwarderStats.ServiceStats> out = new TreeMap<>();
        for (Placed p : r.model().services.values()) {
            SortedMap<DestinationKey, ForwarderStats.Counters> dests = new TreeMap<>();
            ForwarderStats.Counters total = ForwarderStats.Counters.ZERO;
            for (DestinationKey d : p.service().destinations().keySet()) {
                long[] c = r.counters().getOrDefault(p.service().key(), Map.of()).getOrDefault(d, new long[2]);
                // A NAT rule sees a connection's first packet; a DR rule every packet from the client.
                ForwarderStats.Counters counted = p.plan().dr()
                        ? new ForwarderStats.Counters(0, c[0], c[1])
                        : new ForwarderStats.Counters(c[0], 0, 0);
                dests.put(d, counted);
                total = total.plus(counted);
            }
            out.put(p.service().key(), new ForwarderStats.ServiceStats(total, dests));
        }
        return new ForwarderStats(out);
    }

    /**
     * nftables has no load-balancing table shared with other tools, so a flush removes every
     * service from Vigil's own tables (read afresh), and nothing else.
     */
    @Override
    public synchronized FlushScope flush() throws KernelException {
        checkOpen();
        model = null;
        apply(DesiredState.EMPTY);
        return FlushScope.OWNED;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            nft.close();
            socket.close();
        }
    }

    private void checkOpen() throws KernelException {
        if (closed) {
            throw new KernelException("forwarder", 0, "closed");
        }
    }

    /** The operations that make {@code state} from tables Vigil has not made yet. */
    static List<NftOp> fromEmpty(DesiredState state) {
        return plan(new Model(), state, state.services().keySet()).ops();
    }

    // ---- what nftables can express

    private static void check(VirtualService vs) throws KernelException {
        String limit = limitation(vs);
        if (limit != null) {
            throw unsupported(vs.key(), limit);
        }
    }

    /**
     * What of {@code vs} this forwarder cannot express, in the terms of keepalived's configuration,
     * or {@code null} when it can express all of it. {@link #apply} refuses a state that holds such
     * a service, before any change; the daemon leaves such a service out and says why.
     */
    public static String limitation(VirtualService vs) {
        Service s = vs.service();
        if (!SCHEDULERS.contains(s.scheduler())) {
            return "lb_algo " + s.scheduler() + " (the nftables forwarder does " + new TreeSet<>(SCHEDULERS) + ")";
        }
        if (s.persistenceTimeout() != 0) {
            return "persistence_timeout";
        }
        Set<String> flags = new TreeSet<>(s.flags());
        flags.remove(ServicePlan.SH_PORT);
        if (!flags.isEmpty()) {
            return "flags " + flags;
        }
        boolean nat = false;
        boolean direct = false;
        for (Destination d : vs.destinations().values()) {
            switch (d.method()) {
                case NAT -> nat = true;
                case DR -> direct = true;
                case TUN -> {
                    return "TUN forwarding to " + d.key() + " (the nftables forwarder does NAT and DR)";
                }
            }
            if (d.upperThreshold() != 0 || d.lowerThreshold() != 0) {
                return "uthreshold/lthreshold on " + d.key();
            }
            // NAT cannot map a port without knowing the protocol; DR never changes the port.
            if (s.key().isFwmark() && d.port() != 0 && d.method() == ForwardingMethod.NAT) {
                return "a real server port on a fwmark service (" + d.key() + ")";
            }
        }
        if (nat && direct) {
            return "NAT and DR real servers in one virtual server (the nftables forwarder forwards a service one way)";
        }
        if (direct && !s.scheduler().equals("sh")) {
            return "lb_algo " + s.scheduler() + " with DR forwarding (the director sees only the client's packets of a"
                    + " DR connection and nftables keeps no state for it, so only a hash of each packet can keep a"
                    + " connection on one real server: use lb_algo sh)";
        }
        return null;
    }

    private static KernelException unsupported(ServiceKey key, String what) {
        return new KernelException("nftables", EOPNOTSUPP, key + ": " + what + " is not supported by the nftables forwarder");
    }

    // ---- planning a transaction

    /** A service as laid out in the tables, and the service it stands for. */
    private record Placed(ServicePlan plan, VirtualService service) {
    }

    /** Pieces of a service that is not whole (found so, or left behind): removed before it is made again. */
    private record Damaged(AddressFamily family, String table, ServiceKey key, boolean dispatch,
                           boolean directDispatch, boolean chain, boolean map) {
    }

    /** One of the forwarder's tables. */
    private record Shard(AddressFamily family, String table) {
    }

    /**
     * The operations of one transaction and what the model becomes when it commits; {@code carry}
     * names the services whose rewritten elements must take over their counters; {@code direct}
     * says by how much each table's count of DR services changes.
     */
    private record Plan(List<NftOp> ops, Map<AddressFamily, Set<String>> newTables, Map<Shard, Integer> direct,
                        Set<Shard> newDirect, Set<Shard> goneDirect, Map<ServiceKey, Placed> placed,
                        Set<ServiceKey> removed, Set<ServiceKey> carry) {
    }

    /** What the tables hold, as read or as last applied. */
    private static final class Model {
        final Map<AddressFamily, Set<String>> tables = new EnumMap<>(AddressFamily.class);
        /** The tables that have the DR dispatch, and how many DR services each holds. */
        final Map<Shard, Integer> direct = new HashMap<>();
        final SortedMap<ServiceKey, Placed> services = new TreeMap<>();
        final List<Damaged> damaged = new ArrayList<>();
        /** The families whose table of the earlier layout ({@link #LEGACY_TABLE}) is still there. */
        final Set<AddressFamily> legacy = new TreeSet<>();
        DesiredState state = DesiredState.EMPTY;

        boolean hasTable(AddressFamily f, String table) {
            return tables.getOrDefault(f, Set.of()).contains(table);
        }

        boolean hasDirect(Shard s) {
            return direct.containsKey(s);
        }

        void commit(Plan plan, DesiredState desired) {
            plan.newTables().forEach((f, names) -> tables.computeIfAbsent(f, x -> new TreeSet<>()).addAll(names));
            plan.newDirect().forEach(s -> direct.put(s, 0));
            plan.direct().forEach((s, delta) -> direct.computeIfPresent(s, (x, n) -> n + delta));
            plan.goneDirect().forEach(direct::remove);
            plan.removed().forEach(services::remove);
            services.putAll(plan.placed());
            damaged.clear();
            legacy.clear();
            state = desired;
        }
    }

    private static Plan plan(Model m, DesiredState desired, Set<ServiceKey> touched) {
        List<NftOp> ops = new ArrayList<>();
        Map<AddressFamily, Set<String>> newTables = new EnumMap<>(AddressFamily.class);
        Set<Shard> newDirect = new HashSet<>();
        Map<Shard, Integer> direct = new HashMap<>();
        Map<ServiceKey, Placed> placed = new HashMap<>();
        Set<ServiceKey> removed = new TreeSet<>();
        // Leftovers go first: a service made again must not meet its old pieces.
        for (Damaged d : m.damaged) {
            ops.add(new NftOp.RemoveService(d.family(), d.table(), d.key(), d.dispatch(), d.directDispatch(), d.chain(),
                    d.map()));
        }
        Set<ServiceKey> carry = new TreeSet<>();
        for (ServiceKey key : touched) {
            Placed old = m.services.get(key);
            VirtualService wanted = desired.services().get(key);
            if (old == null) {
                String table = ServicePlan.tableFor(key);
                AddressFamily f = key.family();
                if (!m.hasTable(f, table) && newTables.computeIfAbsent(f, x -> new TreeSet<>()).add(table)) {
                    ops.add(new NftOp.AddTable(f, table));
                }
                ServicePlan p = ServicePlan.of(wanted, table);
                addService(ops, m, newDirect, direct, p);
                placed.put(key, new Placed(p, wanted));
            } else if (wanted == null) {
                ops.add(NftOp.RemoveService.whole(key.family(), old.plan().table(), key, old.plan().dr()));
                count(direct, old.plan(), -1);
                removed.add(key);
            } else {
                ServicePlan was = old.plan();
                ServicePlan p = ServicePlan.of(wanted, was.table());
                if (p.dr() != was.dr()) {
                    // NAT and DR are dispatched from different maps, and their maps hold different data:
                    // the service is made anew in the same transaction.
                    ops.add(NftOp.RemoveService.whole(key.family(), was.table(), key, was.dr()));
                    count(direct, was, -1);
                    addService(ops, m, newDirect, direct, p);
                    placed.put(key, new Placed(p, wanted));
                    continue;
                }
                List<ServicePlan.Slot> gone = new ArrayList<>();
                for (ServicePlan.Slot s : was.slots()) {
                    if (p.slots().stream().noneMatch(s::sameElement)) {
                        gone.add(s);
                    }
                }
                List<ServicePlan.Slot> fresh = new ArrayList<>();
                for (ServicePlan.Slot s : p.slots()) {
                    if (was.slots().stream().noneMatch(s::sameElement)) {
                        fresh.add(s);
                    }
                }
                if (!gone.isEmpty()) {
                    ops.add(new NftOp.RemoveSlots(was, gone));
                }
                if (!fresh.isEmpty()) {
                    ops.add(new NftOp.AddSlots(p, fresh));
                    if (fresh.stream().anyMatch(s -> old.service().destinations().containsKey(s.destination()))) {
                        carry.add(key);
                    }
                }
                if (p.modulus() != was.modulus() || !p.scheduler().equals(was.scheduler())
                        || p.hashPort() != was.hashPort() || !p.comment().equals(was.comment())) {
                    ops.add(new NftOp.ReplaceRule(p));
                }
                placed.put(key, new Placed(p, wanted));
            }
        }
        // A table's DR dispatch goes with its last DR service: its chain looks up every packet that
        // enters the host.
        Set<Shard> goneDirect = new HashSet<>();
        direct.forEach((shard, delta) -> {
            if (delta < 0 && m.direct.getOrDefault(shard, 0) + delta == 0) {
                ops.add(new NftOp.RemoveDirectDispatch(shard.family(), shard.table()));
                goneDirect.add(shard);
            }
        });
        // The earlier layout's table goes in the same transaction that makes its successors, so no
        // packet finds neither; connections it set up keep their conntrack NAT bindings.
        for (AddressFamily f : m.legacy) {
            ops.add(new NftOp.RemoveTable(f, LEGACY_TABLE));
        }
        return new Plan(ops, newTables, direct, newDirect, goneDirect, placed, removed, carry);
    }

    /** Adds service {@code p}, and before it its table's DR dispatch when it is the table's first DR service. */
    private static void addService(List<NftOp> ops, Model m, Set<Shard> newDirect, Map<Shard, Integer> direct,
                                   ServicePlan p) {
        Shard shard = new Shard(p.family(), p.table());
        if (p.dr() && !m.hasDirect(shard) && newDirect.add(shard)) {
            ops.add(new NftOp.AddDirectDispatch(p.family(), p.table()));
        }
        ops.add(new NftOp.AddService(p));
        count(direct, p, 1);
    }

    /** Counts {@code delta} DR services into {@code p}'s table, if {@code p} is DR. */
    private static void count(Map<Shard, Integer> direct, ServicePlan p, int delta) {
        if (p.dr()) {
            direct.merge(new Shard(p.family(), p.table()), delta, Integer::sum);
        }
    }

    // ---- reading

    /** What a read found: the model, and the element counters by service and destination. */
    private record Reading(Model model, Map<ServiceKey, Map<DestinationKey, long[]>> counters) {
    }

    /** Reads the tables, and remembers what it read. */
    private Reading read() throws KernelException {
        model = null;
        Reading r = new Reading(new Model(), new HashMap<>());
        Map<String, Object> tables = Json.object(nft.run(Json.write(Map.of("nftables",
                List.of(Map.of("list", Map.of("tables", Map.of())))))));
        for (Object item : Json.list(tables.get("nftables"))) {
            if (Json.object(item).get("table") instanceof Map<?, ?> t && t.get("name") instanceof String name) {
                AddressFamily f = switch (String.valueOf(t.get("family"))) {
                    case "ip" -> AddressFamily.INET;
                    case "ip6" -> AddressFamily.INET6;
                    default -> null;
                };
                if (f != null && ServicePlan.isOwnTable(name)) {
                    readTable(r, f, name);
                } else if (f != null && name.equals(LEGACY_TABLE) && isLegacy(f)) {
                    r.model().legacy.add(f);
                }
            }
        }
        SortedMap<ServiceKey, VirtualService> state = new TreeMap<>();
        r.model().services.forEach((k, p) -> state.put(k, p.service()));
        r.model().state = new DesiredState(state);
        model = r.model();
        return r;
    }

    /** The objects of one table as libnftables lists them in JSON. */
    private List<?> listTable(AddressFamily f, String table) throws KernelException {
        String family = f == AddressFamily.INET ? "ip" : "ip6";
        String out = nft.run(Json.write(Map.of("nftables",
                List.of(Map.of("list", Map.of("table", Map.of("family", family, "name", table)))))));
        return Json.list(Json.object(Json.parse(out)).get("nftables"));
    }

    /**
     * Whether table {@link #LEGACY_TABLE} of family {@code f} is the earlier layout's: a rule in it
     * carries a service or destination comment.
     */
    private boolean isLegacy(AddressFamily f) throws KernelException {
        for (Object item : listTable(f, LEGACY_TABLE)) {
            if (Json.object(item).get("rule") instanceof Map<?, ?> rule && rule.get("comment") instanceof String c
                    && (c.startsWith(ServicePlan.SVC_TAG + " ") || c.startsWith(ServicePlan.DST_TAG + " "))) {
                return true;
            }
        }
        return false;
    }

    private void readTable(Reading r, AddressFamily f, String table) throws KernelException {
        List<?> items = listTable(f, table);
        r.model().tables.computeIfAbsent(f, x -> new TreeSet<>()).add(table);
        Set<String> dispatched = new TreeSet<>();
        Set<String> directlyDispatched = new TreeSet<>();
        Set<String> chains = new TreeSet<>();
        Map<String, List<ParsedSlot>> maps = new LinkedHashMap<>();
        Map<String, Service> rules = new LinkedHashMap<>();
        Map<String, Drawn> draws = new HashMap<>();
        for (Object item : items) {
            Map<String, Object> o = Json.object(item);
            if (o.get("map") instanceof Map<?, ?> map && map.get("name") instanceof String name) {
                List<?> elements = map.get("elem") instanceof List<?> l ? l : List.of();
                boolean nat = name.equals(NfTablesCodec.SERVICES) || name.equals(NfTablesCodec.FWMARKS);
                if (nat || name.equals(NfTablesCodec.DIRECT_SERVICES) || name.equals(NfTablesCodec.DIRECT_FWMARKS)) {
                    for (Object e : elements) {
                        if (e instanceof List<?> pair && pair.size() == 2 && pair.get(1) instanceof Map<?, ?> verdict
                                && verdict.get("jump") instanceof Map<?, ?> jump && jump.get("target") instanceof String t) {
                            (nat ? dispatched : directlyDispatched).add(t);
                        }
                    }
                } else {
                    List<ParsedSlot> slots = new ArrayList<>();
                    for (Object e : elements) {
                        ParsedSlot s = ParsedSlot.of(e);
                        if (s != null) {
                            slots.add(s);
                        }
                    }
                    maps.put(name, slots);
                }
            } else if (o.get("chain") instanceof Map<?, ?> chain && chain.get("name") instanceof String name) {
                chains.add(name);
                if (name.equals(NfTablesCodec.DIRECT_CHAIN)) {
                    r.model().direct.putIfAbsent(new Shard(f, table), 0);
                }
            } else if (o.get("rule") instanceof Map<?, ?> rule && rule.get("comment") instanceof String comment
                    && comment.startsWith(ServicePlan.SVC_TAG + " ") && rule.get("chain") instanceof String chain) {
                try {
                    Service s = parseService(f, comment);
                    if (ServicePlan.nameOf(s.key()).equals(chain)) {
                        rules.put(chain, s);
                        draws.put(chain, Drawn.of(rule.get("expr")));
                    }
                } catch (RuntimeException | UnknownHostException e) {
                    // A comment we cannot read was not written by this forwarder: not ours, left alone.
                }
            }
        }
        Set<String> names = new TreeSet<>(rules.keySet());
        for (String n : maps.keySet()) {
            if (ServicePlan.keyOf(n, f) != null) {
                names.add(n);
            }
        }
        for (String n : chains) {
            if (ServicePlan.keyOf(n, f) != null) {
                names.add(n);
            }
        }
        for (String name : names) {
            Service s = rules.get(name);
            List<ParsedSlot> slots = maps.get(name);
            boolean whole = s != null && slots != null
                    && (dispatched.contains(name) != directlyDispatched.contains(name));
            if (whole) {
                SortedMap<DestinationKey, Destination> dests = new TreeMap<>();
                Map<DestinationKey, long[]> counted = new HashMap<>();
                for (ParsedSlot p : slots) {
                    dests.put(p.destination().key(), p.destination());
                    counted.merge(p.destination().key(), new long[] {p.packets(), p.bytes()},
                            (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
                }
                VirtualService vs = new VirtualService(s, dests);
                ServicePlan plan = ServicePlan.of(vs, table);
                // Only what this forwarder would have made is taken as it stands.
                whole = limitation(vs) == null && directlyDispatched.contains(name) == plan.dr()
                        && draws.get(name).fits(plan) && sameSlots(plan.slots(), slots);
                if (whole && !r.model().services.containsKey(s.key())) {
                    r.model().services.put(s.key(), new Placed(plan, vs));
                    r.counters().put(s.key(), counted);
                    if (plan.dr()) {
                        r.model().direct.merge(new Shard(f, table), 1, Integer::sum);
                    }
                    continue;
                }
            }
            ServiceKey key = s != null ? s.key() : ServicePlan.keyOf(name, f);
            r.model().damaged.add(new Damaged(f, table, key, dispatched.contains(name),
                    directlyDispatched.contains(name), chains.contains(name), maps.containsKey(name)));
        }
    }

    /** A map element as read: its slots and the destination its comment describes. */
    private record ParsedSlot(int from, int to, Destination destination, long packets, long bytes) {
        static ParsedSlot of(Object element) {
            if (!(element instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof Map<?, ?> k)
                    || !(k.get("elem") instanceof Map<?, ?> e) || !(e.get("comment") instanceof String comment)
                    || !comment.startsWith(ServicePlan.DST_TAG + " ")) {
                return null;
            }
            try {
                int from;
                int to;
                if (e.get("val") instanceof Number n) {
                    from = n.intValue();
                    to = from;
                } else if (e.get("val") instanceof Map<?, ?> v && v.get("range") instanceof List<?> range && range.size() == 2) {
                    from = ((Number) range.get(0)).intValue();
                    to = ((Number) range.get(1)).intValue();
                } else {
                    return null;
                }
                long packets = 0;
                long bytes = 0;
                if (e.get("counter") instanceof Map<?, ?> c) {
                    packets = ((Number) c.get("packets")).longValue();
                    bytes = ((Number) c.get("bytes")).longValue();
                }
                return new ParsedSlot(from, to, parseDestination(comment), packets, bytes);
            } catch (RuntimeException | UnknownHostException ex) {
                return null;
            }
        }
    }

    private static boolean sameSlots(List<ServicePlan.Slot> planned, List<ParsedSlot> found) {
        if (planned.size() != found.size()) {
            return false;
        }
        Map<Integer, ParsedSlot> byStart = new HashMap<>();
        found.forEach(p -> byStart.put(p.from(), p));
        for (ServicePlan.Slot s : planned) {
            ParsedSlot p = byStart.get(s.from());
            if (p == null || p.to() != s.to() || !p.destination().key().equals(s.destination())) {
                return false;
            }
        }
        return true;
    }

    /**
     * What a service rule does, as listed: its draw ({@code numgen} or {@code jhash}, and whether the
     * hash takes the source port), the modulus (0 for none) and whether it duplicates ({@code dup})
     * or translates ({@code dnat}).
     */
    private static final class Drawn {
        private int modulus;
        private boolean hashed;
        private boolean port;
        private boolean dup;
        private boolean dnat;

        static Drawn of(Object expr) {
            Drawn d = new Drawn();
            d.scan(expr);
            return d;
        }

        private void scan(Object expr) {
            if (expr instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String k = String.valueOf(e.getKey());
                    dup |= k.equals("dup");
                    dnat |= k.equals("dnat");
                    if ((k.equals("numgen") || k.equals("jhash")) && e.getValue() instanceof Map<?, ?> g
                            && g.get("mod") instanceof Number n) {
                        modulus = n.intValue();
                        hashed = k.equals("jhash");
                        port = hashed && g.get("expr") instanceof Map<?, ?> x && x.containsKey("concat");
                    }
                    scan(e.getValue());
                }
            } else if (expr instanceof List<?> l) {
                l.forEach(this::scan);
            }
        }

        /** Whether this is the rule {@code p} makes. */
        boolean fits(ServicePlan p) {
            if (modulus != p.modulus()) {
                return false;
            }
            return modulus == 0 || (hashed == p.scheduler().equals("sh") && port == p.hashPort() && dup == p.dr()
                    && dnat == !p.dr());
        }
    }

    /** Counters by destination of one service's map, read just before its elements are rewritten. */
    private Map<DestinationKey, long[]> countersOf(ServicePlan p) throws KernelException {
        List<Netlink.Message> replies;
        try {
            replies = socket.request("NFT_MSG_GETSETELEM", NfTablesCodec.dumpElements(p.family(), p.table(), p.name()),
                    "elements of map " + p.table() + " " + p.name());
        } catch (KernelException e) {
            if (e.errno() == ENOENT) {
                // Gone behind the forwarder's back: the transaction will fail on it and say so.
                return Map.of();
            }
            throw e;
        }
        Map<DestinationKey, long[]> counted = new HashMap<>();
        for (Netlink.Message m : replies) {
            List<NfTablesCodec.CountedElement> elements;
            try {
                elements = NfTablesCodec.countedElements(m);
            } catch (IllegalArgumentException e) {
                throw new KernelException("NFT_MSG_GETSETELEM", 0, "malformed reply: " + e.getMessage());
            }
            for (NfTablesCodec.CountedElement e : elements) {
                if (e.comment() != null && e.comment().startsWith(ServicePlan.DST_TAG + " ")) {
                    try {
                        counted.merge(parseDestination(e.comment()).key(), new long[] {e.packets(), e.bytes()},
                                (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
                    } catch (RuntimeException | UnknownHostException ex) {
                        // Not an element this forwarder wrote.
                    }
                }
            }
        }
        return counted;
    }

    private static Service parseService(AddressFamily f, String comment) throws UnknownHostException {
        String[] w = comment.split(" ");
        if (w.length != 8) {
            throw new IllegalArgumentException(comment);
        }
        ServiceKey key = w[1].equals("fwmark")
                ? ServiceKey.fwmark(Integer.parseInt(w[2]), f)
                : ServiceKey.of(InetAddress.getByName(w[2]), Integer.parseInt(w[3]), Protocol.valueOf(w[1]));
        if (key.family() != f) {
            throw new IllegalArgumentException(comment);
        }
        Set<String> flags = w[7].equals("-") ? Set.of() : Set.of(w[7].split(","));
        return new Service(key, w[4], Integer.parseInt(w[5]), Integer.parseInt(w[6]), flags);
    }

    private static Destination parseDestination(String comment) throws UnknownHostException {
        String[] w = comment.split(" ");
        if (w.length != 7) {
            throw new IllegalArgumentException(comment);
        }
        return new Destination(InetAddress.getByName(w[1]), Integer.parseInt(w[2]), ForwardingMethod.valueOf(w[3]),
                Integer.parseInt(w[4]), Integer.parseInt(w[5]), Integer.parseInt(w[6]));
    }

    /** The exception's text without the call prefix and errno suffix {@link KernelException} adds. */
    private static String reason(KernelException e) {
        String m = e.getMessage();
        if (m.startsWith(e.call() + ": ")) {
            m = m.substring(e.call().length() + 2);
        }
        String suffix = " (errno " + e.errno() + ")";
        return m.endsWith(suffix) ? m.substring(0, m.length() - suffix.length()) : m;
    }
}
