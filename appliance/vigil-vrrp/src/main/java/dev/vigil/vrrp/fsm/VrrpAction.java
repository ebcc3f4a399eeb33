package dev.vigil.vrrp.fsm;

import java.time.Duration;
import java.util.Objects;

/** What the state machine asks its runner to do, in list order. */
public sealed interface VrrpAction {

    /** Send one advert with {@code priority} (0 = "I am stopping", RFC 5798 §6.4.3). */
    record SendAdvert(int priority) implements VrrpAction {
    }

    /** Add the virtual addresses (and excluded ones) to their interfaces. */
    record AddVips() implements VrrpAction {
    }

    /** Remove the virtual addresses (and excluded ones) from their interfaces. */
    record RemoveVips() implements VrrpAction {
    }

    /** Gratuitous ARP (IPv4) / unsolicited NA (IPv6) {@code repeat} times for every virtual address. */
    record AnnounceVips(int repeat) implements VrrpAction {
    }

    /** Arm (or re-arm) the timer of {@code kind} to fire after {@code delayNanos}. */
    record ArmTimer(TimerKind kind, long delayNanos) implements VrrpAction {
        public ArmTimer {
            Objects.requireNonNull(kind, "kind");
            if (delayNanos < 0) {
                throw new IllegalArgumentException("delayNanos: " + delayNanos + " (expected: >= 0)");
            }
        }

        public Duration delay() {
            return Duration.ofNanos(delayNanos);
        }
    }

    /** Cancel the timer of {@code kind} if armed. */
    record CancelTimer(TimerKind kind) implements VrrpAction {
        public CancelTimer {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** The state changed; {@code cause} is one line for operators. */
    record Transition(VrrpState from, VrrpState to, String cause) implements VrrpAction {
        public Transition {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(cause, "cause");
        }
    }

    /** A valid advert was deliberately not acted on; {@code reason} says why. */
    record AdvertIgnored(String reason) implements VrrpAction {
        public AdvertIgnored {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
