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

    /**
     * Opens a channel on {@code ifname} whose default source address is taken from
     * {@code addressIfname}: an interface that carries no address of its own (a macvlan with the
     * virtual MAC) sends and receives for an instance configured on another one. The default
     * implementation serves only {@code ifname.equals(addressIfname)}.
     */
    default VrrpChannel open(String ifname, String addressIfname, AddressFamily family, InetAddress source,
                             InetAddress multicastGroup, Runnable readable) throws KernelException {
        if (!ifname.equals(addressIfname) && source == null) {
            throw new UnsupportedOperationException("channel on " + ifname + " with the source address of "
                    + addressIfname);
        }
        return open(ifname, family, source, multicastGroup, readable);
    }
}
