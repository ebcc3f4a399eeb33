package dev.vigil.kernel;

import java.util.List;
import java.util.Optional;

/**
 * Creates and deletes the interfaces VIP backends own (rtnetlink RTM_NEWLINK / RTM_DELLINK) and
 * reads and writes the per-interface network sysctls they need ({@code /proc/sys/net}), in one
 * network namespace. Blocking, short.
 */
public interface LinkManager {

    /** MACVLAN_MODE_PRIVATE ({@code linux/if_link.h}). */
    int MACVLAN_MODE_PRIVATE = 1;

    /**
     * Creates macvlan {@code name} on {@code lower} in private mode with hardware address
     * {@code mac}, administratively down (its sysctls can be set before it sends anything). Fails
     * with {@code EEXIST} when the name is taken.
     */
    void createMacvlan(String name, String lower, byte[] mac) throws KernelException;

    /** Sets interface {@code name} administratively up. */
    void setUp(String name) throws KernelException;

    /** Deletes interface {@code name}; one that does not exist is success. */
    void deleteLink(String name) throws KernelException;

    /** The interface {@code name}, if there is one. */
    Optional<LinkInfo> link(String name) throws KernelException;

    /** Every interface. */
    List<LinkInfo> links() throws KernelException;

    /** A sysctl under {@code /proc/sys/net} by relative path ({@code ipv4/conf/eth0/arp_ignore}); empty when absent. */
    Optional<String> sysctl(String path) throws KernelException;

    /** Writes a sysctl under {@code /proc/sys/net}. */
    void sysctl(String path, String value) throws KernelException;
}
