package dev.vigil.daemon.track;

import java.util.Set;

/**
 * Receives the complete tracker state of one VRRP instance whenever it changes. Called from tracker
 * threads (never the engine thread); implementations hand the value over and return at once.
 */
@FunctionalInterface
public interface TrackingSink {

    /**
     * @param instance      the {@code vrrp_instance} name
     * @param priorityDelta the sum of every weighted tracker's contribution, to add to the base priority
     * @param faults        the trackers that hold the instance in FAULT (weight 0 and failed), e.g.
     *                      {@code script chk_nginx}, {@code interface eth1}, {@code file maint}; empty when none
     */
    void setTracking(String instance, int priorityDelta, Set<String> faults);
}
