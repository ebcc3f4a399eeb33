package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.net.InetAddress;
import java.util.Set;

/**
 * Brings a virtual address up on this node and takes it down again: a secondary address with
 * gratuitous ARP, a virtual MAC, a routing announcement, a cloud provider's API call.
 *
 * <p><b>Threading and blocking.</b> The host calls {@link #up} and {@link #down} from its VIP
 * worker thread, one call at a time, never from the VRRP engine thread; they may block, but every
 * millisecond they take is a millisecond of outage during a take-over. Both must be idempotent:
 * after a crash the host may bring up an address that is already up. {@link #names()} may be
 * called from any thread and must be quick.
 */
public interface VipBackend extends ExtensionPoint {

    /** The backend names this extension implements. */
    Set<String> names();

    /** Makes {@code address}/{@code prefixLength} answer on {@code ifname}; throwing fails the take-over step with the reason. */
    void up(InetAddress address, int prefixLength, String ifname) throws Exception;

    /** Stops answering for {@code address}/{@code prefixLength} on {@code ifname}. */
    void down(InetAddress address, int prefixLength, String ifname) throws Exception;
}
