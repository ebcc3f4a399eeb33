package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Delivers events (VRRP transitions, real-server changes, daemon life cycle) to operators. The
 * host calls {@link #deliver} on a notifier-owned executor; a slow or failing notifier never
 * delays the engine.
 */
public interface Notifier extends ExtensionPoint {

    /** The notifier types this extension implements, e.g. {@code webhook}. */
    Set<String> types();

    /** Delivers one event; throwing counts a delivery failure. */
    void deliver(Event event, ConfigBlock config) throws Exception;

    /**
     * One event.
     *
     * @param type    e.g. {@code vrrp.transition}
     * @param node    the {@code router_id}
     * @param time    when it happened
     * @param details event-specific fields (instance, old and new state, ...)
     */
    record Event(String type, String node, Instant time, Map<String, String> details) {
    }
}
