package dev.vigil.daemon.forward;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.ForwarderStats;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The forwarder's table in the layout of {@code ipvsadm -Ln} and {@code ipvsadm -Ln --stats}, so
 * that eyes and scripts used to ipvsadm read it unchanged: the same title lines, service names
 * ({@code TCP  10.0.0.1:80}, {@code UDP  [2001:db8::1]:53}, {@code FWM  5}), addresses as
 * {@code inet_ntop} writes them, column widths and large-number suffixes (K, M, G, T), as ipvsadm's
 * {@code print_service_entry}, {@code print_title} and {@code print_largenum} lay them out.
 *
 * <p>Where ipvsadm prints the kernel's version and hash-table size, the first line names the backend
 * instead. What the backend does not count is shown as {@code -} rather than invented: a counter
 * that is {@link ForwarderStats.Counters#UNKNOWN} (nftables keeps no connection gauges, so
 * {@code ActiveConn} and {@code InActConn}, and counts no replies), and packets and bytes altogether
 * for a backend that counts only connections (nftables, whose NAT rule sees the first packet of a
 * connection only).
 */
public final class IpvsadmFormat {

    /** The version ipvsadm prints for the kernel's IPVS (1.2.1 in every kernel since 2.6.10). */
    static final String VERSION = "1.2.1";

    private static final Set<String> SCHED_FLAGS = Set.of("flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback",
            "mh-port", "mh-fallback");

    /** Counters of a service or destination the stats do not mention: nothing is known. */
    private static final ForwarderStats.Counters NOTHING = new ForwarderStats.Counters(ForwarderStats.Counters.UNKNOWN,
            ForwarderStats.Counters.UNKNOWN, ForwarderStats.Counters.UNKNOWN);

    private IpvsadmFormat() {
    }

    /**
     * The table.
     *
     * @param backend     the backend's name ({@code nftables}, {@code ipvs})
     * @param services    what the forwarder holds
     * @param stats       its counters: the gauges of the plain layout, the counters of the {@code --stats}
     *                    one ({@code null} or a missing entry: nothing known)
     * @param statsLayout whether to print the {@code --stats} layout
     * @param traffic     whether the backend counts packets and bytes (else only connections)
     */
    public static String render(String backend, DesiredState services, ForwarderStats stats, boolean statsLayout,
                                boolean traffic) {
        StringBuilder out = new StringBuilder();
        out.append("IP Virtual Server version ").append(VERSION).append(" (backend=").append(backend).append(")\n");
        if (statsLayout) {
            out.append(String.format("%-33s %8s %8s %8s %8s %8s%n", "Prot LocalAddress:Port",
                    "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"));
            out.append("  -> RemoteAddress:Port\n");
        } else {
            out.append("Prot LocalAddress:Port Scheduler Flags\n");
            out.append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        }
        for (VirtualService vs : services.services().values()) {
            String name = serviceName(vs.key());
            ForwarderStats.ServiceStats s = stats == null ? null : stats.services().get(vs.key());
            if (statsLayout) {
                out.append(String.format("%-33s", name));
                counters(out, s == null ? NOTHING : s.total(), traffic);
                out.append('\n');
                for (DestinationKey d : vs.destinations().keySet()) {
                    ForwarderStats.Counters c = s == null ? null : s.destinations().get(d);
                    out.append(String.format("  -> %-28s", destinationName(d)));
                    counters(out, c == null ? NOTHING : c, traffic);
                    out.append('\n');
                }
            } else {
                out.append(name).append(' ').append(attributes(vs.service())).append('\n');
                for (Destination d : vs.destinations().values()) {
                    ForwarderStats.Counters c = s == null ? null : s.destinations().get(d.key());
                    c = c == null ? NOTHING : c;
                    out.append(String.format("  -> %-28s %-7s %-6d %-10s %-10s%n", destinationName(d.key()),
                            forward(d), d.weight(), gauge(c.activeConnections()), gauge(c.inactiveConnections())));
                }
            }
        }
        return out.toString();
    }

    /** {@code TCP  10.0.0.1:80}, {@code UDP  [2001:db8::1]:53}, {@code FWM  5}, {@code FWM  5 IPv6}. */
    static String serviceName(ServiceKey k) {
        if (k.isFwmark()) {
            return "FWM  " + k.fwmark() + (k.family() == AddressFamily.INET6 ? " IPv6" : "");
        }
        String a = AddressText.of(k.address());
        return k.protocol() + "  " + (k.family() == AddressFamily.INET6 ? "[" + a + "]" : a) + ":" + k.port();
    }

    /** {@code 10.0.0.2:8080}, {@code [2001:db8::2]:8080}. */
    static String destinationName(DestinationKey d) {
        String a = AddressText.of(d.address());
        return (a.contains(":") ? "[" + a + "]" : a) + ":" + d.port();
    }

    /** An {@code ActiveConn}/{@code InActConn} column value: {@code %-10u} in ipvsadm, {@code -} when unknown. */
    private static String gauge(long v) {
        return ForwarderStats.Counters.known(v) ? Long.toString(v) : "-";
    }

    /** The scheduler, its flags, persistence and one-packet scheduling, as ipvsadm prints them. */
    static String attributes(Service s) {
        StringBuilder b = new StringBuilder(s.scheduler());
        List<String> flags = new ArrayList<>();
        for (String f : s.flags()) {
            if (SCHED_FLAGS.contains(f)) {
                flags.add(f);
            }
        }
        if (!flags.isEmpty()) {
            b.append(" (").append(String.join(",", flags)).append(')');
        }
        if (s.persistenceTimeout() > 0) {
            b.append(" persistent ").append(s.persistenceTimeout());
            int full = s.key().family() == AddressFamily.INET ? 32 : 128;
            if (s.persistencePrefix() != full) {
                b.append(" mask ").append(s.key().family() == AddressFamily.INET
                        ? netmask(s.persistencePrefix()) : Integer.toString(s.persistencePrefix()));
            }
        }
        if (s.flags().contains("ops")) {
            b.append(" ops");
        }
        return b.toString();
    }

    private static String netmask(int prefix) {
        long m = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
        return (m >> 24) + "." + ((m >> 16) & 0xff) + "." + ((m >> 8) & 0xff) + "." + (m & 0xff);
    }

    private static String forward(Destination d) {
        return switch (d.method()) {
            case NAT -> "Masq";
            case DR -> "Route";
            case TUN -> "Tunnel";
        };
    }

    /** {@code Conns InPkts OutPkts InBytes OutBytes}, each in 9 columns. */
    private static void counters(StringBuilder out, ForwarderStats.Counters c, boolean traffic) {
        out.append(largeNumber(c.connections()));
        out.append(largeNumber(traffic ? c.inPackets() : ForwarderStats.Counters.UNKNOWN));
        out.append(largeNumber(traffic ? c.outPackets() : ForwarderStats.Counters.UNKNOWN));
        out.append(largeNumber(traffic ? c.inBytes() : ForwarderStats.Counters.UNKNOWN));
        out.append(largeNumber(traffic ? c.outBytes() : ForwarderStats.Counters.UNKNOWN));
    }

    /**
     * A counter in 9 columns, scaled with K, M, G or T as ipvsadm's {@code print_largenum} does once
     * it needs more (dividing, so 999,999,999 is {@code 999999K}); {@code -} when unknown.
     */
    static String largeNumber(long v) {
        if (!ForwarderStats.Counters.known(v)) {
            return String.format("%9s", "-");
        }
        if (v < 100_000_000L) {
            return String.format("%9d", v);
        } else if (v < 1_000_000_000L) {
            return String.format("%8dK", v / 1_000L);
        } else if (v < 100_000_000_000L) {
            return String.format("%8dM", v / 1_000_000L);
        } else if (v < 100_000_000_000_000L) {
            return String.format("%8dG", v / 1_000_000_000L);
        }
        return String.format("%8dT", v / 1_000_000_000_000L);
    }
}
