package dev.vigil.kernel;

import java.net.Inet4Address;
import java.net.Inet6Address;

/** Announces that an address lives at this interface's MAC address. */
public interface NeighbourAdvertiser {

    /** Gratuitous ARP: an ARP request to broadcast with sender = target = {@code address}. */
    void gratuitousArp(String ifname, Inet4Address address) throws KernelException;

    /** Unsolicited neighbour advertisement to ff02::1 with the Override flag (RFC 4861 §7.2.6). */
    void unsolicitedNeighbourAdvert(String ifname, Inet6Address address) throws KernelException;
}
