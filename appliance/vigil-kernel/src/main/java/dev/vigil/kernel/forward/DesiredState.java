package dev.vigil.kernel.forward;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The complete set of services and destinations a forwarder should hold. The daemon always hands
 * over the whole set; what is not in it is removed (among the rules the forwarder owns).
 *
 * @param services the services, keyed and sorted by {@link ServiceKey}
 */
public record DesiredState(SortedMap<ServiceKey, VirtualService> services) {
    /** No services. */
    public static final DesiredState EMPTY = new DesiredState(new TreeMap<>());

    public DesiredState {
        services = Collections.unmodifiableSortedMap(new TreeMap<>(services));
        services.forEach((k, v) -> {
            if (!v.key().equals(k)) {
                throw new IllegalArgumentException(k + " maps to " + v.key());
            }
        });
    }

    /** A state of the given services; a service key given twice is an error. */
    public static DesiredState of(Collection<VirtualService> services) {
        TreeMap<ServiceKey, VirtualService> map = new TreeMap<>();
        for (VirtualService s : services) {
            if (map.put(s.key(), s) != null) {
                throw new IllegalArgumentException("service " + s.key() + " given twice");
            }
        }
        return new DesiredState(map);
    }

    /** A state of the given services. */
    public static DesiredState of(VirtualService... services) {
        return of(List.of(services));
    }

    /** A copy with {@code service} added or replaced. */
    public DesiredState with(VirtualService service) {
        TreeMap<ServiceKey, VirtualService> map = new TreeMap<>(services);
        map.put(service.key(), service);
        return new DesiredState(map);
    }

    /** A copy without the service keyed {@code key}. */
    public DesiredState without(ServiceKey key) {
        TreeMap<ServiceKey, VirtualService> map = new TreeMap<>(services);
        map.remove(key);
        return new DesiredState(map);
    }

    /** Whether there are no services. */
    public boolean isEmpty() {
        return services.isEmpty();
    }
}
