package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.vrrp.codec.DecodeError;
import dev.vigil.vrrp.fsm.VrrpState;

/**
 * Something the router did or saw, for one log line each ({@link #describe()}). Delivered on the
 * engine thread; listeners must not block.
 */
public sealed interface RouterEvent {

    /** The instance concerned, or {@code null} for router-wide events (unknown VRID). */
    String instance();

    /** One line: {@code "(VI_1) BACKUP -> MASTER: master down timer expired"}. */
    String describe();

    /** The instance changed state. */
    record Transitioned(String instance, VrrpState from, VrrpState to, String cause) implements RouterEvent {
        @Override
        public String describe() {
            return "(" + instance + ") " + from + " -> " + to + ": " + cause;
        }
    }

    /**
     * A sync group changed state (FAULT if a member is, MASTER if all are, INIT if a member is, else
     * BACKUP); {@link #instance()} is {@code null}, {@code cause} names the member transition that
     * changed it.
     */
    record GroupTransitioned(String group, VrrpState from, VrrpState to, String cause) implements RouterEvent {
        @Override
        public String instance() {
            return null;
        }

        @Override
        public String describe() {
            return "(" + group + ") " + from + " -> " + to + ": " + cause;
        }
    }

    /** A received advert was dropped. */
    record AdvertDropped(String instance, DecodeError reason, String message) implements RouterEvent {
        @Override
        public String describe() {
            return (instance == null ? "" : "(" + instance + ") ") + "advert dropped (" + reason + "): " + message;
        }
    }

    /** A received advert was accepted but carries another address list (RFC 5798 §7.1: log only). */
    record AddressListMismatch(String instance, String message) implements RouterEvent {
        @Override
        public String describe() {
            return "(" + instance + ") " + message;
        }
    }

    /** A kernel call failed while applying an action; the engine carries on. */
    record KernelError(String instance, String action, KernelException error) implements RouterEvent {
        @Override
        public String describe() {
            return "(" + instance + ") " + action + " failed: " + error.getMessage();
        }
    }

    /** A configured VIP was already present at start (left over by a crash) and was removed. */
    record StaleVipRemoved(String instance, VirtualAddress vip) implements RouterEvent {
        @Override
        public String describe() {
            return "(" + instance + ") removed stale virtual address " + vip;
        }
    }

    /** The effective priority changed. */
    record PriorityChanged(String instance, int from, int to) implements RouterEvent {
        @Override
        public String describe() {
            return "(" + instance + ") effective priority " + from + " -> " + to;
        }
    }

    /** Anything unexpected thrown while handling an event; the engine carries on. */
    record InternalError(String instance, String during, RuntimeException error) implements RouterEvent {
        @Override
        public String describe() {
            return (instance == null ? "" : "(" + instance + ") ") + "internal error during " + during + ": " + error;
        }
    }
}
