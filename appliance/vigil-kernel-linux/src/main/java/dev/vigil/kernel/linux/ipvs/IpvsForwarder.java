package dev.vigil.kernel.linux.ipvs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
 * many requests per netlink datagram ({@link NetlinkSocket#batch}): first every service-level
 * operation (destination and service removals, then service additions and changes), then the
 * destinations of the services whose own operation went through, so that a destination never
 * lands in a service someone else made under the same key. A failing operation does not stop the
 * others; the apply reports the first failure with the operation it belongs to, and how many
 * others failed or were not sent. Keys about to be added are recorded before anything is sent;
 * afterwards the file lists exactly what the kernel holds for Vigil (the services added, minus
 * those deleted, as the kernel acknowledged them), so a crash in between never orphans a service
 * and a key that someone else's service made fail is not taken over.
 *
 * <p><b>What it compares with.</b> The owned services are dumped from the kernel at the first
 * {@code apply}, after a failed one and by every {@link #current()} and {@link #stats()}; after a
 * successful apply the forwarder takes them to be the state it just applied. A one-destination
 * change among thousands of services is then one request. A service someone deleted behind the
 * forwarder's back is noticed when a change to it fails (the next apply reads the kernel again),
 * or at the next {@code current()}.
 *
 * <p>Everything the port expresses maps onto IPVS: address+port and fwmark services, TCP, UDP and
 * SCTP, IPv4 and IPv6, every scheduler the kernel has (by name), persistence timeout and prefix,
 * the {@code ops}/{@code sh-*}/{@code mh-*} flags, NAT, DR and TUN per destination, weights and
 * thresholds. {@link #stats()} reports connections, and packets and bytes in each direction, as the
 * kernel last summed them: IPVS folds its per-CPU counters into the figures it reports every 2 s
 * (its rate estimator, net/netfilter/ipvs/ip_vs_est.c), so a new connection may show up to 2 s late.
 * Each destination also has its active and inactive connection gauges, read as they are now.
 * Services someone else made are told apart by their identity alone, so one the port cannot model
 * (a persistence mask that is not a prefix, a fwmark of 2^31 or more) is passed over, not fatal.
 *
 * <p>{@link #flush} sends {@code IPVS_CMD_FLUSH}: the namespace's whole table goes, rules of other
 * tools included, as keepalived's {@code lvs_flush} does; the registry is emptied after it.
 */
public final class IpvsForwarder implements Forwarder {
    /** The default registry file. */
    public static final Path DEFAULT_REGISTRY = Path.of("/run/vigil/ipvs-services");

    private static final int NETLINK_GENERIC = 16;
    private static final int ENOENT = 2;
    private static final int EEXIST = 17;
    private static final int EINVAL = 22;

    /** Sends requests and returns replies; the seam between this class and the socket. */
    @FunctionalInterface
    interface Channel extends AutoCloseable {
        /** Sends one request and returns its data replies. */
        List<Netlink.Message> request(String call, Netlink.Builder message, String context) throws KernelException;

        /**
         * Sends acknowledged requests in order, all of them whatever fails, and returns the failure
         * of each ({@code null} where it succeeded). By default one request at a time.
         */
        default List<KernelException> batch(List<Request> requests) throws KernelException {
            List<KernelException> failures = new ArrayList<>(requests.size());
            for (Request r : requests) {
                try {
                    request(r.call(), r.message(), r.context());
                    failures.add(null);
                } catch (KernelException e) {
                    failures.add(e);
                }
            }
            return failures;
        }

        @Override
        default void close() {
        }
    }

    /** One request of a {@link Channel#batch}: the operation it carries out, described only on failure. */
    record Request(String call, Netlink.Builder message, ForwardingOp op) {
        String context() {
            return op.toString();
        }
    }

    private final Channel channel;
    private final int family;
    private final ServiceRegistry registry;
    private boolean closed;
    /** What the kernel holds for Vigil as far as this forwarder knows; {@code null}: read it first. */
    private Known known;

    /**
     * The owned services, the keys the registry file lists and the keys of services it does not
     * list, as last read or applied.
     */
    private record Known(DesiredState owned, SortedSet<ServiceKey> listed, SortedSet<ServiceKey> foreign) {
    }

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
            public List<KernelException> batch(List<Request> requests) throws KernelException {
                return socket.batch(requests.stream().map(Request::message).toList(),
                        i -> requests.get(i).call(), i -> requests.get(i).context());
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
        Known now = known != null ? known : read();
        for (ServiceKey key : now.foreign()) {
            if (desired.services().containsKey(key)) {
                throw new KernelException("apply", EEXIST, "IPVS service " + key
                        + " exists and is not owned by Vigil (not in " + registry.file() + ")");
            }
        }
        List<ForwardingOp> ops = ForwardingDiff.between(now.owned(), desired);
        if (ops.isEmpty()) {
            known = now;
            return new ApplyReport(ops);
        }
        check(ops);
        // The registry changes only with services added or deleted, not with a destination.
        boolean servicesChange = ops.stream().anyMatch(op -> op instanceof ForwardingOp.AddService
                || op instanceof ForwardingOp.DeleteService);
        SortedSet<ServiceKey> recorded = now.listed();
        if (servicesChange) {
            recorded = new TreeSet<>(now.listed());
            for (ForwardingOp op : ops) {
                if (op instanceof ForwardingOp.AddService a) {
                    recorded.add(a.serviceKey());
                }
            }
            if (!recorded.equals(now.listed())) {
                registry.write(recorded);
            }
        }
        // From here on the kernel may differ from what this forwarder knows until the apply succeeds.
        known = null;
        KernelException[] failures = new KernelException[ops.size()];
        boolean[] sent = new boolean[ops.size()];
        // Services first (every removal, then additions and changes), destinations after, and only
        // for services whose own operation went through: a destination must never land in a
        // service that someone else made under the same key.
        Set<ServiceKey> failedServices = new TreeSet<>();
        for (int phase = 0; phase < 2; phase++) {
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < ops.size(); i++) {
                ForwardingOp op = ops.get(i);
                boolean serviceLevel = op instanceof ForwardingOp.AddService || op instanceof ForwardingOp.UpdateService
                        || op instanceof ForwardingOp.DeleteService || op instanceof ForwardingOp.DeleteDestination;
                if (serviceLevel == (phase == 0) && !failedServices.contains(op.serviceKey())) {
                    indexes.add(i);
                }
            }
            if (indexes.isEmpty()) {
                continue;
            }
            List<Request> requests = new ArrayList<>(indexes.size());
            indexes.forEach(i -> requests.add(request(ops.get(i))));
            List<KernelException> result;
            try {
                result = channel.batch(requests);
            } catch (KernelException e) {
                // Unknown which operations the kernel took: the registry keeps every key touched.
                throw new KernelException(e.call(), e.errno(), "applying " + ops.size() + " operations: " + reason(e));
            }
            for (int k = 0; k < indexes.size(); k++) {
                int i = indexes.get(k);
                sent[i] = true;
                failures[i] = result.get(k);
                if (failures[i] != null && !(ops.get(i) instanceof ForwardingOp.DeleteDestination)) {
                    failedServices.add(ops.get(i).serviceKey());
                }
            }
        }
        SortedSet<ServiceKey> owned = servicesChange ? new TreeSet<>(now.listed()) : now.listed();
        int failed = 0;
        int unsent = 0;
        int firstFailure = -1;
        for (int i = 0; i < ops.size(); i++) {
            if (!sent[i]) {
                unsent++;
            } else if (failures[i] != null) {
                failed++;
                firstFailure = firstFailure < 0 ? i : firstFailure;
            } else if (ops.get(i) instanceof ForwardingOp.AddService a) {
                owned.add(a.serviceKey());
            } else if (ops.get(i) instanceof ForwardingOp.DeleteService d) {
                owned.remove(d.serviceKey());
            }
        }
        if (servicesChange && !owned.equals(recorded)) {
            registry.write(owned);
        }
        if (failed > 0) {
            KernelException e = failures[firstFailure];
            throw new KernelException(e.call(), e.errno(), "applying " + ops.get(firstFailure) + ": " + reason(e)
                    + (failed > 1 ? " (and " + (failed - 1) + " more of " + ops.size() + " operations failed)" : "")
                    + (unsent > 0 ? " (" + unsent + " operations on services that failed were not sent)" : ""));
        }
        known = new Known(desired, owned, now.foreign());
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

    private Request request(ForwardingOp op) {
        return switch (op) {
            case ForwardingOp.AddService a ->
                    new Request("IPVS_CMD_NEW_SERVICE", IpvsCodec.newService(family, a.service()), op);
            case ForwardingOp.UpdateService u ->
                    new Request("IPVS_CMD_SET_SERVICE", IpvsCodec.setService(family, u.service()), op);
            case ForwardingOp.DeleteService d ->
                    new Request("IPVS_CMD_DEL_SERVICE", IpvsCodec.delService(family, d.serviceKey()), op);
            case ForwardingOp.AddDestination a -> new Request("IPVS_CMD_NEW_DEST",
                    IpvsCodec.newDestination(family, a.serviceKey(), a.destination()), op);
            case ForwardingOp.UpdateDestination u -> new Request("IPVS_CMD_SET_DEST",
                    IpvsCodec.setDestination(family, u.serviceKey(), u.destination()), op);
            case ForwardingOp.DeleteDestination d -> new Request("IPVS_CMD_DEL_DEST",
                    IpvsCodec.delDestination(family, d.serviceKey(), d.destination()), op);
        };
    }

    /**
     * Refuses, before any change, what IPVS cannot hold or would not read back equal. Only services
     * being added or changed are looked at: the others were accepted when they were applied.
     */
    private static void check(List<ForwardingOp> ops) throws KernelException {
        for (ForwardingOp op : ops) {
            Service s;
            if (op instanceof ForwardingOp.AddService a) {
                s = a.service();
            } else if (op instanceof ForwardingOp.UpdateService u) {
                s = u.service();
            } else {
                continue;
            }
            try {
                int bits = IpvsCodec.flagBits(s);
                if (!IpvsCodec.flagNames(bits, s.scheduler()).equals(s.flags())) {
                    throw new IllegalArgumentException("flags " + s.flags() + " with scheduler " + s.scheduler()
                            + " (sh-* flags need sh, mh-* flags need mh, flag-N the others)");
                }
                if (s.scheduler().isEmpty() || s.scheduler().length() >= IpvsCodec.SCHED_NAME_MAX
                        || !s.scheduler().chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')) {
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
        return read().owned();
    }

    @Override
    public synchronized ForwarderStats stats() throws KernelException {
        checkOpen();
        Snapshot s = snapshot(true);
        known = new Known(s.owned(), s.listed(), s.foreign());
        return s.stats();
    }

    /**
     * Flushes the namespace's whole IPVS table, then empties the registry: nothing is Vigil's any
     * more, so a service someone makes later under a key Vigil had is not taken for Vigil's.
     */
    @Override
    public synchronized FlushScope flush() throws KernelException {
        checkOpen();
        known = null;
        channel.request("IPVS_CMD_FLUSH", IpvsCodec.flush(family), "flush");
        registry.write(new TreeSet<>());
        return FlushScope.EVERYTHING;
    }

    /** Reads the registry and the kernel, and remembers what it read. */
    private Known read() throws KernelException {
        known = null;
        Snapshot s = snapshot(false);
        known = new Known(s.owned(), s.listed(), s.foreign());
        return known;
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
            // Identity first: someone else's service may hold what the port cannot model.
            ServiceKey key = decode(() -> IpvsCodec.parseServiceKey(m));
            if (key == null || !listed.contains(key)) {
                if (key != null) {
                    foreign.add(key);
                }
                continue;
            }
            IpvsCodec.ServiceEntry entry = decode(() -> IpvsCodec.parseService(m));
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
