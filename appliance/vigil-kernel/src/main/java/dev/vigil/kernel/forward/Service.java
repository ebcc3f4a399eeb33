package dev.vigil.kernel.forward;

import dev.vigil.kernel.AddressFamily;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A virtual service and its scheduling attributes (everything IPVS keeps per service except the
 * destinations).
 *
 * @param key                the service's identity
 * @param scheduler          the scheduler name ({@code rr}, {@code wrr}, {@code sh}, {@code wlc}, ...)
 * @param persistenceTimeout persistence timeout in seconds, 0 when not persistent
 * @param persistencePrefix  persistence granularity as a prefix length (32 or 128 = per client address)
 * @param flags              scheduler and service flags by keepalived name ({@code sh-port}, {@code ops}, ...)
 */
public record Service(ServiceKey key, String scheduler, int persistenceTimeout, int persistencePrefix,
                      Set<String> flags) {
    public Service {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(scheduler, "scheduler");
        if (persistenceTimeout < 0) {
            throw new IllegalArgumentException("persistence timeout " + persistenceTimeout);
        }
        int max = key.family() == AddressFamily.INET ? 32 : 128;
        if (persistencePrefix < 0 || persistencePrefix > max) {
            throw new IllegalArgumentException("persistence prefix " + persistencePrefix);
        }
        // Sorted so that equal flag sets print, compare and serialise alike.
        flags = Collections.unmodifiableSortedSet(new TreeSet<>(flags));
    }

    /** A non-persistent service without flags. */
    public static Service of(ServiceKey key, String scheduler) {
        return new Service(key, scheduler, 0, key.family() == AddressFamily.INET ? 32 : 128,
                Set.of());
    }

    /** A copy with another scheduler. */
    public Service withScheduler(String newScheduler) {
        return new Service(key, newScheduler, persistenceTimeout, persistencePrefix, flags);
    }

    /** A copy with a persistence timeout in seconds. */
    public Service withPersistence(int timeoutSeconds) {
        return new Service(key, scheduler, timeoutSeconds, persistencePrefix, flags);
    }
}
