package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * What a policy may read of the node it runs on: a consistent view of the instances, services and
 * trackers, and the recent events. The daemon backs it with its live state; {@code vigil policy
 * test} with a state simulated from a scenario file. Views are values: a policy cannot reach the
 * objects behind them.
 */
public interface PolicyWorld {

    /** The time of the run (the clock of the daemon, or of the scenario). */
    Instant now();

    /** The instance of that {@code vrrp_instance} name, or {@code null}. */
    InstanceView instance(String name);

    Collection<InstanceView> instances();

    /**
     * The virtual server that {@code query} names ({@link ServiceView#matches}), or {@code null}:
     * {@code 10.9.0.50:80}, {@code 10.9.0.50:80/udp}, {@code [2001:db8::1]:443}, {@code fwmark 5},
     * or a {@code virtual_server_group} name.
     */
    default ServiceView service(String query) {
        for (ServiceView s : services()) {
            if (s.matches(query)) {
                return s;
            }
        }
        return null;
    }

    Collection<ServiceView> services();

    /** The tracker ({@code vrrp_script}, {@code track_file}, interface, ...) of that name, or {@code null}. */
    TrackerView tracker(String name);

    /** The node's recent events, oldest first (a bounded window). */
    List<NotifierEvent> recentEvents();
}
