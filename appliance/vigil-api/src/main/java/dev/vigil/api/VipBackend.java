package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.util.Set;

/**
 * Makes the virtual addresses of one VRRP instance answer on this node while it is MASTER and
 * stop answering when it is not: a secondary address with gratuitous ARP (the built-in
 * {@code netlink} backend), a macvlan interface carrying the virtual MAC (the built-in {@code vmac}
 * backend, keepalived's {@code use_vmac}), a routing announcement, a cloud provider's API call.
 *
 * <p>An instance names its backend with {@code vigil_vip_backend NAME}; {@code use_vmac} selects
 * {@code vmac}; otherwise {@code netlink} runs it. A plugin declares a backend with PF4J's
 * {@code @Extension}; the names it returns from {@link #names()} must not clash with the built-in
 * ones or another plugin's (a clash is a start-up error naming both).
 *
 * <p><b>Life cycle.</b> When an instance starts (daemon start, or a reload that adds it or changes
 * what it is keyed on) the host calls {@link #attach} once with the instance's {@link VipInstance};
 * the returned {@link Attachment} then gets {@link Attachment#up up}, {@link Attachment#down down}
 * and {@link Attachment#announce announce} calls as the instance becomes MASTER and leaves it, and
 * {@link Attachment#detach detach} once when it stops (daemon stop, or removal by a reload), after
 * its addresses were taken down. Kernel work goes through the {@link VipContext} the host passes,
 * so a backend holds policy and no native code.
 *
 * <p><b>Threading and blocking.</b> {@link #names()} and {@link #advertInterface} may be called
 * from any host thread, also by {@code vigil check}: quick, no I/O. For a plugin's backend, every
 * call of {@link #attach} and of its attachment runs on a worker thread of that instance alone,
 * one call at a time, in the order the VRRP engine asked for them; the engine never waits for
 * them. They may block, but every millisecond {@code up} and {@code announce} take is a
 * millisecond of outage during a take-over. A throw is logged with the instance and the address
 * and counted; it never reaches the engine. The built-in backends run on the engine thread itself
 * (their calls are the same short rtnetlink requests and packet sends as before backends existed).
 * Calls must be idempotent: after a crash the host may bring up an address that is already up, or
 * take down one that is gone.
 */
public interface VipBackend extends ExtensionPoint {

    /** The backend names this extension implements, e.g. {@code bgp}; by convention lower case. */
    Set<String> names();

    /**
     * The interface the instance's adverts are sent from and received on: the instance's own
     * interface unless the backend moves the instance onto one of its own (the {@code vmac}
     * backend's macvlan). Quick and pure; the interface must exist when {@link #attach} returns.
     */
    default String advertInterface(VipInstance instance) {
        return instance.ifname();
    }

    /** Starts serving {@code instance}; a throw keeps the instance in FAULT with the reason. */
    Attachment attach(VipInstance instance, VipContext context) throws Exception;

    /** One instance as a backend serves it. */
    interface Attachment {

        /** Makes {@code address} answer on this node (the instance became MASTER, or a reload added it). */
        void up(VipAddress address) throws Exception;

        /** Stops answering for {@code address} (the instance left MASTER, stopped, or a reload dropped it). */
        void down(VipAddress address) throws Exception;

        /**
         * Tells the segment once that {@code address} lives here now (a gratuitous ARP, an
         * unsolicited neighbour advertisement, a route refresh). The host calls it as often as
         * {@code garp_master_repeat} and {@code garp_master_refresh} say; a backend without such a
         * thing does nothing.
         */
        void announce(VipAddress address) throws Exception;

        /** Releases what {@link #attach} set up; called once, after the addresses are down. */
        default void detach() throws Exception {
        }
    }
}
