package dev.vigil.daemon;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Lets one log line per key through per period; the counters still count every event. */
final class RateLimiter {

    private final long periodNanos;
    private final Map<String, Long> last = new HashMap<>();

    RateLimiter(Duration period) {
        this.periodNanos = period.toNanos();
    }

    synchronized boolean allow(String key) {
        long now = System.nanoTime();
        Long before = last.get(key);
        if (before != null && now - before < periodNanos) {
            return false;
        }
        last.put(key, now);
        return true;
    }
}
