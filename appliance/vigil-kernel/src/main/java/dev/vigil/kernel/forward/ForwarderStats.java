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
     * Counters; a backend that cannot count a quantity reports 0 for it.
     *
     * @param connections connections scheduled
     * @param packets     packets forwarded
     * @param bytes       bytes forwarded
     */
    public record Counters(long connections, long packets, long bytes) {
        /** Nothing counted. */
        public static final Counters ZERO = new Counters(0, 0, 0);

        /** The element-wise sum. */
        public Counters plus(Counters o) {
            return new Counters(connections + o.connections, packets + o.packets, bytes + o.bytes);
        }
    }
}
