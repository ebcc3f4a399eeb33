package dev.vigil.vrrp.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link VrrpRouter#reconfigure} did, by instance name, in configuration order.
 *
 * @param added        instances started
 * @param removed      instances stopped (a MASTER sent priority 0 and removed its addresses)
 * @param changed      instances whose configuration changed, with one line per change
 *                     ({@code "priority 100 -> 120"}); includes the restarted ones
 * @param restarted    changed instances whose identity (VRID, interface, family, version, source,
 *                     multicast group or unicast mode) changed, so they were stopped and started
 * @param unchanged    instances left untouched
 * @param groupChanges one line per sync group added, removed or with other members
 */
public record ReloadReport(List<String> added, List<String> removed, Map<String, List<String>> changed,
                           List<String> restarted, List<String> unchanged, List<String> groupChanges) {
    public ReloadReport {
        added = List.copyOf(Objects.requireNonNull(added, "added"));
        removed = List.copyOf(Objects.requireNonNull(removed, "removed"));
        changed = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(changed, "changed")));
        restarted = List.copyOf(Objects.requireNonNull(restarted, "restarted"));
        unchanged = List.copyOf(Objects.requireNonNull(unchanged, "unchanged"));
        groupChanges = List.copyOf(Objects.requireNonNull(groupChanges, "groupChanges"));
    }

    /** Whether the reload changed nothing. */
    public boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty() && changed.isEmpty() && groupChanges.isEmpty();
    }

    /** One line per change, for the log: {@code "VI_1: priority 100 -> 120"}, {@code "VI_3: added"}. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (String n : added) {
            out.add(n + ": added");
        }
        for (String n : removed) {
            out.add(n + ": removed");
        }
        changed.forEach((n, what) -> out.add(n + ": " + (restarted.contains(n) ? "restarted: " : "") + String.join(", ", what)));
        out.addAll(groupChanges);
        return out;
    }
}
