package dev.vigil.kernel;

/**
 * An interface as the kernel reports it.
 *
 * @param up  administratively up and carrier present (IFF_UP and IFF_RUNNING)
 * @param mac hardware address (6 bytes for Ethernet), or an empty array
 */
public record LinkInfo(String name, int index, boolean up, byte[] mac) {
}
