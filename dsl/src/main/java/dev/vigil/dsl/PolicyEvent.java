package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;

import java.time.Instant;
import java.util.Objects;

/**
 * An event as a handler's {@code event} sees it: typed getters for the fields of
 * {@link NotifierEvent}'s types ({@code null} when the event has no such field), and
 * {@link #field(String)} for any other.
 */
public final class PolicyEvent {

    private final NotifierEvent event;

    public PolicyEvent(NotifierEvent event) {
        this.event = Objects.requireNonNull(event, "event");
    }

    /** {@code vrrp.instance}, {@code real_server.down}, ... */
    public String getType() {
        return event.type();
    }

    public Instant getTime() {
        return event.time();
    }

    /** The {@code router_id} of the node it happened on. */
    public String getNode() {
        return event.node();
    }

    public String getInstance() {
        return field("instance");
    }

    public String getGroup() {
        return field("group");
    }

    /** The state before: {@code BACKUP}, {@code UP}, ... */
    public String getFrom() {
        return field("from");
    }

    /** The state after: {@code MASTER}, {@code DOWN}, ... */
    public String getTo() {
        return field("to");
    }

    public String getVirtualServer() {
        return field("virtual_server");
    }

    public String getRealServer() {
        return field("real_server");
    }

    public String getReason() {
        return field("reason");
    }

    public String getCause() {
        return field("cause");
    }

    public String getTracker() {
        return field("tracker");
    }

    public String getPriority() {
        return field("priority");
    }

    /** A field by its name in the event ({@code virtual_server}, {@code healthy}, ...), or {@code null}. */
    public String field(String name) {
        return event.detail(name);
    }

    @Override
    public String toString() {
        return event.type() + " " + event.details();
    }
}
