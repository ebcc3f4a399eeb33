package dev.vigil.kernel;

import java.net.InetAddress;
import java.util.function.Consumer;

/** Opens VRRP channels (raw IP protocol 112 sockets). */
public interface VrrpTransport {

    /**
     * Opens a channel on {@code ifname}.
     *
     * @param source         source address for sent adverts; {@code null} picks the interface's
     *                       primary address (IPv6: its link-local address)
     * @param multicastGroup group to join for receiving (224.0.0.18, ff02::12 or configured);
     *                       {@code null} for unicast-only operation
     * @param sink           receives every protocol-112 packet arriving on the interface, on a
     *                       thread owned by the transport; must not block
     */
    VrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress multicastGroup,
                     Consumer<ReceivedPacket> sink) throws KernelException;
}
