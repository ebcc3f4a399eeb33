package dev.vigil.vrrp.fsm;

import java.time.Duration;
import java.util.Objects;

/**
 * The configuration one {@link VrrpStateMachine} needs.
 *
 * @param version          2 or 3
 * @param vrid             1..255
 * @param priority         base priority 1..255 (255 = address owner)
 * @param advertInterval   Advertisement_Interval: whole seconds 1..255 for version 2, 10 ms steps
 *                         from 10 ms to 40.95 s for version 3
 * @param preempt          RFC 5798 §6.1 Preempt_Mode ({@code nopreempt} sets it false)
 * @param preemptDelay     keepalived {@code preempt_delay}: how long a BACKUP keeps accepting a
 *                         lower-priority master before preempting it; zero for none
 * @param accept           RFC 5798 §6.1 Accept_Mode (carried for the firewall; no effect here)
 * @param downTimerAdverts adverts missed before the master is declared down (RFC: 3)
 * @param lowerPrioNoAdvert a MASTER does not answer a lower-priority advert with its own
 * @param initialState     the configured {@code state}: MASTER, BACKUP, or {@code null} when not given
 * @param garp             GARP/NA settings
 */
public record MachineConfig(int version, int vrid, int priority, Duration advertInterval, boolean preempt,
                            Duration preemptDelay, boolean accept, int downTimerAdverts, boolean lowerPrioNoAdvert,
                            VrrpState initialState, GarpSettings garp) {

    /** RFC 5798 §6.1: the priority of the address owner. */
    public static final int OWNER_PRIORITY = 255;

    public MachineConfig {
        Objects.requireNonNull(advertInterval, "advertInterval");
        Objects.requireNonNull(preemptDelay, "preemptDelay");
        Objects.requireNonNull(garp, "garp");
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("version: " + version + " (expected: 2 or 3)");
        }
        if (vrid < 1 || vrid > 255) {
            throw new IllegalArgumentException("vrid: " + vrid + " (expected: 1..255)");
        }
        if (priority < 1 || priority > 255) {
            throw new IllegalArgumentException("priority: " + priority + " (expected: 1..255)");
        }
        checkAdvertInterval(version, advertInterval);
        if (preemptDelay.isNegative()) {
            throw new IllegalArgumentException("preemptDelay: " + preemptDelay + " (expected: >= 0)");
        }
        if (downTimerAdverts < 1 || downTimerAdverts > 100) {
            throw new IllegalArgumentException("downTimerAdverts: " + downTimerAdverts + " (expected: 1..100)");
        }
        if (initialState != null && initialState != VrrpState.MASTER && initialState != VrrpState.BACKUP) {
            throw new IllegalArgumentException("initialState: " + initialState + " (expected: MASTER, BACKUP or null)");
        }
    }

    /** A version 3 configuration with RFC defaults: preempt, accept, 3 adverts, keepalived GARP defaults. */
    public static MachineConfig v3(int vrid, int priority, Duration advertInterval) {
        return new MachineConfig(3, vrid, priority, advertInterval, true, Duration.ZERO, true, 3, false, null,
                GarpSettings.DEFAULTS);
    }

    /** A version 2 configuration with RFC defaults. */
    public static MachineConfig v2(int vrid, int priority, int advertSeconds) {
        return new MachineConfig(2, vrid, priority, Duration.ofSeconds(advertSeconds), true, Duration.ZERO, true, 3,
                false, null, GarpSettings.DEFAULTS);
    }

    public MachineConfig withPreempt(boolean newPreempt, Duration newPreemptDelay) {
        return new MachineConfig(version, vrid, priority, advertInterval, newPreempt, newPreemptDelay, accept,
                downTimerAdverts, lowerPrioNoAdvert, initialState, garp);
    }

    public MachineConfig withGarp(GarpSettings newGarp) {
        return new MachineConfig(version, vrid, priority, advertInterval, preempt, preemptDelay, accept,
                downTimerAdverts, lowerPrioNoAdvert, initialState, newGarp);
    }

    public MachineConfig withInitialState(VrrpState newInitialState) {
        return new MachineConfig(version, vrid, priority, advertInterval, preempt, preemptDelay, accept,
                downTimerAdverts, lowerPrioNoAdvert, newInitialState, garp);
    }

    public MachineConfig withLowerPrioNoAdvert(boolean newLowerPrioNoAdvert) {
        return new MachineConfig(version, vrid, priority, advertInterval, preempt, preemptDelay, accept,
                downTimerAdverts, newLowerPrioNoAdvert, initialState, garp);
    }

    /** The interval as carried in adverts: seconds (version 2) or centiseconds (version 3). */
    public int advertIntervalWire() {
        return version == 2 ? (int) advertInterval.toSeconds() : (int) (advertInterval.toMillis() / 10);
    }

    /** Throws unless {@code interval} is a valid Advertisement_Interval for {@code version}. */
    public static void checkAdvertInterval(int version, Duration interval) {
        if (version == 2) {
            // RFC 3768 §5.3.7: 8-bit whole seconds.
            if (interval.toNanosPart() != 0 || interval.getSeconds() < 1 || interval.getSeconds() > 255) {
                throw new IllegalArgumentException("advertInterval: " + interval + " (expected: whole seconds 1..255 for version 2)");
            }
        } else {
            // RFC 5798 §5.2.7: 12-bit centiseconds.
            long nanos = interval.toNanos();
            if (nanos % 10_000_000L != 0 || nanos < 10_000_000L || nanos > 40_950_000_000L) {
                throw new IllegalArgumentException("advertInterval: " + interval + " (expected: 10 ms steps from 10 ms to 40.95 s for version 3)");
            }
        }
    }
}
