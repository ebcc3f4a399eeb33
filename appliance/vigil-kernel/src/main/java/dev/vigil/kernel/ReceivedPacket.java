package dev.vigil.kernel;

import java.net.InetAddress;

/**
 * A packet of IP protocol 112, as an immutable value: what test segments inject and
 * {@link PacketBuffer#copy} makes of a received one. The receive path itself uses
 * {@link PacketBuffer}.
 *
 * @param ifname      interface it arrived on
 * @param source      IP source address
 * @param destination IP destination address (multicast group or our unicast address)
 * @param ttl         IPv4 TTL or IPv6 hop limit as received
 * @param payload     the VRRP message only, without IP header (a copy owned by the receiver)
 */
public record ReceivedPacket(String ifname, InetAddress source, InetAddress destination, int ttl, byte[] payload) {
}
