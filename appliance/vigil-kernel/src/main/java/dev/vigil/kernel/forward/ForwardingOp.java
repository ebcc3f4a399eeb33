package dev.vigil.kernel.forward;

/**
 * One change to a forwarder's rules, as computed by {@link ForwardingDiff}. Deleting a service
 * deletes its destinations with it, so no separate destination deletions accompany it.
 */
public sealed interface ForwardingOp {
    /** The service the change concerns. */
    ServiceKey serviceKey();

    /** Adds a service (its destinations follow as {@link AddDestination}s). */
    record AddService(Service service) implements ForwardingOp {
        @Override
        public ServiceKey serviceKey() {
            return service.key();
        }
    }

    /** Changes a service's attributes in place (same key). */
    record UpdateService(Service service) implements ForwardingOp {
        @Override
        public ServiceKey serviceKey() {
            return service.key();
        }
    }

    /** Deletes a service and all its destinations. */
    record DeleteService(ServiceKey serviceKey) implements ForwardingOp {
    }

    /** Adds a destination to a service. */
    record AddDestination(ServiceKey serviceKey, Destination destination) implements ForwardingOp {
    }

    /** Changes a destination's attributes in place (same address and port). */
    record UpdateDestination(ServiceKey serviceKey, Destination destination) implements ForwardingOp {
    }

    /** Removes a destination from a service that stays. */
    record DeleteDestination(ServiceKey serviceKey, DestinationKey destination) implements ForwardingOp {
    }
}
