package dev.vigil.vrrp.fsm;

import dev.vigil.vrrp.codec.VrrpAdvert;

import java.net.InetAddress;
import java.util.Objects;

/** What happens to an instance. Timer events are delivered by whoever armed the timer. */
public sealed interface VrrpEvent {

    /** RFC 5798 §6.4.1 Startup event. */
    record Startup() implements VrrpEvent {
    }

    /** RFC 5798 §6.4.1 Shutdown event. */
    record Shutdown() implements VrrpEvent {
    }

    /** A validated advert for this instance, from IP source {@code source}. */
    record AdvertReceived(VrrpAdvert advert, InetAddress source) implements VrrpEvent {
        public AdvertReceived {
            Objects.requireNonNull(advert, "advert");
            Objects.requireNonNull(source, "source");
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
