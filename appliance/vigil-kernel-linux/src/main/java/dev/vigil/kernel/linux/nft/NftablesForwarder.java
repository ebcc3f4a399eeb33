package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

/**
 * A {@link Forwarder} for kernels without IPVS: NAT load balancing with nftables, through
 * libnftables and its JSON syntax.
 *
 * <p>Everything lives in tables Vigil owns, {@code ip vigil} and {@code ip6 vigil}; nothing outside
 * them is read or written. Each table holds NAT base chains for {@code prerouting} and
 * {@code output} (priority dstnat) that jump to a {@code services} chain. There, one dispatch rule
 * per service matches the virtual address and port (or the fwmark) and jumps to the service's
 * chain, whose single verdict-map rule picks a destination chain:
 * {@code numgen inc mod N} for {@code rr} (one slot per destination with weight above 0) and
 * {@code wrr} (as many consecutive slots as the weight), {@code jhash} of the source address for
 * {@code sh} (weighted the same way). Each destination chain counts into a named counter and DNATs.
 * Conntrack keeps established connections on their destination whatever the rules become.
 *
 * <p>The service and destination attributes are kept in rule comments, so {@link #current()} reads
 * the whole state back from the kernel and a new instance adopts what an earlier one made. One
 * {@link #apply} is one nft transaction: it all happens or none of it. Only the services that differ
 * are rewritten, and destination counters survive rewriting.
 *
 * <p>What nftables cannot do the way IPVS does is refused before any change: schedulers other than
 * {@code rr}, {@code wrr} and {@code sh}; persistence; service flags; connection thresholds; DR and
 * TUN forwarding; and a destination port on a fwmark service. Replies must pass back through this
 * host (it is the real servers' gateway), as with IPVS NAT. A NAT rule sees only the first packet of
 * each connection, so {@link #stats()} reports connections and leaves packets and bytes at 0.
 */
public final class NftablesForwarder implements Forwarder {
    /** The name of the tables Vigil owns. */
    public static final String TABLE = "vigil";
    /** The schedulers this backend implements. */
    public static final Set<String> SCHEDULERS = Set.of("rr", "wrr", "sh");

    private static final String SERVICES = "services";
    private static final String SVC_TAG = "vigil:s";
    private static final String DST_TAG = "vigil:d";
    private static final int EOPNOTSUPP = 95;

    private final NftContext nft;

    /** A forwarder in the calling thread's network namespace. */
    public NftablesForwarder() throws KernelException {
        this.nft = new NftContext();
    }

    /** A forwarder in network namespace {@code netns} (as named by {@code ip netns}). */
    public static NftablesForwarder inNamespace(String netns) throws Exception {
        return NetNs.call(netns, NftablesForwarder::new);
    }

    @Override
    public synchronized ApplyReport apply(DesiredState desired) throws KernelException {
        check(desired);
        Snapshot now = read();
        List<ForwardingOp> ops = ForwardingDiff.between(now.state(), desired);
        if (ops.isEmpty()) {
            return new ApplyReport(ops);
        }
        Set<ServiceKey> touched = new TreeSet<>();
        ops.forEach(op -> touched.add(op.serviceKey()));
        List<Object> cmds = new ArrayList<>();
        for (ServiceKey key : touched) {
            VirtualService wanted = desired.services().get(key);
            if (wanted != null && !now.tables().contains(key.family())) {
                createTable(cmds, key.family());
                now.tables().add(key.family());
            }
        }
        for (ServiceKey key : touched) {
            rewrite(cmds, now.services().get(key), desired.services().get(key));
        }
        nft.run(Json.write(Map.of("nftables", cmds)));
        return new ApplyReport(ops);
    }

    @Override
    public synchronized DesiredState current() throws KernelException {
        return read().state();
    }

    @Override
    public synchronized ForwarderStats stats() throws KernelException {
        Snapshot now = read();
        SortedMap<ServiceKey, ForwarderStats.ServiceStats> out = new TreeMap<>();
        for (Owned o : now.services().values()) {
            SortedMap<DestinationKey, ForwarderStats.Counters> dests = new TreeMap<>();
            ForwarderStats.Counters total = ForwarderStats.Counters.ZERO;
            for (DestinationKey d : o.destinations().keySet()) {
                long connections = now.counters().getOrDefault(destinationChain(o.service().key(), d), 0L);
                ForwarderStats.Counters c = new ForwarderStats.Counters(connections, 0, 0);
                dests.put(d, c);
                total = total.plus(c);
            }
            out.put(o.service().key(), new ForwarderStats.ServiceStats(total, dests));
        }
        return new ForwarderStats(out);
    }

    @Override
    public synchronized void close() {
        nft.close();
    }

    // ---- what nftables can express

    private static void check(DesiredState desired) throws KernelException {
        for (VirtualService vs : desired.services().values()) {
            Service s = vs.service();
            if (!SCHEDULERS.contains(s.scheduler())) {
                throw unsupported(s.key(), "scheduler " + s.scheduler() + " (nftables does " + new TreeSet<>(SCHEDULERS) + ")");
            }
            if (s.persistenceTimeout() != 0) {
                throw unsupported(s.key(), "persistence");
            }
            if (!s.flags().isEmpty()) {
                throw unsupported(s.key(), "flags " + s.flags());
            }
            for (Destination d : vs.destinations().values()) {
                if (d.method() != ForwardingMethod.NAT) {
                    throw unsupported(s.key(), d.method() + " forwarding to " + d.key());
                }
                if (d.upperThreshold() != 0 || d.lowerThreshold() != 0) {
                    throw unsupported(s.key(), "connection thresholds on " + d.key());
                }
                if (s.key().isFwmark() && d.port() != 0) {
                    throw unsupported(s.key(), "a destination port on a fwmark service (" + d.key() + ")");
                }
            }
        }
    }

    private static KernelException unsupported(ServiceKey key, String what) {
        return new KernelException("nftables", EOPNOTSUPP, key + ": " + what + " is not supported by the nftables forwarder");
    }

    // ---- writing

    private static String family(AddressFamily f) {
        return f == AddressFamily.INET ? "ip" : "ip6";
    }

    private static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) {
            m.put((String) kv[k], kv[k + 1]);
        }
        return m;
    }

    private static Map<String, Object> cmd(String verb, String kind, Object body) {
        return obj(verb, obj(kind, body));
    }

    private static Map<String, Object> chain(AddressFamily f, String name) {
        return obj("family", family(f), "table", TABLE, "name", name);
    }

    private static Map<String, Object> rule(AddressFamily f, String chain, String comment, List<Object> expr) {
        Map<String, Object> r = obj("family", family(f), "table", TABLE, "chain", chain);
        if (comment != null) {
            r.put("comment", comment);
        }
        r.put("expr", expr);
        return r;
    }

    private static Map<String, Object> match(Object left, Object right) {
        return obj("match", obj("op", "==", "left", left, "right", right));
    }

    private static Map<String, Object> jump(String target) {
        return obj("jump", obj("target", target));
    }

    private static void createTable(List<Object> cmds, AddressFamily f) {
        cmds.add(cmd("add", "table", obj("family", family(f), "name", TABLE)));
        for (String hook : List.of("prerouting", "output")) {
            Map<String, Object> base = chain(f, hook);
            base.putAll(obj("type", "nat", "hook", hook, "prio", -100, "policy", "accept"));
            cmds.add(cmd("add", "chain", base));
        }
        cmds.add(cmd("add", "chain", chain(f, SERVICES)));
        for (String hook : List.of("prerouting", "output")) {
            cmds.add(cmd("add", "rule", rule(f, hook, null, List.of(jump(SERVICES)))));
        }
    }

    /** Replaces what {@code old} made (if anything) with what {@code wanted} needs (if anything). */
    private static void rewrite(List<Object> cmds, Owned old, VirtualService wanted) {
        ServiceKey key = old != null ? old.service().key() : wanted.key();
        AddressFamily f = key.family();
        String svcChain = serviceChain(key);
        if (old != null) {
            Map<String, Object> r = obj("family", family(f), "table", TABLE, "chain", SERVICES, "handle", old.handle());
            cmds.add(cmd("delete", "rule", r));
            // The service chain goes first: its verdict map is what references the destination chains.
            cmds.add(cmd("flush", "chain", chain(f, svcChain)));
            for (DestinationKey d : old.destinations().keySet()) {
                String dc = destinationChain(key, d);
                cmds.add(cmd("flush", "chain", chain(f, dc)));
                if (wanted == null || !wanted.destinations().containsKey(d)) {
                    cmds.add(cmd("delete", "chain", chain(f, dc)));
                    cmds.add(cmd("delete", "counter", obj("family", family(f), "table", TABLE, "name", dc)));
                }
            }
            if (wanted == null) {
                cmds.add(cmd("delete", "chain", chain(f, svcChain)));
            }
        }
        if (wanted == null) {
            return;
        }
        cmds.add(cmd("add", "chain", chain(f, svcChain)));
        List<Object> slots = new ArrayList<>();
        int next = 0;
        for (Destination d : wanted.destinations().values()) {
            String dc = destinationChain(key, d.key());
            if (old == null || !old.destinations().containsKey(d.key())) {
                cmds.add(cmd("add", "counter", obj("family", family(f), "table", TABLE, "name", dc)));
                cmds.add(cmd("add", "chain", chain(f, dc)));
            }
            List<Object> expr = new ArrayList<>();
            expr.add(obj("counter", dc));
            Map<String, Object> dnat = obj("addr", d.address().getHostAddress());
            if (d.port() != 0) {
                // nft maps a port only after the transport protocol is known in this chain.
                expr.add(match(obj("meta", obj("key", "l4proto")), key.protocol().name().toLowerCase(Locale.ROOT)));
                dnat.put("port", d.port());
            }
            expr.add(obj("dnat", dnat));
            cmds.add(cmd("add", "rule", rule(f, dc, destinationComment(d), expr)));
            int width = d.weight() == 0 ? 0 : wanted.service().scheduler().equals("rr") ? 1 : d.weight();
            if (width > 0) {
                Object slot = width == 1 ? (Object) next : obj("range", List.of(next, next + width - 1));
                slots.add(List.of(slot, jump(dc)));
                next += width;
            }
        }
        if (next > 0) {
            Object selector = wanted.service().scheduler().equals("sh")
                    ? obj("jhash", obj("expr", obj("payload", obj("protocol", family(f), "field", "saddr")),
                    "mod", next, "seed", 0))
                    : obj("numgen", obj("mode", "inc", "mod", next, "offset", 0));
            cmds.add(cmd("add", "rule", rule(f, svcChain, null,
                    List.of(obj("vmap", obj("key", selector, "data", obj("set", slots)))))));
        }
        List<Object> match = new ArrayList<>();
        if (key.isFwmark()) {
            match.add(match(obj("meta", obj("key", "mark")), key.fwmark()));
        } else {
            match.add(match(obj("payload", obj("protocol", family(f), "field", "daddr")), key.address().getHostAddress()));
            match.add(match(obj("payload", obj("protocol", key.protocol().name().toLowerCase(Locale.ROOT), "field", "dport")),
                    key.port()));
        }
        match.add(jump(svcChain));
        cmds.add(cmd("add", "rule", rule(f, SERVICES, serviceComment(wanted.service()), match)));
    }

    static String serviceChain(ServiceKey key) {
        if (key.isFwmark()) {
            return "s_fwmark_" + key.fwmark();
        }
        return "s_" + key.protocol().name().toLowerCase(Locale.ROOT) + "_"
                + HexFormat.of().formatHex(key.address().getAddress()) + "_" + key.port();
    }

    static String destinationChain(ServiceKey key, DestinationKey d) {
        return serviceChain(key) + "_d_" + HexFormat.of().formatHex(d.address().getAddress()) + "_" + d.port();
    }

    // Comments carry what the rules alone cannot say (weights of quiesced destinations, the exact
    // scheduler); they are limited to 128 bytes, which the longest IPv6 form stays well within.
    static String serviceComment(Service s) {
        ServiceKey k = s.key();
        String id = k.isFwmark() ? "fwmark " + k.fwmark() + " 0" : k.protocol() + " " + k.address().getHostAddress() + " " + k.port();
        return SVC_TAG + " " + id + " " + s.scheduler() + " " + s.persistenceTimeout() + " " + s.persistencePrefix()
                + " " + (s.flags().isEmpty() ? "-" : String.join(",", s.flags()));
    }

    static String destinationComment(Destination d) {
        return DST_TAG + " " + d.address().getHostAddress() + " " + d.port() + " " + d.method() + " " + d.weight()
                + " " + d.upperThreshold() + " " + d.lowerThreshold();
    }

    // ---- reading

    /** A service as found in the kernel, with the handle of its dispatch rule. */
    private record Owned(Service service, long handle, SortedMap<DestinationKey, Destination> destinations) {
    }

    private record Snapshot(Set<AddressFamily> tables, SortedMap<ServiceKey, Owned> services, Map<String, Long> counters) {
        DesiredState state() {
            SortedMap<ServiceKey, VirtualService> m = new TreeMap<>();
            services.forEach((k, o) -> m.put(k, new VirtualService(o.service(), o.destinations())));
            return new DesiredState(m);
        }
    }

    private Snapshot read() throws KernelException {
        Set<AddressFamily> tables = new TreeSet<>();
        SortedMap<ServiceKey, Owned> services = new TreeMap<>();
        Map<String, Long> counters = new LinkedHashMap<>();
        for (AddressFamily f : AddressFamily.values()) {
            String out;
            try {
                out = nft.run(Json.write(Map.of("nftables",
                        List.of(cmd("list", "table", obj("family", family(f), "name", TABLE))))));
            } catch (KernelException e) {
                if (e.getMessage().contains("No such file or directory")) {
                    continue;
                }
                throw e;
            }
            tables.add(f);
            parse(f, out, services, counters);
        }
        return new Snapshot(tables, services, counters);
    }

    @SuppressWarnings("unchecked")
    private static void parse(AddressFamily f, String out, SortedMap<ServiceKey, Owned> services, Map<String, Long> counters) {
        List<Object> items = (List<Object>) ((Map<String, Object>) Json.parse(out)).get("nftables");
        Map<String, Destination> destsByChain = new TreeMap<>();
        for (Object item : items) {
            Map<String, Object> m = (Map<String, Object>) item;
            if (m.get("counter") instanceof Map<?, ?> c) {
                counters.put((String) c.get("name"), ((Number) c.get("packets")).longValue());
            }
            if (!(m.get("rule") instanceof Map<?, ?> rule) || !(rule.get("comment") instanceof String comment)) {
                continue;
            }
            String chain = (String) rule.get("chain");
            try {
                if (chain.equals(SERVICES) && comment.startsWith(SVC_TAG + " ")) {
                    Service s = parseService(f, comment);
                    if (serviceChain(s.key()).equals(targetOf(rule))) {
                        services.put(s.key(), new Owned(s, ((Number) rule.get("handle")).longValue(), new TreeMap<>()));
                    }
                } else if (comment.startsWith(DST_TAG + " ")) {
                    destsByChain.put(chain, parseDestination(comment));
                }
            } catch (RuntimeException | UnknownHostException e) {
                // A comment we cannot read was not written by this forwarder: not ours, left alone.
            }
        }
        for (Owned o : services.values()) {
            destsByChain.forEach((chain, d) -> {
                if (chain.equals(destinationChain(o.service().key(), d.key()))) {
                    o.destinations().put(d.key(), d);
                }
            });
        }
    }

    @SuppressWarnings("unchecked")
    private static String targetOf(Map<?, ?> rule) {
        List<Object> expr = (List<Object>) rule.get("expr");
        for (Object e : expr) {
            if (((Map<String, Object>) e).get("jump") instanceof Map<?, ?> j) {
                return (String) j.get("target");
            }
        }
        return null;
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
}
