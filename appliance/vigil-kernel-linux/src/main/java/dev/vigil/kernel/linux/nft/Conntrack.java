package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.linux.Netlink;
import dev.vigil.kernel.linux.NetlinkSocket;

/**
 * Deletes the conntrack entries of connections a NAT forwarder sent to a real server, over
 * ctnetlink ({@link CtNetlinkCodec}) on a netfilter netlink socket the caller owns.
 *
 * <p>It dumps the family's table and deletes, one request each and without a round trip per
 * request, the entries a {@link Target} selects. An entry that is gone by the time its deletion
 * arrives (it expired, or its connection ended) is not a failure.
 */
final class Conntrack {
    private static final int ENOENT = 2;

    private final NetlinkSocket socket;

    Conntrack(NetlinkSocket socket) {
        this.socket = socket;
    }

    /**
     * The entries of connections DNATed to a real server: their reply comes from
     * {@code address:port} over {@code protocol}, and they were addressed to {@code service}.
     *
     * @param port        the real server's port, or 0 for any (a fwmark service keeps the client's port)
     * @param protocol    the IP protocol number, or 0 for any (a fwmark service)
     * @param service     the virtual address the client connected to, or {@code null} for any (fwmark)
     * @param servicePort the virtual port, or 0 for any
     */
    record Target(InetAddress address, int port, int protocol, InetAddress service, int servicePort) {
        boolean selects(CtNetlinkCodec.Entry e) {
            CtNetlinkCodec.Tuple r = e.reply();
            CtNetlinkCodec.Tuple o = e.original();
            return r.src().equals(address) && (port == 0 || r.srcPort() == port)
                    && (protocol == 0 || r.protocol() == protocol)
                    && (service == null || o.dst().equals(service)) && (servicePort == 0 || o.dstPort() == servicePort);
        }
    }

    /**
     * Deletes the entries of family {@code f} that one of {@code targets} selects, and returns how
     * many it deleted.
     *
     * @throws KernelException if the dump fails, or a deletion fails otherwise than on an entry
     *                         already gone (the first such failure, with the count of the others)
     */
    int delete(AddressFamily f, List<Target> targets) throws KernelException {
        if (targets.isEmpty()) {
            return 0;
        }
        List<CtNetlinkCodec.Entry> chosen = new ArrayList<>();
        for (Netlink.Message m : socket.request("IPCTNL_MSG_CT_GET", CtNetlinkCodec.dump(f), "conntrack table " + f)) {
            CtNetlinkCodec.Entry e;
            try {
                e = CtNetlinkCodec.entry(m);
            } catch (IllegalArgumentException ex) {
                throw new KernelException("IPCTNL_MSG_CT_GET", 0, "malformed reply: " + ex.getMessage());
            }
            if (targets.stream().anyMatch(t -> t.selects(e))) {
                chosen.add(e);
            }
        }
        if (chosen.isEmpty()) {
            return 0;
        }
        List<Netlink.Builder> requests = new ArrayList<>(chosen.size());
        chosen.forEach(e -> requests.add(CtNetlinkCodec.delete(f, e)));
        List<KernelException> failures = socket.batch(requests, i -> "IPCTNL_MSG_CT_DELETE",
                i -> "conntrack entry " + describe(chosen.get(i).original()));
        int deleted = 0;
        KernelException first = null;
        int others = 0;
        for (KernelException x : failures) {
            if (x == null) {
                deleted++;
            } else if (x.errno() != ENOENT) {
                if (first == null) {
                    first = x;
                } else {
                    others++;
                }
            }
        }
        if (first != null) {
            throw new KernelException(first.call(), first.errno(), "deleted " + deleted + " of " + chosen.size()
                    + " conntrack entries; " + first.getMessage() + (others > 0 ? "; " + others + " more failed" : ""));
        }
        return deleted;
    }

    private static String describe(CtNetlinkCodec.Tuple t) {
        return "proto " + t.protocol() + " " + t.src().getHostAddress() + ":" + t.srcPort() + " -> "
                + t.dst().getHostAddress() + ":" + t.dstPort();
    }
}
