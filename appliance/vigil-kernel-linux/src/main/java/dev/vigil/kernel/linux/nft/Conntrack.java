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
 * <p>It asks the kernel only for the entries that can matter, with dumps filtered by
 * {@code CTA_FILTER}: one per virtual service among the targets, selecting the connections
 * addressed to that service (its address, port and protocol), or, for a service with one target,
 * those of that real server alone; a fwmark target has no service address and is filtered by its
 * reply's source. The kernel walks its whole table for each such dump, in place, copying out only
 * what matches. Past {@link #FILTERED_DUMPS} of them, one walk is cheaper: a dump of the entries
 * whose destination was translated ({@code IPS_DST_NAT}), which leaves out every connection the
 * director itself makes or merely passes (a health checker's own, tens of thousands on a director
 * checking thousands of servers every second). On a table of 95,000 such entries an unfiltered
 * dump read and parsed here took over a second of a loaded 2-core machine, one walk 35 to 60 ms,
 * and the walk of the translated entries no more. Either way each entry is checked here too (a kernel older than 5.9 ignores
 * {@code CTA_FILTER}, one older than 5.15 the status). It then
 * deletes, one request each and without a round trip per request, the entries selected. An entry
 * that is gone by the time its deletion arrives (it expired, or its connection ended) is not a
 * failure.
 */
final class Conntrack {
    private static final int ENOENT = 2;

    /** Up to this many filtered dumps (services, and fwmark targets); past it, one dump of the translated entries. */
    static final int FILTERED_DUMPS = 2;

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
        List<Netlink.Builder> dumps = filteredDumps(f, targets);
        if (dumps.size() > FILTERED_DUMPS) {
            dumps = List.of(CtNetlinkCodec.dumpWithStatus(f, CtNetlinkCodec.IPS_DST_NAT));
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

    /**
     * One dump filtered on each service of {@code targets} (its original-direction destination),
     * narrowed to the real server's reply source when the service has one target; one filtered on
     * the reply source of each target without a service (fwmark).
     */
    static List<Netlink.Builder> filteredDumps(AddressFamily f, List<Target> targets) {
        Map<CtNetlinkCodec.TupleFilter, List<Target>> byService = new LinkedHashMap<>();
        targets.forEach(t -> byService.computeIfAbsent(t.original(), k -> new ArrayList<>()).add(t));
        List<Netlink.Builder> dumps = new ArrayList<>();
        byService.forEach((service, those) -> {
            if (service.flags() == 0 || those.size() == 1) {
                those.forEach(t -> dumps.add(CtNetlinkCodec.dump(f, service, t.reply())));
            } else {
                dumps.add(CtNetlinkCodec.dump(f, service, CtNetlinkCodec.TupleFilter.ANY));
            }
        });
        return dumps;
    }

    private static String describe(CtNetlinkCodec.Tuple t) {
        return "proto " + t.protocol() + " " + t.src().getHostAddress() + ":" + t.srcPort() + " -> "
                + t.dst().getHostAddress() + ":" + t.dstPort();
    }
}
