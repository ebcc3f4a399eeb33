package dev.vigil.daemon.event;

import dev.vigil.api.NotifierEvent;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.track.EventLog;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place where the daemon tells what happened: VRRP instance and sync-group transitions
 * (the router's listener), real servers up and down and quorum gained and lost (the forwarder's
 * manager), tracker changes (the trackers), policy actions (the policy engine) and the daemon's
 * start, stop and reload. Each becomes one {@link NotifierEvent} with this node's {@code router_id}
 * and the time it was published, handed to every {@link Subscriber} in the order of the calls:
 * the {@link NotifierHost} (every configured notifier) and keepalived's {@code notify*} scripts and
 * FIFOs.
 *
 * <p><b>Never blocking.</b> Publishing runs on the caller's thread (the VRRP engine, the forwarder,
 * a tracker) and only hands the event over: a subscriber queues it and returns; a subscriber that
 * throws is logged and the others still get the event.
 *
 * <p><b>Only changes.</b> An event whose {@code from} and {@code to} are equal (a reload that keeps
 * a real server up, a tracker reporting its state again) is not published: it is counted as
 * {@link #unchanged()} and goes nowhere.
 */
public final class EventBus {

    /** Receives every published event; must return at once (queue it, never do I/O). */
    @FunctionalInterface
    public interface Subscriber {
        /**
         * @param event the event
         * @param lvs   keepalived's script and FIFO details of a forwarder event, or {@code null}
         */
        void accept(NotifierEvent event, LvsNotice lvs);
    }

    private final Clock clock;
    private final EventLog log;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong unchanged = new AtomicLong();
    private volatile String node;

    /**
     * @param node  the {@code router_id} events carry (a reload may change it: {@link #node(String)})
     * @param clock the events' time
     * @param log   where a subscriber's failure is told
     */
    public EventBus(String node, Clock clock, EventLog log) {
        this.node = Objects.requireNonNull(node, "node");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.log = Objects.requireNonNull(log, "log");
    }

    /** Adds a subscriber; it gets the events published from now on. */
    public void subscribe(Subscriber s) {
        subscribers.add(Objects.requireNonNull(s, "s"));
    }

    /** The node name of the events published from now on. */
    public void node(String name) {
        node = Objects.requireNonNull(name, "name");
    }

    /** The node name events carry. */
    public String node() {
        return node;
    }

    /** Events handed to the subscribers so far. */
    public long published() {
        return published.get();
    }

    /** Events not published because their state did not change. */
    public long unchanged() {
        return unchanged.get();
    }

    /** Publishes an event of {@code type} with {@code details}, now, on this node. */
    public void publish(String type, Map<String, String> details) {
        publish(new NotifierEvent(type, node, clock.instant(), details), null);
    }

    /**
     * Hands {@code event} to every subscriber, unless its {@code from} equals its {@code to}.
     *
     * @param lvs keepalived's script and FIFO details of a forwarder event, or {@code null}
     */
    public void publish(NotifierEvent event, LvsNotice lvs) {
        Objects.requireNonNull(event, "event");
        String from = event.detail("from");
        if (from != null && from.equals(event.detail("to"))) {
            unchanged.incrementAndGet();
            return;
        }
        published.incrementAndGet();
        for (Subscriber s : subscribers) {
            try {
                s.accept(event, lvs);
            } catch (RuntimeException e) {
                log.log(Log.Level.ERROR, "events", "a subscriber failed on " + event.type() + ": " + Contained.describe(e));
            }
        }
    }

    // ---------------------------------------------------------------- the emission points' events

    /** {@code vrrp.instance}: an instance went {@code from} -> {@code to} with effective priority {@code priority}. */
    public void instance(String instance, String from, String to, int priority, String cause) {
        publish(NotifierEvent.VRRP_INSTANCE, fields("instance", instance, "from", from, "to", to,
                "priority", Integer.toString(priority), "cause", cause));
    }

    /** {@code vrrp.group}: a sync group went {@code from} -> {@code to}. */
    public void group(String group, String from, String to, String cause) {
        publish(NotifierEvent.VRRP_GROUP, fields("group", group, "from", from, "to", to, "cause", cause));
    }

    /** The {@code real_server.up}/{@code real_server.down} event, for {@link #publish(NotifierEvent, LvsNotice)}. */
    public NotifierEvent realServer(String virtualServer, String realServer, boolean up, String reason) {
        return new NotifierEvent(up ? NotifierEvent.REAL_SERVER_UP : NotifierEvent.REAL_SERVER_DOWN, node,
                clock.instant(), fields("virtual_server", virtualServer, "real_server", realServer,
                        "from", up ? "DOWN" : "UP", "to", up ? "UP" : "DOWN", "reason", reason));
    }

    /**
     * The {@code quorum.up}/{@code quorum.down} event, for {@link #publish(NotifierEvent, LvsNotice)}.
     *
     * @param from    the state before: {@code UP}, {@code DOWN}, or {@code START} for a virtual server that
     *                starts without its quorum
     * @param healthy the live weight of the real servers
     * @param quorum  the weight the quorum needs ({@code quorum} ± {@code hysteresis}, as it applied)
     */
    public NotifierEvent quorum(String virtualServer, String from, boolean up, long healthy, long quorum) {
        return new NotifierEvent(up ? NotifierEvent.QUORUM_UP : NotifierEvent.QUORUM_DOWN, node, clock.instant(),
                fields("virtual_server", virtualServer, "from", from, "to", up ? "UP" : "DOWN",
                        "healthy", Long.toString(healthy), "quorum", Long.toString(quorum)));
    }

    /**
     * {@code tracker}: a tracker changed.
     *
     * @param tracker   {@code script chk_nginx}, {@code interface eth1}, {@code file maint}
     * @param instances the instances it counts for, comma-separated
     */
    public void tracker(String tracker, String from, String to, String instances) {
        publish(NotifierEvent.TRACKER, fields("tracker", tracker, "from", from, "to", to, "instances", instances));
    }

    /** {@code policy.action}: a policy acted. */
    public void policyAction(String policy, String revision, String action, String target, String reason) {
        publish(NotifierEvent.POLICY_ACTION, fields("policy", policy, "revision", revision, "action", action,
                "target", target, "reason", reason));
    }

    /** {@code daemon.start}. */
    public void daemonStart(String config, String version) {
        publish(NotifierEvent.DAEMON_START, fields("config", config, "version", version));
    }

    /** {@code daemon.stop}. */
    public void daemonStop(String reason) {
        publish(NotifierEvent.DAEMON_STOP, fields("reason", reason));
    }

    /** {@code daemon.reload}: {@code applied} or {@code refused}, with the reason. */
    public void daemonReload(String config, boolean applied, String reason) {
        publish(NotifierEvent.DAEMON_RELOAD, fields("config", config, "result", applied ? "applied" : "refused",
                "reason", reason));
    }

    /** Name/value pairs in order; a {@code null} value becomes empty text. */
    static Map<String, String> fields(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1] == null ? "" : pairs[i + 1]);
        }
        return m;
    }
}
