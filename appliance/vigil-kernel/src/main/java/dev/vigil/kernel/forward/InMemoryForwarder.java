package dev.vigil.kernel.forward;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.vigil.kernel.KernelException;

/**
 * A {@link Forwarder} over an in-memory {@link Table} that stands for the kernel: several
 * forwarders over one table behave like successive daemons on one host, and the table's foreign
 * services stand for rules someone else made. The table is one shared table, as IPVS's is, so
 * {@link #flush} empties all of it.
 */
public final class InMemoryForwarder implements Forwarder {
    private final Table table;
    private boolean closed;

    /** A forwarder over {@code table}. */
    public InMemoryForwarder(Table table) {
        this.table = table;
    }

    /** A forwarder over a fresh, empty table. */
    public InMemoryForwarder() {
        this(new Table());
    }

    /** The table this forwarder programs. */
    public Table table() {
        return table;
    }

    @Override
    public ApplyReport apply(DesiredState desired) throws KernelException {
        checkOpen();
        synchronized (table) {
            for (ServiceKey key : desired.services().keySet()) {
                if (table.foreign.services().containsKey(key)) {
                    throw new KernelException("apply", 17, "service " + key + " exists and is not owned");
                }
            }
            List<ForwardingOp> ops = ForwardingDiff.between(table.owned, desired);
            if (!ops.isEmpty()) {
                table.owned = ForwardingDiff.apply(table.owned, ops);
                table.batches++;
                // Counters of removed destinations go with them, as in the kernel.
                table.counters.keySet().removeIf(k -> !table.owns(k.service(), k.destination()));
            }
            return new ApplyReport(ops);
        }
    }

    @Override
    public DesiredState current() throws KernelException {
        checkOpen();
        synchronized (table) {
            return table.owned;
        }
    }

    @Override
    public ForwarderStats stats() throws KernelException {
        checkOpen();
        synchronized (table) {
            Map<ServiceKey, ForwarderStats.ServiceStats> out = new TreeMap<>();
            for (VirtualService vs : table.owned.services().values()) {
                Map<DestinationKey, ForwarderStats.Counters> dests = new TreeMap<>();
                ForwarderStats.Counters total = ForwarderStats.Counters.ZERO;
                for (DestinationKey d : vs.destinations().keySet()) {
                    var c = table.counters.getOrDefault(new Table.CounterKey(vs.key(), d), ForwarderStats.Counters.ZERO);
                    dests.put(d, c);
                    total = total.plus(c);
                }
                out.put(vs.key(), new ForwarderStats.ServiceStats(total, new TreeMap<>(dests)));
            }
            return new ForwarderStats(new TreeMap<>(out));
        }
    }

    /** Empties the whole table, foreign services and counters included, as an IPVS flush does. */
    @Override
    public FlushScope flush() throws KernelException {
        checkOpen();
        synchronized (table) {
            table.owned = DesiredState.EMPTY;
            table.foreign = DesiredState.EMPTY;
            table.counters.clear();
            table.flushes++;
            return FlushScope.EVERYTHING;
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() throws KernelException {
        if (closed) {
            throw new KernelException("forwarder", 0, "closed");
        }
    }

    /** The in-memory stand-in for the kernel's tables. Thread-safe. */
    public static final class Table {
        private DesiredState owned = DesiredState.EMPTY;
        private DesiredState foreign = DesiredState.EMPTY;
        private final Map<CounterKey, ForwarderStats.Counters> counters = new TreeMap<>();
        private int batches;
        private int flushes;

        private record CounterKey(ServiceKey service, DestinationKey destination) implements Comparable<CounterKey> {
            @Override
            public int compareTo(CounterKey o) {
                int c = service.compareTo(o.service);
                return c != 0 ? c : destination.compareTo(o.destination);
            }
        }

        /** Adds a service that no forwarder owns (made by another tool). */
        public synchronized void addForeign(VirtualService service) {
            foreign = foreign.with(service);
        }

        /** The services no forwarder owns. */
        public synchronized DesiredState foreign() {
            return foreign;
        }

        /** How many applies changed something (each is one batch). */
        public synchronized int batches() {
            return batches;
        }

        /** How many times a forwarder flushed the table. */
        public synchronized int flushes() {
            return flushes;
        }

        /**
         * Counts traffic to an owned destination, as the kernel would when forwarding: {@code add}
         * is added to what was counted before ({@link ForwarderStats.Counters#plus}).
         */
        public synchronized void count(ServiceKey service, DestinationKey destination, ForwarderStats.Counters add) {
            if (!owns(service, destination)) {
                throw new IllegalArgumentException("no owned destination " + destination + " in " + service);
            }
            counters.merge(new CounterKey(service, destination), add, ForwarderStats.Counters::plus);
        }

        private boolean owns(ServiceKey service, DestinationKey destination) {
            VirtualService vs = owned.services().get(service);
            return vs != null && vs.destinations().containsKey(destination);
        }
    }
}
