package dev.vigil.daemon.policy;

import dev.vigil.api.NotifierEvent;
import dev.vigil.dsl.InstanceView;
import dev.vigil.dsl.PolicyWorld;
import dev.vigil.dsl.ServiceView;
import dev.vigil.dsl.TrackerView;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * The node as one policy run sees it: values taken when the run starts (the router's instances,
 * the forwarder's services, the trackers, the recent events), so that a run reads one consistent
 * state and never reaches the objects behind it.
 */
public record LiveWorld(Instant now, Collection<InstanceView> instances, Collection<ServiceView> services,
                 List<TrackerView> trackers, List<NotifierEvent> recentEvents) implements PolicyWorld {

    public LiveWorld {
        instances = List.copyOf(instances);
        services = List.copyOf(services);
        trackers = List.copyOf(trackers);
        recentEvents = List.copyOf(recentEvents);
    }

    @Override
    public InstanceView instance(String name) {
        for (InstanceView i : instances) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        return null;
    }

    @Override
    public TrackerView tracker(String name) {
        for (TrackerView t : trackers) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
