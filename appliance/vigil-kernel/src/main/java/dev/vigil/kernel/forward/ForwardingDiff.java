package dev.vigil.kernel.forward;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    /** The operations that turn {@code current} into {@code desired}; empty when they are equal. */
    public static List<ForwardingOp> between(DesiredState current, DesiredState desired) {
        List<ForwardingOp> ops = new ArrayList<>();
        for (Map.Entry<ServiceKey, VirtualService> e : current.services().entrySet()) {
            VirtualService wanted = desired.services().get(e.getKey());
            if (wanted != null) {
                for (DestinationKey d : e.getValue().destinations().keySet()) {
                    if (!wanted.destinations().containsKey(d)) {
                        ops.add(new DeleteDestination(e.getKey(), d));
                    }
                }
            }
        }
        for (ServiceKey key : current.services().keySet()) {
            if (!desired.services().containsKey(key)) {
                ops.add(new DeleteService(key));
            }
        }
        for (Map.Entry<ServiceKey, VirtualService> e : desired.services().entrySet()) {
            VirtualService had = current.services().get(e.getKey());
            VirtualService wanted = e.getValue();
            if (had == null) {
                ops.add(new AddService(wanted.service()));
            } else if (!had.service().equals(wanted.service())) {
                ops.add(new UpdateService(wanted.service()));
            }
            for (Destination d : wanted.destinations().values()) {
                Destination old = had == null ? null : had.destinations().get(d.key());
                if (old == null) {
                    ops.add(new AddDestination(e.getKey(), d));
                } else if (!old.equals(d)) {
                    ops.add(new UpdateDestination(e.getKey(), d));
                }
            }
        }
        return List.copyOf(ops);
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
