package dev.vigil.vrrp.fsm;

/** Timer arithmetic of RFC 3768 §6.1 and RFC 5798 §6.1, in nanoseconds (exact for all valid inputs). */
public final class VrrpTimers {

    private static final long SECOND = 1_000_000_000L;

    private VrrpTimers() {
    }

    /**
     * Skew_Time: RFC 3768 §6.1 {@code (256 - Priority) / 256} seconds for version 2; RFC 5798 §6.1
     * {@code ((256 - Priority) * Master_Adver_Interval) / 256} for version 3.
     */
    public static long skewNanos(int version, int priority, long masterAdverIntervalNanos) {
        long weight = 256 - priority;
        return version == 2 ? weight * SECOND / 256 : weight * masterAdverIntervalNanos / 256;
    }

    /**
     * Master_Down_Interval: {@code downTimerAdverts * Master_Adver_Interval + Skew_Time}
     * (RFC 5798 §6.1 with keepalived's {@code down_timer_adverts}, which the RFC fixes at 3).
     */
    public static long masterDownNanos(int version, int priority, long masterAdverIntervalNanos, int downTimerAdverts) {
        return downTimerAdverts * masterAdverIntervalNanos + skewNanos(version, priority, masterAdverIntervalNanos);
    }
}
