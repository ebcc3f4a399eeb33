package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;

/**
 * One instance's VIP backend as the router drives it: made by {@link VipBackends#bind} when the
 * instance starts, released when it stops. Called on the engine thread only; an implementation
 * must return quickly (short kernel requests at most) and hand anything slower to a thread of its
 * own.
 */
public interface VipBinding {

    /** The interface the instance's VRRP channel is opened on (its adverts' source MAC). */
    String advertInterface();

    /** Brings the configured {@code address} up (the instance became MASTER, or a reload added it). */
    void add(VirtualAddress address) throws KernelException;

    /** Takes the configured {@code address} down. */
    void remove(VirtualAddress address) throws KernelException;

    /** One gratuitous ARP / unsolicited NA (or the backend's equivalent) for {@code address}. */
    void announce(VirtualAddress address) throws KernelException;

    /** Releases what the binding holds, after its addresses were taken down and its channel closed. */
    default void release() {
    }
}
