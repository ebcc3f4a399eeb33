package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Delivers events (VRRP transitions, real-server changes, the daemon's life cycle) to operators:
 * mail, a webhook, a chat room.
 *
 * <p><b>Threading and blocking.</b> The host calls {@link #deliver} on a thread of its own
 * delivery queue, one event at a time per notifier and in the order the events happened; the
 * VRRP engine and the forwarder never wait for it. {@code deliver} may block on I/O, but should
 * bound its own waits: the host stops waiting after a timeout, counts a failure and goes on with
 * the next event. {@link #types()} may be called from any thread and must be quick.
 */
public interface Notifier extends ExtensionPoint {

    /** The notifier types this extension implements, e.g. {@code webhook}. */
    Set<String> types();

    /** Delivers one event; throwing counts a failed delivery and is logged with the reason. */
    void deliver(Event event, ConfigBlock config) throws Exception;

    /**
     * One event.
     *
     * @param type    e.g. {@code vrrp.transition}, {@code real_server.down}
     * @param node    the {@code router_id}
     * @param time    when it happened
     * @param details event-specific fields (instance, old and new state, reason, ...)
     */
    record Event(String type, String node, Instant time, Map<String, String> details) {
        public Event {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(time, "time");
            details = Map.copyOf(details);
        }
    }
}
