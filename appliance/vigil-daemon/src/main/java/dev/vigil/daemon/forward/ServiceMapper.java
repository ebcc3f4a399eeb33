package dev.vigil.daemon.forward;

import dev.vigil.config.model.Checker;
import dev.vigil.config.model.LvsMethod;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;
import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.ForwardingMethod;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns {@code virtual_server} blocks and the health of their real servers into the forwarder's
 * desired state, with keepalived's service semantics (KEEPALIVED.md §1.6, keepalived's
 * {@code check/ipwrapper.c}):
 * <ul>
 *   <li>a real server that is down is left out, or kept at weight 0 with {@code inhibit_on_failure};</li>
 *   <li>quorum: the service starts up when the live weight is at least {@code quorum + hysteresis};
 *       it goes down when the live weight falls to 0 or below {@code quorum - hysteresis}, and up
 *       again only at {@code quorum + hysteresis};</li>
 *   <li>while the quorum is lost the {@code sorry_server} (if any) replaces the live real servers
 *       (inhibited ones stay at weight 0); with {@code sorry_server_inhibit} it is kept at weight 0
 *       while the quorum holds;</li>
 *   <li>a {@code virtual_server group G} becomes one service per member of the
 *       {@code virtual_server_group}: every address of an address, range ({@code 10.0.0.1-5}) or
 *       CIDR entry with the entry's port, and every fwmark entry; all share the real servers, their
 *       health and one quorum.</li>
 * </ul>
 * Pure apart from the quorum memory it keeps between calls (for hysteresis): health goes in as the
 * set of real servers that are down, by {@link #realServerName} names.
 */
public final class ServiceMapper {

    /** The most services one group entry may expand to. */
    static final int MAX_ENTRY_SIZE = 65_536;

    /**
     * What one mapping gives.
     *
     * @param desired       the services to hand to the forwarder
     * @param quorum        whether each virtual server ({@link #virtualName}) has its quorum
     * @param quorumChanges the quorum changes since the previous call, including each virtual server's first
     * @param problems      what could not be mapped, one sentence each (the rest still is)
     */
    public record Result(DesiredState desired, Map<String, Boolean> quorum, List<QuorumChange> quorumChanges,
                         List<String> problems) {
        public Result {
            quorum = Map.copyOf(quorum);
            quorumChanges = List.copyOf(quorumChanges);
            problems = List.copyOf(problems);
        }
    }

    /**
     * A virtual server gained or lost its quorum.
     *
     * @param server     the virtual server
     * @param up         whether it now has its quorum
     * @param initial    whether this is the first time the virtual server is mapped
     * @param liveWeight the sum of the live real servers' weights
     */
    public record QuorumChange(VirtualServer server, boolean up, boolean initial, int liveWeight) {
    }

    private final Map<String, Boolean> quorumUp = new HashMap<>();

    /**
     * A virtual server's name, as keepalived writes it: {@code [10.0.0.1]:tcp:80}, {@code FWM 5} or
     * {@code group WEB:tcp}.
     */
    public static String virtualName(VirtualServer vs) {
        String proto = vs.protocol() == null ? "tcp" : vs.protocol().toLowerCase(Locale.ROOT);
        if (vs.fwmark() != null) {
            return "FWM " + vs.fwmark();
        }
        if (vs.group() != null) {
            return "group " + vs.group() + ":" + proto;
        }
        return "[" + vs.address().getHostAddress() + "]:" + proto + ":" + (vs.port() == null ? 0 : vs.port());
    }

    /** A real server's name in the health set: {@code [10.0.0.2]:80 of [10.0.0.1]:tcp:80}. */
    public static String realServerName(VirtualServer vs, RealServer rs) {
        return realServerAddress(vs, rs) + " of " + virtualName(vs);
    }

    /** A real server's address and port as events name it: {@code [10.0.0.2]:80}. */
    public static String realServerAddress(VirtualServer vs, RealServer rs) {
        return "[" + rs.address().getHostAddress() + "]:" + port(vs, rs);
    }

    /**
     * Whether a real server starts down: {@code alpha} on it (or inherited from its virtual server)
     * or on any of its checkers means it waits for a check (or the command) to say it is up.
     */
    public static boolean startsDown(RealServer rs) {
        if (rs.alpha()) {
            return true;
        }
        for (Checker c : rs.checkers()) {
            if (c.common() != null && c.common().alpha()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The desired state for {@code servers}, groups expanded through {@code groups}, given the real
     * servers that are down, every real server at its configured weight.
     */
    public Result map(List<VirtualServer> servers, List<VirtualServerGroup> groups, Set<String> down) {
        return map(servers, groups, down, Map.of());
    }

    /**
     * The desired state for {@code servers}, groups expanded through {@code groups}, given the real
     * servers that are down and the weights a checker set ({@code MISC_CHECK}'s {@code misc_dynamic}),
     * by {@link #realServerName} names. A set weight replaces the configured one in the destination
     * and in the live weight the quorum is measured by, as keepalived's ipwrapper.c
     * {@code update_svr_wgt} does; an inhibited real server stays at weight 0.
     */
    public Result map(List<VirtualServer> servers, List<VirtualServerGroup> groups, Set<String> down,
                      Map<String, Integer> weights) {
        Map<String, VirtualServerGroup> byName = new HashMap<>();
        groups.forEach(g -> byName.put(g.name(), g));
        Map<ServiceKey, VirtualService> out = new TreeMap<>();
        Map<ServiceKey, String> owner = new HashMap<>();
        Map<String, Boolean> quorum = new LinkedHashMap<>();
        List<QuorumChange> changes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (VirtualServer vs : servers) {
            String name = virtualName(vs);
            if (!seen.add(name)) {
                problems.add("virtual_server " + name + " at " + where(vs) + " is defined twice; the first is used");
                continue;
            }
            List<ServiceKey> keys = keys(vs, byName, problems);
            Map<DestinationKey, Destination> live = new LinkedHashMap<>();
            Map<DestinationKey, Destination> inhibited = new LinkedHashMap<>();
            int liveWeight = 0;
            for (RealServer rs : vs.realServers()) {
                String rsName = realServerName(vs, rs);
                int weight = weights.getOrDefault(rsName, rs.weight());
                Destination d = destination(vs, rs, weight);
                if (!down.contains(rsName)) {
                    live.put(d.key(), d);
                    liveWeight += weight;
                } else if (rs.inhibitOnFailure()) {
                    inhibited.put(d.key(), d.withWeight(0));
                }
            }
            Boolean was = quorumUp.get(name);
            boolean up = hasQuorum(was, vs, liveWeight);
            quorumUp.put(name, up);
            quorum.put(name, up);
            if (was == null || was != up) {
                changes.add(new QuorumChange(vs, up, was == null, liveWeight));
            }
            Map<DestinationKey, Destination> dests = new LinkedHashMap<>(inhibited);
            Destination sorry = sorryServer(vs);
            if (up || sorry == null) {
                dests.putAll(live);
                if (sorry != null && vs.sorryServerInhibit() && !dests.containsKey(sorry.key())) {
                    dests.put(sorry.key(), sorry.withWeight(0));
                }
            } else {
                dests.put(sorry.key(), sorry);
            }
            for (ServiceKey key : keys) {
                String other = owner.putIfAbsent(key, name);
                if (other != null) {
                    problems.add("service " + key + " of virtual_server " + name + " at " + where(vs)
                            + " is already defined by " + other + "; ignored");
                    continue;
                }
                List<Destination> fit = new ArrayList<>();
                for (Destination d : dests.values()) {
                    if (d.method() == ForwardingMethod.TUN || AddressFamily.of(d.address()) == key.family()) {
                        fit.add(d);
                    } else {
                        problems.add("real server " + d.key() + " of virtual_server " + name + " at " + where(vs)
                                + " is not " + familyName(key.family()) + " like service " + key
                                + " (only TUN may cross families); left out of it");
                    }
                }
                out.put(key, VirtualService.of(service(vs, key), fit));
            }
        }
        quorumUp.keySet().retainAll(seen);
        return new Result(new DesiredState(new TreeMap<>(out)), quorum, changes, problems);
    }

    /**
     * keepalived's quorum with hysteresis: at first up when the live weight reaches
     * {@code quorum + hysteresis}; while up, down when it falls to 0 or below {@code quorum - hysteresis};
     * while down, up again at {@code quorum + hysteresis}.
     */
    static boolean hasQuorum(Boolean was, VirtualServer vs, long liveWeight) {
        long up = (long) vs.quorum() + vs.hysteresis();
        long down = (long) vs.quorum() - vs.hysteresis();
        if (was != null && was) {
            return liveWeight > 0 && liveWeight >= down;
        }
        return liveWeight >= up;
    }

    /** The service keys of a virtual server: one, or one per member of its group. */
    static List<ServiceKey> keys(VirtualServer vs, Map<String, VirtualServerGroup> groups, List<String> problems) {
        if (vs.fwmark() != null) {
            return List.of(ServiceKey.fwmark(vs.fwmark(), fwmarkFamily(vs, null)));
        }
        Protocol protocol = protocol(vs);
        if (vs.group() == null) {
            return List.of(ServiceKey.of(vs.address(), vs.port() == null ? 0 : vs.port(), protocol));
        }
        VirtualServerGroup g = groups.get(vs.group());
        if (g == null) {
            problems.add("virtual_server " + virtualName(vs) + " at " + where(vs) + ": no virtual_server_group \""
                    + vs.group() + "\"");
            return List.of();
        }
        List<ServiceKey> keys = new ArrayList<>();
        for (VirtualServerGroup.Entry e : g.entries()) {
            if (e.fwmark() != null) {
                keys.add(ServiceKey.fwmark(e.fwmark(), fwmarkFamily(vs, e.family())));
                continue;
            }
            List<InetAddress> addresses = addresses(e);
            if (addresses == null) {
                problems.add("virtual_server_group " + g.name() + " entry at " + e.ref().file().getFileName() + ":"
                        + e.ref().line() + " covers more than " + MAX_ENTRY_SIZE + " addresses; ignored");
                continue;
            }
            for (InetAddress a : addresses) {
                keys.add(ServiceKey.of(a, e.port() == null ? 0 : e.port(), protocol));
            }
        }
        return keys;
    }

    /**
     * Every address of a group entry: from {@code start} to {@code end}, or for a CIDR entry from the
     * address written to the end of its block; null when there are more than {@link #MAX_ENTRY_SIZE}.
     */
    static List<InetAddress> addresses(VirtualServerGroup.Entry e) {
        byte[] first = e.start().getAddress();
        BigInteger from = new BigInteger(1, first);
        BigInteger to;
        if (e.prefixLength() != null) {
            int hostBits = first.length * 8 - e.prefixLength();
            to = from.or(BigInteger.ONE.shiftLeft(hostBits).subtract(BigInteger.ONE));
        } else {
            to = new BigInteger(1, (e.end() != null ? e.end() : e.start()).getAddress());
        }
        if (to.subtract(from).compareTo(BigInteger.valueOf(MAX_ENTRY_SIZE)) >= 0) {
            return null;
        }
        List<InetAddress> out = new ArrayList<>();
        for (BigInteger v = from; v.compareTo(to) <= 0; v = v.add(BigInteger.ONE)) {
            out.add(address(v, first.length));
        }
        return out;
    }

    private static InetAddress address(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        byte[] b = new byte[length];
        int n = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - n, b, length - n, n);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fwmark service's family: the entry's, else {@code ip_family}, else its real servers'. */
    private static AddressFamily fwmarkFamily(VirtualServer vs, String entryFamily) {
        String f = entryFamily != null ? entryFamily : vs.ipFamily();
        if (f != null) {
            return "inet6".equals(f) ? AddressFamily.INET6 : AddressFamily.INET;
        }
        for (RealServer rs : vs.realServers()) {
            if (effectiveMethod(vs, rs) != ForwardingMethod.TUN) {
                return AddressFamily.of(rs.address());
            }
        }
        return AddressFamily.INET;
    }

    private static Protocol protocol(VirtualServer vs) {
        return Protocol.valueOf(vs.protocol() == null ? "TCP" : vs.protocol().toUpperCase(Locale.ROOT));
    }

    static Service service(VirtualServer vs, ServiceKey key) {
        Service s = Service.of(key, vs.lbAlgo() == null ? "wlc" : vs.lbAlgo());
        if (vs.persistenceTimeout() != null) {
            int prefix = key.family() == AddressFamily.INET ? 32 : 128;
            if (vs.persistenceGranularity() != null) {
                prefix = prefix(vs.persistenceGranularity(), prefix);
            }
            s = new Service(key, s.scheduler(), (int) vs.persistenceTimeout().toSeconds(), prefix, vs.flags());
        } else if (!vs.flags().isEmpty()) {
            s = new Service(key, s.scheduler(), 0, s.persistencePrefix(), vs.flags());
        }
        return s;
    }

    /** {@code persistence_granularity}: a prefix length or an IPv4 netmask. */
    static int prefix(String granularity, int otherwise) {
        try {
            if (!granularity.contains(".")) {
                return Integer.parseInt(granularity);
            }
            int bits = 0;
            for (String octet : granularity.split("\\.")) {
                bits += Integer.bitCount(Integer.parseInt(octet));
            }
            return bits;
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private static Destination sorryServer(VirtualServer vs) {
        if (vs.sorryServer() == null) {
            return null;
        }
        InetAddress a = vs.sorryServer().address();
        int p = vs.sorryServer().port() != null ? vs.sorryServer().port() : (vs.port() == null ? 0 : vs.port());
        LvsMethod m = vs.sorryServerLvsMethod() != null ? vs.sorryServerLvsMethod() : vs.lvsMethod();
        return new Destination(a, p, method(m), 1, 0, 0);
    }

    private static Destination destination(VirtualServer vs, RealServer rs, int weight) {
        return new Destination(rs.address(), port(vs, rs), effectiveMethod(vs, rs), weight, rs.uthreshold(),
                rs.lthreshold());
    }

    private static ForwardingMethod effectiveMethod(VirtualServer vs, RealServer rs) {
        return method(rs.lvsMethod() != null ? rs.lvsMethod() : vs.lvsMethod());
    }

    static int port(VirtualServer vs, RealServer rs) {
        return rs.port() != null ? rs.port() : vs.port() != null ? vs.port() : 0;
    }

    private static ForwardingMethod method(LvsMethod m) {
        if (m == null) {
            return ForwardingMethod.NAT;
        }
        return switch (m.kind()) {
            case NAT -> ForwardingMethod.NAT;
            case DR -> ForwardingMethod.DR;
            case TUN -> ForwardingMethod.TUN;
        };
    }

    private static String familyName(AddressFamily f) {
        return f == AddressFamily.INET ? "IPv4" : "IPv6";
    }

    static String where(VirtualServer vs) {
        return vs.ref() == null ? "?" : vs.ref().file().getFileName() + ":" + vs.ref().line();
    }
}
