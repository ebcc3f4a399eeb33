package dev.vigil.kernel.forward;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Traffic counters per service and destination, as far as a backend can count them.
 *
 * @param services counters by service
 */
public record ForwarderStats(SortedMap<ServiceKey, ServiceStats> services) {
    public ForwarderStats {
        services = Collections.unmodifiableSortedMap(new TreeMap<>(services));
    }

    /**
     * Counters of one service.
     *
     * @param total        the service's totals
     * @param destinations counters per destination
     */
    public record ServiceStats(Counters total, SortedMap<DestinationKey, Counters> destinations) {
        public ServiceStats {
            destinations = Collections.unmodifiableSortedMap(new TreeMap<>(destinations));
        }
    }

    /**
     * The counters IPVS keeps for a service or destination ({@code struct ip_vs_kstats} and the
     * destination's connection gauges, as {@code ipvsadm -Ln --stats} and {@code ipvsadm -Ln} print
     * them). "In" is the client-to-server direction, "out" the replies that pass back through the
     * director (none with DR or TUN, whose real servers answer the client directly). A quantity the
     * backend does not count is {@link #UNKNOWN}, never a made-up 0.
     *
     * @param connections         connections scheduled ({@code Conns})
     * @param inPackets           packets from clients ({@code InPkts})
     * @param outPackets          packets of replies ({@code OutPkts})
     * @param inBytes             bytes from clients ({@code InBytes})
     * @param outBytes            bytes of replies ({@code OutBytes})
     * @param activeConnections   connections established now ({@code ActiveConn}; a destination's gauge,
     *                            IPVS keeps none per service)
     * @param inactiveConnections connections in any other state now ({@code InActConn}; likewise)
     */
    public record Counters(long connections, long inPackets, long outPackets, long inBytes, long outBytes,
                           long activeConnections, long inactiveConnections) {
        /** A quantity the backend does not count. */
        public static final long UNKNOWN = -1;

        /** Nothing counted (every quantity known to be 0). */
        public static final Counters ZERO = new Counters(0, 0, 0, 0, 0, 0, 0);

        public Counters {
            for (long v : new long[] {connections, inPackets, outPackets, inBytes, outBytes, activeConnections,
                    inactiveConnections}) {
                if (v < UNKNOWN) {
                    throw new IllegalArgumentException("counter " + v + " (expected: >= 0, or UNKNOWN)");
                }
            }
        }

        /**
         * Counters of a backend that counts connections, packets and bytes in the client-to-server
         * direction only, and keeps no connection gauges: the replies and the gauges are
         * {@link #UNKNOWN}.
         */
        public Counters(long connections, long packets, long bytes) {
            this(connections, packets, UNKNOWN, bytes, UNKNOWN, UNKNOWN, UNKNOWN);
        }

        /** Whether {@code value} is counted (not {@link #UNKNOWN}). */
        public static boolean known(long value) {
            return value != UNKNOWN;
        }

        /** The element-wise sum; a quantity unknown on either side is unknown in the sum. */
        public Counters plus(Counters o) {
            return new Counters(sum(connections, o.connections), sum(inPackets, o.inPackets),
                    sum(outPackets, o.outPackets), sum(inBytes, o.inBytes), sum(outBytes, o.outBytes),
                    sum(activeConnections, o.activeConnections), sum(inactiveConnections, o.inactiveConnections));
        }

        private static long sum(long a, long b) {
            return a == UNKNOWN || b == UNKNOWN ? UNKNOWN : a + b;
        }
    }
}
