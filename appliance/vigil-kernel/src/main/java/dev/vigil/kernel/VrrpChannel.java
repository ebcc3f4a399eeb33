package dev.vigil.kernel;

import java.net.InetAddress;

/**
 * Sends VRRP messages out of one interface for one address family. The kernel builds the IP
 * header: protocol 112, TTL / hop limit 255, source {@link #source()}. For IPv6 the kernel
 * computes the VRRP checksum (RFC 5798 §5.2.8 via IPV6_CHECKSUM); for IPv4 the caller's checksum
 * is sent unchanged.
 */
public interface VrrpChannel extends AutoCloseable {

    String ifname();

    AddressFamily family();

    /** The source address adverts carry (the interface primary address or the configured one). */
    InetAddress source();

    /**
     * Sends one VRRP message to {@code destination} (the multicast group or a unicast peer).
     * Non-blocking in practice (raw datagram); never retries.
     */
    void send(InetAddress destination, byte[] vrrpMessage) throws KernelException;

    /**
     * Takes the next queued packet into {@code into}; {@code false} when none is queued, which
     * also re-arms the {@code readable} callback. Called by one thread at a time (the engine's);
     * never blocks. Malformed packets are counted by the channel and skipped.
     */
    boolean receive(PacketBuffer into) throws KernelException;

    @Override
    void close();
}
