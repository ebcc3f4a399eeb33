package dev.vigil.daemon.policy;

import dev.vigil.daemon.forward.RealServerSelector;
import dev.vigil.daemon.forward.ServiceManager;
import dev.vigil.daemon.track.PolicyTracking;
import dev.vigil.dsl.PolicyAction;
import dev.vigil.dsl.PolicyWorld;
import dev.vigil.dsl.RealServerView;
import dev.vigil.dsl.ServiceView;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Applies policies' actions through the paths configuration-driven changes take: a priority offset
 * joins the trackers' weights ({@link PolicyTracking}) and so shows in the adverts; a hand-over is a
 * fault pulse (priority 0, then BACKUP); a weight goes to the forwarder as a checker's dynamic
 * weight would; a tracker mark stands in for the tracker's own state; notifications are
 * {@code policy.action} events for the notifiers. Each action returns what became of it, for the
 * log and the audit trail; none throws.
 */
public final class PolicyEffects {

    /** What became of one action. */
    public record Result(boolean applied, String detail) {
    }

    private final PolicyTracking tracking;
    private final Supplier<ServiceManager> services;
    private final Consumer<Map<String, Boolean>> marksSink;
    /** tracker → policy → up, every policy's marks. */
    private final Map<String, Map<String, Boolean>> marks = new HashMap<>();

    /**
     * @param tracking  the priority offsets and hand-overs
     * @param services  the forwarder's manager, or a supplier of {@code null} when none runs
     * @param marksSink receives the marks in force (tracker → up) whenever they change
     */
    public PolicyEffects(PolicyTracking tracking, Supplier<ServiceManager> services, Consumer<Map<String, Boolean>> marksSink) {
        this.tracking = Objects.requireNonNull(tracking, "tracking");
        this.services = Objects.requireNonNull(services, "services");
        this.marksSink = Objects.requireNonNull(marksSink, "marksSink");
    }

    /** Applies {@code action} of {@code policy} against the state the run read. */
    Result apply(String policy, PolicyAction action, PolicyWorld world) {
        try {
            return switch (action) {
                case PolicyAction.Priority p -> {
                    if (world.instance(p.instance()) == null) {
                        yield new Result(false, "no vrrp_instance " + p.instance());
                    }
                    boolean changed = tracking.setOffset(policy, p.instance(), p.offset());
                    yield new Result(true, changed ? "offset now " + p.offset() : "offset already " + p.offset());
                }
                case PolicyAction.HandOver h -> {
                    if (world.instance(h.instance()) == null) {
                        yield new Result(false, "no vrrp_instance " + h.instance());
                    }
                    if (!world.instance(h.instance()).isMaster()) {
                        yield new Result(false, h.instance() + " is " + world.instance(h.instance()).state() + ", not MASTER");
                    }
                    tracking.handOver(policy, h.instance());
                    yield new Result(true, "priority 0 sent, now BACKUP");
                }
                case PolicyAction.Weight w -> weight(w, world);
                case PolicyAction.Tracker t -> mark(policy, t, world);
                case PolicyAction.Notify n -> new Result(true, "sent to the notifiers");
                case PolicyAction.Note n -> new Result(true, "noted");
            };
        } catch (RuntimeException e) {
            return new Result(false, e.getMessage() != null ? e.getMessage() : e.toString());
        }
    }

    private Result weight(PolicyAction.Weight w, PolicyWorld world) {
        ServiceView s = world.service(w.service());
        if (s == null) {
            return new Result(false, "no virtual server " + w.service());
        }
        RealServerView r = s.realServer(w.realServer());
        if (r == null) {
            return new Result(false, "no real server " + w.realServer() + " in " + s.key());
        }
        ServiceManager m = services.get();
        if (m == null) {
            return new Result(false, "the forwarder is not running");
        }
        int weight = w.weight() == null ? r.configuredWeight() : w.weight();
        RealServerSelector selector = RealServerSelector.parse(s.where(), r.key(), s.protocol());
        m.setWeight(selector, weight, "policy");
        return new Result(true, "weight " + r.weight() + " -> " + weight);
    }

    private Result mark(String policy, PolicyAction.Tracker t, PolicyWorld world) {
        if (world.tracker(t.tracker()) == null) {
            return new Result(false, "no tracker " + t.tracker());
        }
        Map<String, Boolean> byPolicy = marks.computeIfAbsent(t.tracker(), k -> new TreeMap<>());
        if (t.state() == null) {
            byPolicy.remove(policy);
        } else {
            byPolicy.put(policy, "UP".equalsIgnoreCase(t.state()));
        }
        if (byPolicy.isEmpty()) {
            marks.remove(t.tracker());
        }
        marksSink.accept(marksInForce());
        return new Result(true, t.state() == null ? "mark cleared" : "marked " + t.state().toUpperCase(java.util.Locale.ROOT));
    }

    /** Drops what {@code policy} holds: its offsets and its marks (it was disabled, replaced or deleted). */
    void release(String policy) {
        tracking.clear(policy);
        boolean changed = false;
        for (Map<String, Boolean> byPolicy : marks.values()) {
            changed |= byPolicy.remove(policy) != null;
        }
        marks.values().removeIf(Map::isEmpty);
        if (changed) {
            marksSink.accept(marksInForce());
        }
    }

    /** instance → policy → offset in force. */
    Map<String, Map<String, Integer>> offsets() {
        return tracking.offsets();
    }

    /** Each marked tracker's state: down when any policy marks it down, else up. */
    Map<String, Boolean> marksInForce() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        marks.forEach((tracker, byPolicy) -> out.put(tracker, !byPolicy.containsValue(false)));
        return out;
    }
}
