package dev.vigil.vrrp.runtime;

import dev.vigil.vrrp.codec.DecodeError;

/**
 * How often a dropped advert is reported as an event: the first of each kind at once, then at most
 * one a second. Every drop is counted regardless; a peer with another VRID or a wrong password
 * sends every interval, and describing each of those would cost a string per advert. Engine
 * thread only.
 */
final class DropReports {
    static final long INTERVAL_NANOS = 1_000_000_000L;

    private final long[] last = new long[DecodeError.values().length];
    private final boolean[] seen = new boolean[last.length];

    /** Whether a drop of {@code kind} at {@code now} is reported. */
    boolean allow(DecodeError kind, long now) {
        int k = kind.ordinal();
        if (seen[k] && now - last[k] < INTERVAL_NANOS) {
            return false;
        }
        seen[k] = true;
        last[k] = now;
        return true;
    }
}
