package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.linux.Netlink;
import dev.vigil.kernel.linux.NetlinkSocket;

/**
 * Deletes the conntrack entries of connections a NAT forwarder sent to a real server, over
 * ctnetlink ({@link CtNetlinkCodec}) on a netfilter netlink socket the caller owns.
 *
 * <p>For a few targets it asks the kernel for each one's entries alone (a dump with
 * {@code CTA_FILTER}): the kernel still walks the table, but copies out only the entries that
 * match, so a busy director with a large table sends a handful of messages instead of all of them.
 * Past {@link #FILTERED_DUMPS} targets, one unfiltered dump costs less than as many walks. Either
 * way each entry is checked here too (a kernel older than 5.9 ignores the filter). It then
 * deletes, one request each and without a round trip per request, the entries selected. An entry
 * that is gone by the time its deletion arrives (it expired, or its connection ended) is not a
 * failure.
 */
final class Conntrack {
    private static final int ENOENT = 2;

    /** Up to this many targets, one filtered dump each; past it, one dump of the whole table. */
    static final int FILTERED_DUMPS = 16;

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
        /** The kernel-side filter: the original tuple's destination, the reply's source. */
        CtNetlinkCodec.TupleFilter original() {
            return new CtNetlinkCodec.TupleFilter(null, service, protocol, 0, protocol == 0 ? 0 : servicePort);
        }

        CtNetlinkCodec.TupleFilter reply() {
            return new CtNetlinkCodec.TupleFilter(address, null, protocol, protocol == 0 ? 0 : port, 0);
        }

        boolean selects(CtNetlinkCodec.Entry e) {
            CtNetlinkCodec.Tuple r = e.reply();
            CtNetlinkCodec.Tuple o = e.original();
            return r.src().equals(address) && (port == 0 || r.srcPort() == port)
                    && (protocol == 0 || r.protocol() == protocol)
                    && (service == null || o.dst().equals(service)) && (servicePort == 0 || o.dstPort() == servicePort);
        }
    }

    /** What one {@link #delete} did: the entries the kernel sent, and how many of them it deleted. */
    record Result(int examined, int deleted) {
        static final Result NONE = new Result(0, 0);
    }

    /**
     * Deletes the entries of family {@code f} that one of {@code targets} selects.
     *
     * @throws KernelException if the dump fails, or a deletion fails otherwise than on an entry
     *                         already gone (the first such failure, with the count of the others)
     */
    Result delete(AddressFamily f, List<Target> targets) throws KernelException {
        if (targets.isEmpty()) {
            return Result.NONE;
        }
        List<Netlink.Builder> dumps = new ArrayList<>();
        if (targets.size() <= FILTERED_DUMPS) {
            targets.forEach(t -> dumps.add(CtNetlinkCodec.dump(f, t.original(), t.reply())));
        } else {
            dumps.add(CtNetlinkCodec.dump(f));
        }
        // Two filters may select the same entry: keyed by its original tuple (and zone), it is deleted once.
        Map<String, CtNetlinkCodec.Entry> selected = new LinkedHashMap<>();
        int examined = 0;
        for (Netlink.Builder dump : dumps) {
            for (Netlink.Message m : socket.request("IPCTNL_MSG_CT_GET", dump, "conntrack table " + f)) {
                CtNetlinkCodec.Entry e;
                try {
                    e = CtNetlinkCodec.entry(m);
                } catch (IllegalArgumentException ex) {
                    throw new KernelException("IPCTNL_MSG_CT_GET", 0, "malformed reply: " + ex.getMessage());
                }
                examined++;
                if (targets.stream().anyMatch(t -> t.selects(e))) {
                    selected.putIfAbsent(HexFormat.of().formatHex(e.originalRaw())
                            + (e.zoneRaw() == null ? "" : "/" + HexFormat.of().formatHex(e.zoneRaw())), e);
                }
            }
        }
        List<CtNetlinkCodec.Entry> chosen = List.copyOf(selected.values());
        if (chosen.isEmpty()) {
            return new Result(examined, 0);
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
        return new Result(examined, deleted);
    }

    private static String describe(CtNetlinkCodec.Tuple t) {
        return "proto " + t.protocol() + " " + t.src().getHostAddress() + ":" + t.srcPort() + " -> "
                + t.dst().getHostAddress() + ":" + t.dstPort();
    }
}
