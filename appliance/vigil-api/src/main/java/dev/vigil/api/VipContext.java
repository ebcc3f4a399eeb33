package dev.vigil.api;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The kernel services the host offers a {@link VipBackend}, in the daemon's network namespace.
 * Every call is a short blocking request (rtnetlink, an AF_PACKET or ICMPv6 send, a
 * {@code /proc/sys} file); a failure is an {@link IOException} whose message carries the kernel's
 * reason. Safe to call from any thread.
 */
public interface VipContext {

    /** Adds {@code address} to its interface; an address already there is success. */
    void addAddress(VipAddress address) throws IOException;

    /** Removes {@code address} from its interface; an address not there is success. */
    void removeAddress(VipAddress address) throws IOException;

    /**
     * Sends one gratuitous ARP (IPv4, RFC 5227 §3) or unsolicited neighbour advertisement with the
     * Override flag (IPv6, RFC 4861 §7.2.6) for {@code address} from {@code address.ifname()}, with
     * that interface's MAC as the sender's.
     */
    void announce(VipAddress address) throws IOException;

    /**
     * Creates a macvlan interface {@code name} on {@code lower} in private mode (frames from its
     * own MAC that come back from the segment reach it alone, as a peer sending from the same
     * virtual MAC needs) with hardware address {@code mac}, administratively down so that its
     * sysctls can be set before it sends anything; {@link #setUp} brings it up. An interface of
     * that name left over (a crash) is deleted first, with the addresses it held.
     */
    void createMacvlan(String name, String lower, byte[] mac) throws IOException;

    /** Sets interface {@code name} administratively up. */
    void setUp(String name) throws IOException;

    /** The IPv6 link-local address of {@code ifname}, if it has one. */
    Optional<java.net.Inet6Address> linkLocal(String ifname) throws IOException;

    /** Deletes the interface {@code name}; one that does not exist is success. */
    void deleteLink(String name) throws IOException;

    /** The interface {@code name}, if it exists. */
    Optional<Link> link(String name) throws IOException;

    /** Every interface. */
    List<Link> links() throws IOException;

    /**
     * Reads a network sysctl of this namespace by its path under {@code /proc/sys/net}, e.g.
     * {@code ipv4/conf/eth0/arp_ignore}; empty when there is no such setting.
     */
    Optional<String> sysctl(String path) throws IOException;

    /** Writes a network sysctl by its path under {@code /proc/sys/net}. */
    void sysctl(String path, String value) throws IOException;

    /** The host's log, with the instance's name in front of every line. */
    System.Logger logger();

    /**
     * An interface as the kernel reports it.
     *
     * @param name  its name
     * @param index its index
     * @param up    administratively up with carrier
     * @param mac   its hardware address (6 bytes for Ethernet), or empty
     */
    record Link(String name, int index, boolean up, byte[] mac) {
        public Link {
            mac = mac.clone();
        }

        @Override
        public byte[] mac() {
            return mac.clone();
        }
    }
}
