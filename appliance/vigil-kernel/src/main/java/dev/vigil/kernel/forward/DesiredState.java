package dev.vigil.kernel.forward;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The complete set of services and destinations a forwarder should hold. The daemon always hands
 * over the whole set; what is not in it is removed (among the rules the forwarder owns).
 *
 * <p><b>Lineage.</b> A state made by {@link #with} or {@link #without} remembers the states it was
 * derived from, up to {@link #LINEAGE_DEPTH} derivations back, and the service each derivation
 * changed, so that {@link ForwardingDiff#between} can compare it with one of those states by
 * looking at the changed services only, however many services there are. What it keeps of an
 * ancestor is that ancestor's service map (which the ancestor shares with no other state), not the
 * ancestor itself: an ancestor would keep its own ancestors alive in turn, and a long run of changes
 * would keep every state it passed through. A state therefore holds at most
 * {@value #LINEAGE_DEPTH} older maps, and a derivation further back than that is forgotten.
 * Lineage is not part of the value: states are equal when their services are, and a state made by
 * the constructor or {@link #of} has none.
 */
public final class DesiredState {
    /** How many derivations back a state made by {@link #with} or {@link #without} remembers. */
    public static final int LINEAGE_DEPTH = 8;

    // Before EMPTY, which the constructor gives it.
    private static final Step[] NO_LINEAGE = {};

    /** No services. */
    public static final DesiredState EMPTY = new DesiredState(new TreeMap<>());

    private final SortedMap<ServiceKey, VirtualService> services;
    /**
     * Nearest first: {@code lineage[i]} holds the service map of the state {@code i + 1} derivations
     * back and the key of the service the derivation from it changed.
     */
    private final Step[] lineage;

    /** One derivation: the map of the state derived from, and the key of the service it changed. */
    private record Step(SortedMap<ServiceKey, VirtualService> from, ServiceKey changed) {
    }

    /**
     * A state of {@code services}, copied; a state made this way has no lineage.
     *
     * @param services the services, keyed and sorted by {@link ServiceKey}
     * @throws IllegalArgumentException if a key is not its service's key
     */
    public DesiredState(SortedMap<ServiceKey, VirtualService> services) {
        Objects.requireNonNull(services, "services");
        // In the keys' natural order whatever order the given map keeps (the diff walks states in
        // that order); putAll copies a naturally ordered map in one linear pass.
        TreeMap<ServiceKey, VirtualService> copy = new TreeMap<>();
        copy.putAll(services);
        copy.forEach((k, v) -> {
            if (!v.key().equals(k)) {
                throw new IllegalArgumentException(k + " maps to " + v.key());
            }
        });
        this.services = Collections.unmodifiableSortedMap(copy);
        this.lineage = NO_LINEAGE;
    }

    /**
     * A state of {@code validated}, which the caller made from {@code parent}'s services by changing
     * the service keyed {@code changed} only, and hands over without keeping a reference.
     */
    private DesiredState(TreeMap<ServiceKey, VirtualService> validated, DesiredState parent, ServiceKey changed) {
        this.services = Collections.unmodifiableSortedMap(validated);
        Step[] steps = new Step[Math.min(parent.lineage.length + 1, LINEAGE_DEPTH)];
        steps[0] = new Step(parent.services, changed);
        System.arraycopy(parent.lineage, 0, steps, 1, steps.length - 1);
        this.lineage = steps;
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

    /** The services, keyed and sorted by {@link ServiceKey}; unmodifiable. */
    public SortedMap<ServiceKey, VirtualService> services() {
        return services;
    }

    /** A copy with {@code service} added or replaced, derived from this state (see the lineage above). */
    public DesiredState with(VirtualService service) {
        Objects.requireNonNull(service, "service");
        TreeMap<ServiceKey, VirtualService> map = new TreeMap<>(services);
        map.put(service.key(), service);
        return new DesiredState(map, this, service.key());
    }

    /** A copy without the service keyed {@code key}, derived from this state (see the lineage above). */
    public DesiredState without(ServiceKey key) {
        Objects.requireNonNull(key, "key");
        TreeMap<ServiceKey, VirtualService> map = new TreeMap<>(services);
        map.remove(key);
        return new DesiredState(map, this, key);
    }

    /** Whether there are no services. */
    public boolean isEmpty() {
        return services.isEmpty();
    }

    /**
     * The keys of the services that may differ between {@code earlier} and this state, sorted, when
     * this state descends from {@code earlier} itself (identity, not equality) within its lineage;
     * {@code null} otherwise. Every service whose key is not returned is the same object in both.
     */
    SortedSet<ServiceKey> changedSince(DesiredState earlier) {
        for (int i = 0; i < lineage.length; i++) {
            if (lineage[i].from() == earlier.services) {
                SortedSet<ServiceKey> keys = new TreeSet<>();
                for (int j = 0; j <= i; j++) {
                    keys.add(lineage[j].changed());
                }
                return keys;
            }
        }
        return null;
    }

    /** How many derivations back this state remembers (0 for a state made by the constructor or {@link #of}). */
    int lineageDepth() {
        return lineage.length;
    }

    /** Equal when the services are equal; lineage is not compared. */
    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof DesiredState other && services.equals(other.services);
    }

    @Override
    public int hashCode() {
        return services.hashCode();
    }

    @Override
    public String toString() {
        return "DesiredState[services=" + services + "]";
    }
}
