package dev.vigil.api;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One event for the notifiers: what happened ({@link #type}), on which node, when, and the details
 * an operator needs, as text. The details of each type are listed with it; a type may gain fields,
 * never lose them.
 *
 * @param type    one of the {@code TYPES}, e.g. {@link #VRRP_INSTANCE}
 * @param node    the {@code router_id} of the node it happened on
 * @param time    when it happened
 * @param details the fields of the type, in a stable order
 */
public record NotifierEvent(String type, String node, Instant time, Map<String, String> details) {

    /** An instance changed state: {@code instance}, {@code from}, {@code to}, {@code priority}, {@code cause}. */
    public static final String VRRP_INSTANCE = "vrrp.instance";
    /** A sync group changed state: {@code group}, {@code from}, {@code to}, {@code cause}. */
    public static final String VRRP_GROUP = "vrrp.group";
    /**
     * A real server went up: {@code virtual_server}, {@code real_server}, {@code from} ({@code DOWN}),
     * {@code to} ({@code UP}), {@code reason} (the checker's result or the command that set it).
     */
    public static final String REAL_SERVER_UP = "real_server.up";
    /** A real server went down: the fields of {@link #REAL_SERVER_UP}, {@code from UP}, {@code to DOWN}. */
    public static final String REAL_SERVER_DOWN = "real_server.down";
    /** A virtual server gained its quorum: {@code virtual_server}, {@code from}, {@code to}, {@code healthy}, {@code quorum}. */
    public static final String QUORUM_UP = "quorum.up";
    /** A virtual server lost its quorum: the fields of {@link #QUORUM_UP}. */
    public static final String QUORUM_DOWN = "quorum.down";
    /** A tracker (vrrp_script, track_interface, track_file, ...) changed: {@code tracker}, {@code from}, {@code to}, {@code instances}. */
    public static final String TRACKER = "tracker";
    /** A policy acted: {@code policy}, {@code revision}, {@code action}, {@code target}, {@code reason}. */
    public static final String POLICY_ACTION = "policy.action";
    /** The daemon started: {@code config}, {@code version}. */
    public static final String DAEMON_START = "daemon.start";
    /** The daemon is stopping: {@code reason}. */
    public static final String DAEMON_STOP = "daemon.stop";
    /** The daemon reloaded its configuration: {@code config}, {@code result} ({@code applied} or {@code refused}), {@code reason}. */
    public static final String DAEMON_RELOAD = "daemon.reload";

    /** Every type, as an {@code events} filter names them. */
    public static final Set<String> TYPES = Set.of(VRRP_INSTANCE, VRRP_GROUP, REAL_SERVER_UP, REAL_SERVER_DOWN,
            QUORUM_UP, QUORUM_DOWN, TRACKER, POLICY_ACTION, DAEMON_START, DAEMON_STOP, DAEMON_RELOAD);

    public NotifierEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(time, "time");
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** A detail, or {@code null} when the event has none of that name. */
    public String detail(String name) {
        return details.get(name);
    }
}
