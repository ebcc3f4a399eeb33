package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The world of {@code vigil policy test}: instances, services and trackers as a scenario's
 * {@code state} line sets them, changed by the scenario's events (a {@code real_server.down} makes
 * that server unhealthy, a {@code vrrp.instance} changes the state, ...) and by the policy's own
 * actions (priority offsets, weights, tracker marks), so later runs see them.
 */
final class SimulatedWorld implements PolicyWorld {

    /** How many events {@link #recentEvents()} keeps. */
    static final int RECENT = 1000;

    Instant now;
    final Map<String, InstanceView> instances = new LinkedHashMap<>();
    /** Per instance, the policies' priority offsets. */
    final Map<String, Map<String, Integer>> offsets = new LinkedHashMap<>();
    final List<ServiceView> services = new ArrayList<>();
    final Map<String, TrackerView> trackers = new LinkedHashMap<>();
    /** A tracker's own state, under a policy's mark. */
    final Map<String, String> trackerOwn = new LinkedHashMap<>();
    final Map<String, String> trackerMark = new LinkedHashMap<>();
    final List<NotifierEvent> recent = new ArrayList<>();

    SimulatedWorld(Instant now) {
        this.now = now;
    }

    @Override
    public Instant now() {
        return now;
    }

    @Override
    public InstanceView instance(String name) {
        return instances.get(name);
    }

    @Override
    public Collection<InstanceView> instances() {
        return List.copyOf(instances.values());
    }

    @Override
    public Collection<ServiceView> services() {
        return List.copyOf(services);
    }

    @Override
    public TrackerView tracker(String name) {
        return trackers.get(name);
    }

    @Override
    public List<NotifierEvent> recentEvents() {
        return List.copyOf(recent);
    }

    /**
     * Applies an event to the world.
     *
     * @return {@code null}, or what in the event does not fit the world (an unknown instance, ...)
     */
    String apply(NotifierEvent e) {
        recent.add(e);
        if (recent.size() > RECENT) {
            recent.remove(0);
        }
        switch (e.type()) {
            case NotifierEvent.VRRP_INSTANCE -> {
                InstanceView i = instances.get(e.detail("instance"));
                if (i == null) {
                    return "no instance named '" + e.detail("instance") + "' in the state";
                }
                String to = e.detail("to");
                if (to != null) {
                    instances.put(i.name(), new InstanceView(i.name(), to, i.basePriority(), i.priority(), i.group()));
                }
            }
            case NotifierEvent.REAL_SERVER_UP, NotifierEvent.REAL_SERVER_DOWN -> {
                return realServer(e.detail("virtual_server"), e.detail("real_server"), e.type().equals(NotifierEvent.REAL_SERVER_UP), null, false);
            }
            case NotifierEvent.QUORUM_UP, NotifierEvent.QUORUM_DOWN -> {
                int i = serviceIndex(e.detail("virtual_server"));
                if (i < 0) {
                    return "no service matches '" + e.detail("virtual_server") + "' in the state";
                }
                ServiceView s = services.get(i);
                services.set(i, new ServiceView(s.address(), s.port(), s.protocol(), s.fwmark(), s.group(), s.realServers(),
                        e.type().equals(NotifierEvent.QUORUM_UP)));
            }
            case NotifierEvent.TRACKER -> {
                String name = e.detail("tracker");
                TrackerView t = trackers.get(name);
                if (t == null) {
                    return "no tracker named '" + name + "' in the state";
                }
                if (e.detail("to") != null) {
                    trackerOwn.put(name, e.detail("to"));
                    String mark = trackerMark.get(name);
                    trackers.put(name, new TrackerView(name, t.kind(), mark != null ? mark : e.detail("to")));
                }
            }
            default -> {
            }
        }
        return null;
    }

    /** Applies a policy's action, as the daemon would. */
    void apply(String policy, PolicyAction a) {
        switch (a) {
            case PolicyAction.Priority p -> {
                InstanceView i = instances.get(p.instance());
                if (i != null) {
                    Map<String, Integer> o = offsets.computeIfAbsent(i.name(), k -> new LinkedHashMap<>());
                    o.put(policy, p.offset());
                    instances.put(i.name(), new InstanceView(i.name(), i.state(), i.basePriority(), effective(i.basePriority(), o), i.group()));
                }
            }
            case PolicyAction.HandOver h -> {
                InstanceView i = instances.get(h.instance());
                if (i != null && i.isMaster()) {
                    instances.put(i.name(), new InstanceView(i.name(), "BACKUP", i.basePriority(), i.priority(), i.group()));
                }
            }
            case PolicyAction.Weight w -> realServer(w.service(), w.realServer(), null, w.weight(), w.weight() == null);
            case PolicyAction.Tracker t -> {
                TrackerView v = trackers.get(t.tracker());
                if (v != null) {
                    if (t.state() == null) {
                        trackerMark.remove(t.tracker());
                    } else {
                        trackerMark.put(t.tracker(), t.state());
                    }
                    String state = t.state() != null ? t.state() : trackerOwn.getOrDefault(t.tracker(), v.state());
                    trackers.put(t.tracker(), new TrackerView(v.name(), v.kind(), state));
                }
            }
            case PolicyAction.Notify n -> {
            }
            case PolicyAction.Note n -> {
            }
        }
    }

    /** keepalived clamps a tracked priority to 1..254; an address owner (255) keeps 255. */
    static int effective(int base, Map<String, Integer> offsets) {
        if (base == 255) {
            return 255;
        }
        int p = base;
        for (int o : offsets.values()) {
            p += o;
        }
        return Math.max(1, Math.min(254, p));
    }

    private int serviceIndex(String query) {
        for (int i = 0; query != null && i < services.size(); i++) {
            if (services.get(i).matches(query)) {
                return i;
            }
        }
        return -1;
    }

    private String realServer(String service, String realServer, Boolean healthy, Integer weight, boolean restore) {
        int i = serviceIndex(service);
        if (i < 0) {
            return "no service matches '" + service + "' in the state";
        }
        ServiceView s = services.get(i);
        List<RealServerView> rs = new ArrayList<>(s.realServers());
        for (int j = 0; j < rs.size(); j++) {
            RealServerView r = rs.get(j);
            if (realServer != null && r.matches(realServer)) {
                rs.set(j, new RealServerView(r.address(), r.port(), healthy != null ? healthy : r.healthy(),
                        restore ? r.configuredWeight() : weight != null ? weight : r.weight(), r.configuredWeight()));
                services.set(i, new ServiceView(s.address(), s.port(), s.protocol(), s.fwmark(), s.group(), rs, s.quorumUp()));
                return null;
            }
        }
        return "service " + s.key() + " has no real server '" + realServer + "' in the state";
    }
}
