package dev.vigil.vrrp.runtime;

import dev.vigil.vrrp.codec.DecodeError;

import java.util.Map;

/**
 * A snapshot of one instance's counters (RFC 6527 statistics in spirit).
 *
 * @param advertsSent          adverts sent (one per destination)
 * @param advertsReceived      valid adverts received
 * @param priorityZeroSent     adverts sent with priority 0
 * @param priorityZeroReceived valid adverts received with priority 0
 * @param transitions          state changes
 * @param becameMaster         transitions into MASTER
 * @param addressListErrors    valid adverts whose address list differs from ours
 * @param ignoredAdverts       valid adverts the state machine ignored (e.g. lower priority while preempting)
 * @param kernelErrors         failed kernel calls
 * @param drops                dropped adverts per reason (every reason present, zeros included)
 */
public record InstanceCounters(long advertsSent, long advertsReceived, long priorityZeroSent,
                               long priorityZeroReceived, long transitions, long becameMaster,
                               long addressListErrors, long ignoredAdverts, long kernelErrors,
                               Map<DecodeError, Long> drops) {

    public InstanceCounters {
        drops = Map.copyOf(drops);
    }

    /** Drops of one reason. */
    public long drops(DecodeError reason) {
        return drops.getOrDefault(reason, 0L);
    }
}
