package dev.vigil.kernel.forward;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

import dev.vigil.kernel.forward.ForwardingOp.AddDestination;
import dev.vigil.kernel.forward.ForwardingOp.AddService;
import dev.vigil.kernel.forward.ForwardingOp.DeleteDestination;
import dev.vigil.kernel.forward.ForwardingOp.DeleteService;
import dev.vigil.kernel.forward.ForwardingOp.UpdateDestination;
import dev.vigil.kernel.forward.ForwardingOp.UpdateService;

/**
 * Computes the operations that turn one state into another. Pure: no I/O, deterministic order.
 *
 * <p>Order: first every removal (destinations of services that stay, then whole services), then per
 * service in key order its addition or update followed by its destinations' additions and updates.
 * Removing first means a destination moved between services, or a service re-created under the same
 * address with another protocol, never collides with its old self; a service always exists before
 * its destinations are added.
 */
public final class ForwardingDiff {
    private ForwardingDiff() {
    }

    /**
     * The operations that turn {@code current} into {@code desired}; empty when they are equal.
     *
     * <p>When {@code desired} was derived from {@code current} itself through a few
     * {@link DesiredState#with}/{@link DesiredState#without} steps (within
     * {@link DesiredState#LINEAGE_DEPTH}), only the services those steps changed are compared:
     * every other service is the same object in both states and yields no operation, so a change to
     * one service of many costs a few map look-ups. Otherwise both states are walked: they are
     * sorted by the same keys, so one merge walk over each pair of maps finds every difference, and
     * a service or destination map shared by both states is recognised by identity and not looked
     * into. Either way the operations and their order are the same.
     */
    public static List<ForwardingOp> between(DesiredState current, DesiredState desired) {
        if (current.services() == desired.services()) {
            return List.of();
        }
        Ops ops = new Ops();
        SortedSet<ServiceKey> changed = desired.changedSince(current);
        if (changed != null) {
            // In key order, as the walk would meet them.
            for (ServiceKey key : changed) {
                service(current.services().get(key), desired.services().get(key), ops);
            }
            return ops.list();
        }
        // A service's key is its value's key, so one iterator per map suffices; a service object
        // both states share is passed over without looking at its key.
        Iterator<VirtualService> lefts = current.services().values().iterator();
        Iterator<VirtualService> rights = desired.services().values().iterator();
        VirtualService had = lefts.hasNext() ? lefts.next() : null;
        VirtualService wanted = rights.hasNext() ? rights.next() : null;
        while (had != null || wanted != null) {
            if (had == wanted) {
                had = lefts.hasNext() ? lefts.next() : null;
                wanted = rights.hasNext() ? rights.next() : null;
                continue;
            }
            int c = had == null ? 1 : wanted == null ? -1 : compare(had.key(), wanted.key());
            service(c <= 0 ? had : null, c >= 0 ? wanted : null, ops);
            if (c <= 0) {
                had = lefts.hasNext() ? lefts.next() : null;
            }
            if (c >= 0) {
                wanted = rights.hasNext() ? rights.next() : null;
            }
        }
        return ops.list();
    }

    /** The operations of one service key, as the service was ({@code null}: absent) and is wanted. */
    private static void service(VirtualService had, VirtualService wanted, Ops ops) {
        if (had == wanted) {
            return;
        }
        if (wanted == null) {
            ops.serviceRemovals.add(new DeleteService(had.key()));
        } else if (had == null) {
            ops.additions.add(new AddService(wanted.service()));
            for (Destination d : wanted.destinations().values()) {
                ops.additions.add(new AddDestination(wanted.key(), d));
            }
        } else {
            if (!had.service().equals(wanted.service())) {
                ops.additions.add(new UpdateService(wanted.service()));
            }
            destinations(had, wanted, ops.destinationRemovals, ops.additions);
        }
    }

    /** The operations in the making, by kind; {@link #list} puts them in the order the class names. */
    private static final class Ops {
        final List<ForwardingOp> destinationRemovals = new ArrayList<>();
        final List<ForwardingOp> serviceRemovals = new ArrayList<>();
        final List<ForwardingOp> additions = new ArrayList<>();

        List<ForwardingOp> list() {
            List<ForwardingOp> ops = new ArrayList<>(destinationRemovals.size() + serviceRemovals.size()
                    + additions.size());
            ops.addAll(destinationRemovals);
            ops.addAll(serviceRemovals);
            ops.addAll(additions);
            return List.copyOf(ops);
        }
    }

    private static int compare(ServiceKey a, ServiceKey b) {
        return a == b || a.equals(b) ? 0 : a.compareTo(b);
    }

    private static void destinations(VirtualService had, VirtualService wanted, List<ForwardingOp> removals,
                                     List<ForwardingOp> additions) {
        if (had.destinations() == wanted.destinations()) {
            return;
        }
        ServiceKey key = wanted.key();
        Walk<DestinationKey, Destination> walk = new Walk<>(had.destinations(), wanted.destinations());
        while (walk.next()) {
            if (walk.right == null) {
                removals.add(new DeleteDestination(key, walk.left.key()));
            } else if (walk.left == null) {
                additions.add(new AddDestination(key, walk.right));
            } else if (walk.left != walk.right && !walk.left.equals(walk.right)) {
                additions.add(new UpdateDestination(key, walk.right));
            }
        }
    }

    /**
     * Walks two maps sorted by the same natural order side by side: each step yields the entry of
     * one key, from the left map, the right one or both. Keys are compared by identity and
     * {@code equals} first, which for the port's keys allocates nothing; the ordering comparison
     * only runs where the key sets differ.
     */
    private static final class Walk<K extends Comparable<K>, V> {
        // Keys and values of a sorted map iterate in the same order; unlike the entry set of an
        // unmodifiable map, neither wraps what it returns.
        private final Iterator<K> leftKeys;
        private final Iterator<V> leftValues;
        private final Iterator<K> rightKeys;
        private final Iterator<V> rightValues;
        private K lk;
        private K rk;
        V left;
        V right;

        Walk(Map<K, V> left, Map<K, V> right) {
            leftKeys = left.keySet().iterator();
            leftValues = left.values().iterator();
            rightKeys = right.keySet().iterator();
            rightValues = right.values().iterator();
            lk = leftKeys.hasNext() ? leftKeys.next() : null;
            rk = rightKeys.hasNext() ? rightKeys.next() : null;
        }

        boolean next() {
            if (lk == null && rk == null) {
                return false;
            }
            int c = lk == null ? 1 : rk == null ? -1 : sameKey(lk, rk) ? 0 : lk.compareTo(rk);
            left = c <= 0 ? leftValues.next() : null;
            right = c >= 0 ? rightValues.next() : null;
            if (c <= 0) {
                lk = leftKeys.hasNext() ? leftKeys.next() : null;
            }
            if (c >= 0) {
                rk = rightKeys.hasNext() ? rightKeys.next() : null;
            }
            return true;
        }

        private static <K> boolean sameKey(K a, K b) {
            // A state derived from another shares its key objects: identity settles most steps.
            return a == b || a.equals(b);
        }
    }

    /**
     * Applies {@code ops} to {@code state} as a backend would, for backends that keep a model and
     * for checking a diff: {@code apply(a, between(a, b)).equals(b)}.
     *
     * @throws IllegalStateException if an operation does not fit the state (adding what exists,
     *                               changing or deleting what does not)
     */
    public static DesiredState apply(DesiredState state, List<ForwardingOp> ops) {
        var services = new java.util.TreeMap<ServiceKey, VirtualService>(state.services());
        for (ForwardingOp op : ops) {
            VirtualService vs = services.get(op.serviceKey());
            switch (op) {
                case AddService a -> {
                    require(vs == null, op);
                    services.put(a.serviceKey(), new VirtualService(a.service(), new java.util.TreeMap<>()));
                }
                case UpdateService u -> {
                    require(vs != null, op);
                    services.put(u.serviceKey(), new VirtualService(u.service(), vs.destinations()));
                }
                case DeleteService d -> {
                    require(vs != null, op);
                    services.remove(d.serviceKey());
                }
                case AddDestination a -> {
                    require(vs != null && !vs.destinations().containsKey(a.destination().key()), op);
                    services.put(a.serviceKey(), withDestinations(vs, m -> m.put(a.destination().key(), a.destination())));
                }
                case UpdateDestination u -> {
                    require(vs != null && vs.destinations().containsKey(u.destination().key()), op);
                    services.put(u.serviceKey(), withDestinations(vs, m -> m.put(u.destination().key(), u.destination())));
                }
                case DeleteDestination d -> {
                    require(vs != null && vs.destinations().containsKey(d.destination()), op);
                    services.put(d.serviceKey(), withDestinations(vs, m -> m.remove(d.destination())));
                }
            }
        }
        return new DesiredState(services);
    }

    private static VirtualService withDestinations(VirtualService vs,
                                                   java.util.function.Consumer<Map<DestinationKey, Destination>> change) {
        var m = new java.util.TreeMap<DestinationKey, Destination>(vs.destinations());
        change.accept(m);
        return new VirtualService(vs.service(), m);
    }

    private static void require(boolean ok, ForwardingOp op) {
        if (!ok) {
            throw new IllegalStateException("operation does not fit the state: " + op);
        }
    }
}
