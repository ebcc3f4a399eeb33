package dev.vigil.kernel.forward;

import java.util.List;

/**
 * What {@link Forwarder#apply} changed.
 *
 * @param operations the operations applied, in order; empty when the rules already matched
 */
public record ApplyReport(List<ForwardingOp> operations) {
    public ApplyReport {
        operations = List.copyOf(operations);
    }

    /** Whether anything changed. */
    public boolean changed() {
        return !operations.isEmpty();
    }
}
