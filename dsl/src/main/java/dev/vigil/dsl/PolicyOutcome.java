package dev.vigil.dsl;

import java.util.List;

/**
 * What one run of one policy's handler came to: its actions, or the error that stopped it (then it
 * has no actions: a failed run acts on nothing).
 *
 * @param policy   the policy's name
 * @param revision its revision
 * @param trigger  what ran it: an event type ({@code real_server.down}, ...) or {@code every 10s}
 * @param actions  the actions, in the order the policy took them
 * @param error    {@code null}, or the error located as {@code NAME rREV:LINE:COL: message}
 *                 (a time limit, a loop cap, an exception)
 */
public record PolicyOutcome(String policy, int revision, String trigger, List<PolicyAction> actions, String error) {

    public PolicyOutcome {
        actions = List.copyOf(actions);
    }

    public boolean failed() {
        return error != null;
    }
}
