package dev.vigil.kernel.forward;

import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A service with its destinations, keyed and sorted by {@link DestinationKey}.
 *
 * @param service      the service
 * @param destinations its destinations
 */
public record VirtualService(Service service, SortedMap<DestinationKey, Destination> destinations) {
    public VirtualService {
        Objects.requireNonNull(service, "service");
        destinations = Collections.unmodifiableSortedMap(new TreeMap<>(destinations));
        destinations.forEach((k, d) -> {
            if (!d.key().equals(k)) {
                throw new IllegalArgumentException(k + " maps to " + d);
            }
            if (dev.vigil.kernel.AddressFamily.of(d.address()) != service.key().family()
                    && d.method() != ForwardingMethod.TUN) {
                throw new IllegalArgumentException(d.address() + " is not " + service.key().family()
                        + " (only TUN may cross families)");
            }
        });
    }

    /** A service with the given destinations; a destination key given twice is an error. */
    public static VirtualService of(Service service, Collection<Destination> destinations) {
        TreeMap<DestinationKey, Destination> map = new TreeMap<>();
        for (Destination d : destinations) {
            if (map.put(d.key(), d) != null) {
                throw new IllegalArgumentException("destination " + d.key() + " given twice for " + service.key());
            }
        }
        return new VirtualService(service, map);
    }

    /** The service key. */
    public ServiceKey key() {
        return service.key();
    }
}
