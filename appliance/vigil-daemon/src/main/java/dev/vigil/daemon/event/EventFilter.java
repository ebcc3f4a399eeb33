package dev.vigil.daemon.event;

import dev.vigil.api.NotifierEvent;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which events one notifier gets: the {@code events} line of its block (types such as
 * {@code vrrp.instance}, or prefixes such as {@code vrrp.*} or {@code *}; none: every event), and
 * for the {@code smtp_alert} notifier made from keepalived's mail keywords, keepalived's
 * per-instance, per-virtual-server and per-real-server choices ({@code rule}).
 *
 * @param patterns the {@code events} words; empty for every type
 * @param rule     a further condition on the event ({@code e -> true} for a plain block)
 */
public record EventFilter(List<String> patterns, Predicate<NotifierEvent> rule) {

    /** Every event. */
    public static final EventFilter ALL = new EventFilter(List.of(), e -> true);

    public EventFilter {
        patterns = List.copyOf(patterns);
        Objects.requireNonNull(rule, "rule");
    }

    /** Whether the notifier gets {@code event}. */
    public boolean accepts(NotifierEvent event) {
        return (patterns.isEmpty() || patterns.stream().anyMatch(p -> matches(p, event.type()))) && rule.test(event);
    }

    /** Whether {@code pattern} ({@code vrrp.instance}, {@code vrrp.*}, {@code *}) names {@code type}. */
    public static boolean matches(String pattern, String type) {
        if (pattern.equals("*")) {
            return true;
        }
        if (pattern.endsWith(".*")) {
            return type.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(type);
    }

    /** Whether {@code pattern} names at least one of the known types. */
    public static boolean known(String pattern) {
        return NotifierEvent.TYPES.stream().anyMatch(t -> matches(pattern, t));
    }
}
