package dev.vigil.daemon.forward;

import dev.vigil.config.model.LvsMethod;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.ForwardingMethod;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns {@code virtual_server} blocks and the health of their real servers into the forwarder's
 * desired state, with keepalived's service semantics:
 * <ul>
 *   <li>a real server that is down is left out, or kept at weight 0 with {@code inhibit_on_failure};</li>
 *   <li>quorum: the service is up while the live weight stays at or above {@code quorum}; with
 *       {@code hysteresis} it goes down below {@code quorum - hysteresis} and up again only at
 *       {@code quorum + hysteresis};</li>
 *   <li>while the quorum is lost the {@code sorry_server} (if any) replaces the real servers.</li>
 * </ul>
 * Pure: health goes in as a set of down real servers, the quorum memory as a map the caller keeps.
 */
public final class ServiceMapper {

    private final Map<ServiceKey, Boolean> quorumUp = new HashMap<>();

    /** The name of a real server in the health set: {@code [10.0.0.2]:80 of [10.0.0.1]:80}. */
    public static String realServerName(VirtualServer vs, RealServer rs) {
        return "[" + rs.address().getHostAddress() + "]:" + port(vs, rs) + " of " + virtualName(vs);
    }

    static String virtualName(VirtualServer vs) {
        return vs.fwmark() != null ? "fwmark " + vs.fwmark()
                : "[" + vs.address().getHostAddress() + "]:" + (vs.port() == null ? 0 : vs.port());
    }

    /**
     * The desired state for {@code servers} (groups are not expanded here) given the real servers
     * that are down ({@link #realServerName} names).
     */
    public DesiredState map(List<VirtualServer> servers, Set<String> down) {
        List<VirtualService> out = new ArrayList<>();
        for (VirtualServer vs : servers) {
            if (vs.group() != null) {
                continue;
            }
            ServiceKey key = key(vs);
            Service service = service(vs, key);
            List<Destination> live = new ArrayList<>();
            List<Destination> inhibited = new ArrayList<>();
            int liveWeight = 0;
            for (RealServer rs : vs.realServers()) {
                Destination d = destination(vs, rs, rs.weight());
                if (!down.contains(realServerName(vs, rs))) {
                    live.add(d);
                    liveWeight += rs.weight();
                } else if (rs.inhibitOnFailure()) {
                    inhibited.add(destination(vs, rs, 0));
                }
            }
            boolean up = quorum(key, vs, liveWeight);
            List<Destination> dests = new ArrayList<>();
            if (up) {
                dests.addAll(live);
                dests.addAll(inhibited);
            } else if (vs.sorryServer() != null) {
                // keepalived: while the quorum is lost the sorry server replaces every real server.
                InetAddress a = vs.sorryServer().address();
                int p = vs.sorryServer().port() != null ? vs.sorryServer().port() : (vs.port() == null ? 0 : vs.port());
                LvsMethod m = vs.sorryServerLvsMethod() != null ? vs.sorryServerLvsMethod() : vs.lvsMethod();
                dests.add(new Destination(a, p, method(m), 1, 0, 0));
            } else {
                dests.addAll(live);
                dests.addAll(inhibited);
            }
            out.add(VirtualService.of(service, dests));
        }
        return DesiredState.of(out);
    }

    /** Whether the service has its quorum, remembering the previous answer for hysteresis. */
    boolean quorum(ServiceKey key, VirtualServer vs, int liveWeight) {
        boolean was = quorumUp.getOrDefault(key, true);
        boolean now = was ? liveWeight >= vs.quorum() - vs.hysteresis() : liveWeight >= vs.quorum() + vs.hysteresis();
        quorumUp.put(key, now);
        return now;
    }

    static ServiceKey key(VirtualServer vs) {
        if (vs.fwmark() != null) {
            AddressFamily f = "inet6".equals(vs.ipFamily()) ? AddressFamily.INET6 : AddressFamily.INET;
            return ServiceKey.fwmark(vs.fwmark(), f);
        }
        Protocol p = Protocol.valueOf(vs.protocol() == null ? "TCP" : vs.protocol().toUpperCase(Locale.ROOT));
        return ServiceKey.of(vs.address(), vs.port() == null ? 0 : vs.port(), p);
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
        if (!granularity.contains(".")) {
            return Integer.parseInt(granularity);
        }
        int bits = 0;
        for (String octet : granularity.split("\\.")) {
            bits += Integer.bitCount(Integer.parseInt(octet));
        }
        return bits;
    }

    private static Destination destination(VirtualServer vs, RealServer rs, int weight) {
        return new Destination(rs.address(), port(vs, rs), method(rs.lvsMethod() != null ? rs.lvsMethod() : vs.lvsMethod()),
                weight, rs.uthreshold(), rs.lthreshold());
    }

    private static int port(VirtualServer vs, RealServer rs) {
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
}
