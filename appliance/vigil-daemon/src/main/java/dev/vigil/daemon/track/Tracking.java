package dev.vigil.daemon.track;

import java.util.Set;

/**
 * The tracker state of one instance, as last pushed to the {@link TrackingSink}.
 *
 * @param priorityDelta the sum of the weighted trackers' contributions
 * @param faults        the failed weight-0 trackers, sorted
 */
public record Tracking(int priorityDelta, Set<String> faults) {
    public Tracking {
        faults = Set.copyOf(faults);
    }
}
