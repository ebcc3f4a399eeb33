package dev.vigil.kernel;

import java.net.InetAddress;

/** Opens VRRP channels (raw IP protocol 112 sockets). */
public interface VrrpTransport {

    /**
     * Opens a channel on {@code ifname}.
     *
     * @param source         source address for sent adverts; {@code null} picks the interface's
     *                       primary address (IPv6: its link-local address)
     * @param multicastGroup group to join for receiving (224.0.0.18, ff02::12 or configured);
     *                       {@code null} for unicast-only operation
     * @param readable       runs on a thread owned by the transport when protocol-112 packets are
     *                       queued on the interface; the opener then calls {@link VrrpChannel#receive}
     *                       until it returns {@code false}, and {@code readable} runs again only
     *                       after such a drain. Must not block.
     */
    VrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress multicastGroup,
                     Runnable readable) throws KernelException;
}
