package dev.vigil.vrrp.fsm;

import dev.vigil.vrrp.codec.VrrpAdvert;

import java.net.InetAddress;
import java.util.Objects;

/** What happens to an instance. Timer events are delivered by whoever armed the timer. */
public sealed interface VrrpEvent {

    /** RFC 5798 §6.4.1 Startup event. */
    record Startup() implements VrrpEvent {
    }

    /** RFC 5798 §6.4.1 Shutdown event; {@code cause} ends up in the {@link VrrpAction.Transition}. */
    record Shutdown(String cause) implements VrrpEvent {
        public Shutdown {
            Objects.requireNonNull(cause, "cause");
        }

        /** A shutdown with cause {@code "shutdown"}. */
        public Shutdown() {
            this("shutdown");
        }
    }

    /**
     * A validated advert for this instance, from IP source {@code source}. Only the fields the
     * machine acts on are carried, so the receive path need not build a {@link VrrpAdvert}.
     *
     * @param priority            the advertised priority 0..255
     * @param advertIntervalNanos the advertised interval (RFC 5798 §5.2.7 Max Advertise Interval)
     * @param source              the IP source address
     */
    record AdvertReceived(int priority, long advertIntervalNanos, InetAddress source) implements VrrpEvent {
        public AdvertReceived {
            Objects.requireNonNull(source, "source");
            if (priority < 0 || priority > 255) {
                throw new IllegalArgumentException("priority: " + priority + " (expected: 0..255)");
            }
        }

        /** The event for a decoded advert. */
        public AdvertReceived(VrrpAdvert advert, InetAddress source) {
            this(advert.priority(), advert.advertIntervalNanos(), source);
        }
    }

    /** Master_Down_Timer fired. */
    record MasterDownTimerExpired() implements VrrpEvent {
    }

    /** Adver_Timer fired. */
    record AdvertTimerExpired() implements VrrpEvent {
    }

    /** The delayed second GARP/NA burst is due. */
    record GarpDelayExpired() implements VrrpEvent {
    }

    /** A periodic GARP/NA refresh is due. */
    record GarpRefreshExpired() implements VrrpEvent {
    }

    /** The instance's interface lost carrier or went down. */
    record LinkDown(String ifname) implements VrrpEvent {
        public LinkDown {
            Objects.requireNonNull(ifname, "ifname");
        }
    }

    /** The instance's interface is up again. */
    record LinkUp(String ifname) implements VrrpEvent {
        public LinkUp {
            Objects.requireNonNull(ifname, "ifname");
        }
    }

    /** Another fault (a weight-0 tracker, a sync group member) holds the instance in FAULT. */
    record FaultRaised(String reason) implements VrrpEvent {
        public FaultRaised {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The fault raised with the same {@code reason} is gone. */
    record FaultCleared(String reason) implements VrrpEvent {
        public FaultCleared {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The effective priority changed (trackers); 1..254, or 255 for the owner. */
    record PriorityChanged(int priority) implements VrrpEvent {
        public PriorityChanged {
            if (priority < 1 || priority > 255) {
                throw new IllegalArgumentException("priority: " + priority + " (expected: 1..255)");
            }
        }
    }

    /**
     * The instance's configuration changed in place (a reload): same VRID and version, anything
     * else may differ. The effective priority is set separately with {@link PriorityChanged}.
     */
    record Reconfigure(MachineConfig config) implements VrrpEvent {
        public Reconfigure {
            Objects.requireNonNull(config, "config");
        }
    }

    /**
     * A sync group member left MASTER (keepalived {@code vrrp_sync_backup}): a MASTER goes BACKUP
     * as if it had heard a higher priority, without a priority 0 advert; other states ignore it.
     */
    record SyncBackup(String cause) implements VrrpEvent {
        public SyncBackup {
            Objects.requireNonNull(cause, "cause");
        }
    }

    /**
     * The sync group goes MASTER (keepalived {@code vrrp_sync_master}): a BACKUP whose master down
     * timer was held back by the group becomes MASTER; other states ignore it.
     */
    record SyncMaster(String cause) implements VrrpEvent {
        public SyncMaster {
            Objects.requireNonNull(cause, "cause");
        }
    }

    /** The event delivered when a timer of {@code kind} fires. */
    static VrrpEvent timerExpired(TimerKind kind) {
        return switch (kind) {
            case MASTER_DOWN -> new MasterDownTimerExpired();
            case ADVERT -> new AdvertTimerExpired();
            case GARP_DELAY -> new GarpDelayExpired();
            case GARP_REFRESH -> new GarpRefreshExpired();
        };
    }
}
