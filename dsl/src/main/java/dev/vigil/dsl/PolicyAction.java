package dev.vigil.dsl;

/**
 * What a policy asks the node to do. A run returns its actions; the daemon applies them through the
 * paths configuration-driven changes take (priorities in adverts, weights in the forwarder,
 * notifications through the notifiers), and {@code vigil policy test} prints them.
 */
public sealed interface PolicyAction {

    /** One line for logs, the audit trail and {@code vigil policy test}. */
    String describe();

    /**
     * This policy's offset to an instance's priority, like a tracker's weight: {@code lowerPriority(50)}
     * sets it to -50 (not cumulative), {@code raisePriority(n)} to +n, {@code resetPriority()} to 0.
     * The effective priority is clamped to 1..254 as keepalived clamps tracker weights; an address
     * owner (255) is not changed.
     */
    record Priority(String instance, int offset) implements PolicyAction {
        public String describe() {
            return "priority " + instance + " offset " + (offset > 0 ? "+" : "") + offset;
        }
    }

    /** Give up mastership of an instance now: a MASTER sends priority 0 and becomes BACKUP (RFC 5798 §6.4.3). */
    record HandOver(String instance) implements PolicyAction {
        public String describe() {
            return "hand-over " + instance;
        }
    }

    /**
     * Set a real server's weight; {@code weight} 0 drains it (existing connections go on, new ones
     * go elsewhere); {@code null} restores the configured weight.
     */
    record Weight(String service, String realServer, Integer weight) implements PolicyAction {
        public String describe() {
            return "weight " + service + " " + realServer + " " + (weight == null ? "restore" : weight == 0 ? "0 (drain)" : weight);
        }
    }

    /** Mark a tracker {@code UP} or {@code DOWN}, or {@code null} to return it to its own results. */
    record Tracker(String tracker, String state, String reason) implements PolicyAction {
        public String describe() {
            return "tracker " + tracker + " " + (state == null ? "clear" : state) + (reason == null ? "" : " (" + reason + ")");
        }
    }

    /** Send a notification through the notifiers (a {@code policy.action} event). */
    record Notify(String message, String severity) implements PolicyAction {
        public String describe() {
            return "notify " + severity + ": " + message;
        }
    }

    /** Record a note in the audit trail. */
    record Note(String text) implements PolicyAction {
        public String describe() {
            return "note: " + text;
        }
    }
}
