package dev.vigil.kernel.linux.ipvs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.ApplyReport;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.Forwarder;
import dev.vigil.kernel.forward.ForwarderStats;
import dev.vigil.kernel.forward.ForwardingDiff;
import dev.vigil.kernel.forward.ForwardingOp;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;
import dev.vigil.kernel.linux.NetNs;
import dev.vigil.kernel.linux.Netlink;
import dev.vigil.kernel.linux.NetlinkSocket;

/**
 * A {@link Forwarder} over the kernel's IPVS, through its generic-netlink family (see
 * {@link IpvsCodec}).
 *
 * <p><b>Ownership.</b> IPVS has no tables or comments, so the keys of the services Vigil manages are
 * recorded in a {@link ServiceRegistry} file (the constructor's path, e.g.
 * {@code /run/vigil/ipvs-services}). {@link #current()} dumps every service in the namespace and
 * keeps those listed; a restarted daemon given the same file adopts exactly its own services and
 * leaves the others alone. {@link #apply} refuses a desired service whose key exists in the kernel
 * but is not listed, since adopting it would take over someone else's rule.
 *
 * <p><b>Applying.</b> IPVS has no transactions: {@link #apply} computes
 * {@link ForwardingDiff#between} the owned services and the desired state and sends the operations
 * in that order, one acknowledged request each, stopping at the first error, which it reports
 * together with the operation that failed. Keys about to be added are recorded before they are
 * sent and deleted keys are dropped once the apply is over, so a crash in between never orphans a
 * service.
 *
 * <p>Everything the port expresses maps onto IPVS: address+port and fwmark services, TCP, UDP and
 * SCTP, IPv4 and IPv6, every scheduler the kernel has (by name), persistence timeout and prefix,
 * the {@code ops}/{@code sh-*}/{@code mh-*} flags, NAT, DR and TUN per destination, weights and
 * thresholds. {@link #stats()} reports connections, packets and bytes in both directions.
 */
public final class IpvsForwarder implements Forwarder {
    /** The default registry file. */
    public static final Path DEFAULT_REGISTRY = Path.of("/run/vigil/ipvs-services");

    private static final int NETLINK_GENERIC = 16;
    private static final int ENOENT = 2;
    private static final int EEXIST = 17;
    private static final int EINVAL = 22;

    /** Sends one request and returns its data replies; the seam between this class and the socket. */
    @FunctionalInterface
    interface Channel extends AutoCloseable {
        List<Netlink.Message> request(String call, Netlink.Builder message, String context) throws KernelException;

        @Override
        default void close() {
        }
    }

    private final Channel channel;
    private final int family;
    private final ServiceRegistry registry;
    private boolean closed;

    /**
     * A forwarder in the calling thread's network namespace, recording ownership in {@code registryFile}.
     *
     * @throws KernelException "IPVS is not available in this kernel (modprobe ip_vs)" when the
     *                         family does not resolve, or any socket failure
     */
    public IpvsForwarder(Path registryFile) throws KernelException {
        this(socketChannel(), registryFile);
    }

    IpvsForwarder(Channel channel, Path registryFile) throws KernelException {
        this.channel = channel;
        this.registry = new ServiceRegistry(registryFile);
        try {
            this.family = resolve(channel);
        } catch (KernelException e) {
            channel.close();
            throw e;
        }
    }

    /** A forwarder in network namespace {@code netns} (as named by {@code ip netns}). */
    public static IpvsForwarder inNamespace(String netns, Path registryFile) throws Exception {
        return NetNs.call(netns, () -> new IpvsForwarder(registryFile));
    }

    /** Whether the IPVS family resolves in the calling thread's namespace. */
    public static boolean available() {
        try (Channel c = socketChannel()) {
            resolve(c);
            return true;
        } catch (KernelException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static Channel socketChannel() throws KernelException {
        NetlinkSocket socket = NetlinkSocket.open(NETLINK_GENERIC, 0, "generic netlink (IPVS)");
        return new Channel() {
            @Override
            public List<Netlink.Message> request(String call, Netlink.Builder message, String context)
                    throws KernelException {
                return socket.request(call, message, context);
            }

            @Override
            public void close() {
                socket.close();
            }
        };
    }

    private static int resolve(Channel channel) throws KernelException {
        List<Netlink.Message> replies;
        try {
            replies = channel.request("CTRL_CMD_GETFAMILY", IpvsCodec.resolveFamily(IpvsCodec.FAMILY_NAME),
                    IpvsCodec.FAMILY_NAME);
        } catch (KernelException e) {
            if (e.errno() == ENOENT) {
                throw new KernelException("CTRL_CMD_GETFAMILY", ENOENT,
                        "IPVS is not available in this kernel (modprobe ip_vs)");
            }
            throw e;
        }
        for (Netlink.Message m : replies) {
            try {
                return IpvsCodec.familyId(m);
            } catch (IllegalArgumentException e) {
                throw new KernelException("CTRL_CMD_GETFAMILY", 0, e.getMessage());
            }
        }
        throw new KernelException("CTRL_CMD_GETFAMILY", 0, "no reply naming the IPVS family");
    }

    /** The generic-netlink family id IPVS resolved to. */
    public int familyId() {
        return family;
    }

    /** The ownership registry. */
    public ServiceRegistry registry() {
        return registry;
    }

    @Override
    public synchronized ApplyReport apply(DesiredState desired) throws KernelException {
        checkOpen();
        check(desired);
        Snapshot now = snapshot(false);
        for (ServiceKey key : desired.services().keySet()) {
            if (now.foreign().contains(key)) {
                throw new KernelException("apply", EEXIST, "IPVS service " + key
                        + " exists and is not owned by Vigil (not in " + registry.file() + ")");
            }
        }
        List<ForwardingOp> ops = ForwardingDiff.between(now.owned(), desired);
        if (ops.isEmpty()) {
            return new ApplyReport(ops);
        }
        SortedSet<ServiceKey> recorded = new TreeSet<>(now.listed());
        recorded.addAll(desired.services().keySet());
        registry.write(recorded);
        for (ForwardingOp op : ops) {
            try {
                send(op);
            } catch (KernelException e) {
                // The registry still lists every key touched, so whatever was created stays owned.
                throw new KernelException(e.call(), e.errno(), "applying " + op + ": " + reason(e));
            }
        }
        registry.write(desired.services().keySet());
        return new ApplyReport(ops);
    }

    /** The exception's text without the call prefix and errno suffix {@link KernelException} adds. */
    private static String reason(KernelException e) {
        String m = e.getMessage();
        if (m.startsWith(e.call() + ": ")) {
            m = m.substring(e.call().length() + 2);
        }
        String suffix = " (errno " + e.errno() + ")";
        return m.endsWith(suffix) ? m.substring(0, m.length() - suffix.length()) : m;
    }

    private void send(ForwardingOp op) throws KernelException {
        String context = op.toString();
        switch (op) {
            case ForwardingOp.AddService a ->
                    channel.request("IPVS_CMD_NEW_SERVICE", IpvsCodec.newService(family, a.service()), context);
            case ForwardingOp.UpdateService u ->
                    channel.request("IPVS_CMD_SET_SERVICE", IpvsCodec.setService(family, u.service()), context);
            case ForwardingOp.DeleteService d ->
                    channel.request("IPVS_CMD_DEL_SERVICE", IpvsCodec.delService(family, d.serviceKey()), context);
            case ForwardingOp.AddDestination a -> channel.request("IPVS_CMD_NEW_DEST",
                    IpvsCodec.newDestination(family, a.serviceKey(), a.destination()), context);
            case ForwardingOp.UpdateDestination u -> channel.request("IPVS_CMD_SET_DEST",
                    IpvsCodec.setDestination(family, u.serviceKey(), u.destination()), context);
            case ForwardingOp.DeleteDestination d -> channel.request("IPVS_CMD_DEL_DEST",
                    IpvsCodec.delDestination(family, d.serviceKey(), d.destination()), context);
        }
    }

    /** Refuses, before any change, what IPVS cannot hold or would not read back equal. */
    private static void check(DesiredState desired) throws KernelException {
        for (VirtualService vs : desired.services().values()) {
            Service s = vs.service();
            try {
                int bits = IpvsCodec.flagBits(s);
                if (!IpvsCodec.flagNames(bits, s.scheduler()).equals(s.flags())) {
                    throw new IllegalArgumentException("flags " + s.flags() + " with scheduler " + s.scheduler()
                            + " (sh-* flags need sh, mh-* flags need mh, flag-N the others)");
                }
                if (s.scheduler().isEmpty() || s.scheduler().length() >= IpvsCodec.SCHED_NAME_MAX
                        || !s.scheduler().matches("[a-z0-9_]+")) {
                    throw new IllegalArgumentException("scheduler name '" + s.scheduler() + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new KernelException("apply", EINVAL, "service " + s.key() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public synchronized DesiredState current() throws KernelException {
        checkOpen();
        return snapshot(false).owned();
    }

    @Override
    public synchronized ForwarderStats stats() throws KernelException {
        checkOpen();
        return snapshot(true).stats();
    }

    private record Snapshot(DesiredState owned, SortedSet<ServiceKey> foreign, SortedSet<ServiceKey> listed,
                            ForwarderStats stats) {
    }

    private Snapshot snapshot(boolean withStats) throws KernelException {
        SortedSet<ServiceKey> listed = registry.read();
        SortedMap<ServiceKey, VirtualService> owned = new TreeMap<>();
        SortedSet<ServiceKey> foreign = new TreeSet<>();
        SortedMap<ServiceKey, ForwarderStats.ServiceStats> stats = new TreeMap<>();
        for (Netlink.Message m : channel.request("IPVS_CMD_GET_SERVICE", IpvsCodec.dumpServices(family),
                "service dump")) {
            IpvsCodec.ServiceEntry entry = decode(() -> IpvsCodec.parseService(m));
            ServiceKey key = entry.service().key();
            if (!listed.contains(key)) {
                foreign.add(key);
                continue;
            }
            SortedMap<DestinationKey, Destination> dests = new TreeMap<>();
            SortedMap<DestinationKey, ForwarderStats.Counters> counters = new TreeMap<>();
            for (Netlink.Message d : channel.request("IPVS_CMD_GET_DEST", IpvsCodec.dumpDestinations(family, key),
                    "destination dump of " + key)) {
                IpvsCodec.DestinationEntry de = decode(() -> IpvsCodec.parseDestination(d, key.family()));
                dests.put(de.destination().key(), de.destination());
                counters.put(de.destination().key(), de.stats());
            }
            owned.put(key, new VirtualService(entry.service(), dests));
            if (withStats) {
                stats.put(key, new ForwarderStats.ServiceStats(entry.stats(), counters));
            }
        }
        return new Snapshot(new DesiredState(owned), foreign, listed, new ForwarderStats(stats));
    }

    private interface Decoder<T> {
        T decode();
    }

    private static <T> T decode(Decoder<T> d) throws KernelException {
        try {
            return d.decode();
        } catch (IllegalArgumentException e) {
            throw new KernelException("IPVS dump", 0, "malformed reply: " + e.getMessage());
        }
    }

    private void checkOpen() throws KernelException {
        if (closed) {
            throw new KernelException("forwarder", 0, "closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            channel.close();
        }
    }
}
