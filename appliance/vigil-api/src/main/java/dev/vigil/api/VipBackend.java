package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.net.InetAddress;
import java.util.Set;

/**
 * Brings a virtual address up on this node and takes it down again (secondary address with
 * gratuitous ARP, a virtual MAC, a routing announcement, a cloud API call). Calls are made from
 * the engine's VIP worker, never from the VRRP thread; they must be idempotent.
 */
public interface VipBackend extends ExtensionPoint {

    /** The backend names this extension implements. */
    Set<String> names();

    void up(InetAddress address, int prefixLength, String ifname) throws Exception;

    void down(InetAddress address, int prefixLength, String ifname) throws Exception;
}
