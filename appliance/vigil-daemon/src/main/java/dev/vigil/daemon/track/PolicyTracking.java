package dev.vigil.daemon.track;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Puts the policies' priority offsets on top of the trackers' state of each instance: what the
 * trackers report passes through with every active policy's offset for that instance added, so
 * that a policy's {@code lowerPriority(50)} counts as one more weighted tracker (not cumulative:
 * a policy holds one offset per instance, replaced by its next action). It outlives the tracker
 * managers a reload replaces, so offsets stay across reloads.
 */
public final class PolicyTracking implements TrackingSink {

    private record State(int trackerDelta, Set<String> faults) {
    }

    private final TrackingSink router;
    private final Map<String, State> trackers = new HashMap<>();
    /** instance → policy → offset. */
    private final Map<String, Map<String, Integer>> offsets = new HashMap<>();

    /** @param router the router's {@code setTracking} */
    public PolicyTracking(TrackingSink router) {
        this.router = router;
    }

    @Override
    public synchronized void setTracking(String instance, int priorityDelta, Set<String> faults) {
        trackers.put(instance, new State(priorityDelta, Set.copyOf(faults)));
        push(instance);
    }

    /**
     * Sets {@code policy}'s offset for {@code instance} (0 removes it) and pushes the sum.
     *
     * @return whether the offset changed
     */
    public synchronized boolean setOffset(String policy, String instance, int offset) {
        Map<String, Integer> m = offsets.computeIfAbsent(instance, k -> new TreeMap<>());
        Integer was = offset == 0 ? m.remove(policy) : m.put(policy, offset);
        if (m.isEmpty()) {
            offsets.remove(instance);
        }
        if ((was == null ? 0 : was) == offset) {
            return false;
        }
        push(instance);
        return true;
    }

    /**
     * Makes {@code instance} give up mastership now: a fault held for no longer than the router takes
     * to apply it, so a MASTER sends priority 0 and drops its addresses (RFC 5798 §6.4.3, as on a
     * fault) and then waits as BACKUP. The peer takes over after its skew time; with preemption and
     * a higher priority this node takes mastership back, unless a priority offset lowers it too.
     */
    public synchronized void handOver(String policy, String instance) {
        State s = trackers.getOrDefault(instance, new State(0, Set.of()));
        Set<String> faults = new TreeSet<>(s.faults());
        faults.add("policy " + policy + " hand-over");
        router.setTracking(instance, delta(instance, s), faults);
        push(instance);
    }

    /** Drops every offset of {@code policy} (it was disabled, replaced or deleted). */
    public synchronized void clear(String policy) {
        for (String instance : Map.copyOf(offsets).keySet()) {
            setOffset(policy, instance, 0);
        }
    }

    /** instance → policy → offset, for {@code vigil status}. */
    public synchronized Map<String, Map<String, Integer>> offsets() {
        Map<String, Map<String, Integer>> out = new LinkedHashMap<>();
        new TreeMap<>(offsets).forEach((i, m) -> out.put(i, Map.copyOf(m)));
        return out;
    }

    private void push(String instance) {
        State s = trackers.getOrDefault(instance, new State(0, Set.of()));
        router.setTracking(instance, delta(instance, s), s.faults());
    }

    private int delta(String instance, State s) {
        long sum = s.trackerDelta();
        for (int o : offsets.getOrDefault(instance, Map.of()).values()) {
            sum += o;
        }
        return (int) Math.max(-1000, Math.min(1000, sum));
    }
}
