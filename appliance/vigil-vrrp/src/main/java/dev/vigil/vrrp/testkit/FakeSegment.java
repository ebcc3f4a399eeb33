package dev.vigil.vrrp.testkit;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.PacketBuffer;
import dev.vigil.kernel.ReceivedPacket;
import dev.vigil.kernel.VrrpChannel;
import dev.vigil.kernel.VrrpTransport;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * An L2 segment joining the VRRP channels of several nodes. A multicast message reaches every other
 * node's channel that joined the group; a unicast one reaches the channel whose source is the
 * destination. Delivery is synchronous: the packet is queued on the receiving channel and its
 * {@code readable} callback runs (the receiving router only enqueues a drain). Nodes can be cut off
 * with {@link #isolate(String)} and every sent message is logged.
 */
public final class FakeSegment {

    /** One message put on the wire. */
    public record Sent(String node, InetAddress source, InetAddress destination, byte[] payload) {
    }

    private final LongSupplier clock;
    private final List<Endpoint> endpoints = new ArrayList<>();
    private final List<Sent> sent = new ArrayList<>();
    private final Set<String> isolated = new HashSet<>();

    /** A segment whose packets carry no receive time stamp (their age is 0 when taken). */
    public FakeSegment() {
        this(() -> 0L);
    }

    /**
     * A segment that stamps every packet with {@code clock} (nanoseconds) when it arrives, as the
     * kernel does: a channel reports how long the packet waited before it was taken.
     */
    public FakeSegment(LongSupplier clock) {
        this.clock = clock;
    }

    /** The transport of node {@code node}, whose interfaces' primary address is {@code primary}. */
    public Transport node(String node, InetAddress primary) {
        return new Transport(node, primary);
    }

    /** Cuts {@code node} off: nothing it sends arrives, nothing reaches it. */
    public void isolate(String node) {
        isolated.add(node);
    }

    /** Undoes {@link #isolate(String)}. */
    public void heal(String node) {
        isolated.remove(node);
    }

    /** Every message sent so far, in order. */
    public List<Sent> sent() {
        return List.copyOf(sent);
    }

    /** Messages sent by {@code node}. */
    public List<Sent> sentBy(String node) {
        return sent.stream().filter(s -> s.node().equals(node)).toList();
    }

    public void clearLog() {
        sent.clear();
    }

    /** Delivers a crafted packet to {@code node}'s channels on {@code ifname}, as if received. */
    public void inject(String node, ReceivedPacket packet) {
        for (Endpoint e : List.copyOf(endpoints)) {
            if (e.node.equals(node) && e.ifname.equals(packet.ifname()) && !e.closed) {
                e.deliver(packet);
            }
        }
    }

    private void carry(Endpoint from, InetAddress dst, byte[] payload) {
        sent.add(new Sent(from.node, from.source, dst, payload.clone()));
        if (isolated.contains(from.node)) {
            return;
        }
        for (Endpoint to : List.copyOf(endpoints)) {
            if (to == from || to.closed || to.node.equals(from.node) || isolated.contains(to.node)
                    || to.family != from.family) {
                continue;
            }
            boolean reaches = dst.isMulticastAddress() ? dst.equals(to.group) : dst.equals(to.source);
            if (reaches) {
                to.deliver(new ReceivedPacket(to.ifname, from.source, dst, 255, payload.clone()));
            }
        }
    }

    /** A node's {@link VrrpTransport}. Opening can be made to fail with {@link #failOpen}. */
    public final class Transport implements VrrpTransport {
        private final String node;
        private final InetAddress primary;
        private KernelException failOpen;
        private int opened;
        private final List<String> openedOn = new ArrayList<>();

        private Transport(String node, InetAddress primary) {
            this.node = node;
            this.primary = primary;
        }

        /** The next {@link #open} throws {@code e}. */
        public void failOpen(KernelException e) {
            this.failOpen = e;
        }

        /** Channels opened so far. */
        public int opened() {
            return opened;
        }

        @Override
        public VrrpChannel open(String ifname, AddressFamily family, InetAddress source, InetAddress multicastGroup,
                                Runnable readable) throws KernelException {
            if (failOpen != null) {
                KernelException e = failOpen;
                failOpen = null;
                throw e;
            }
            opened++;
            Endpoint e = new Endpoint(node, ifname, family, source != null ? source : primary, multicastGroup,
                    Objects.requireNonNull(readable, "readable"));
            endpoints.add(e);
            openedOn.add(ifname);
            return e;
        }

        /** As the 5-argument open: the node's one primary address serves every interface. */
        @Override
        public VrrpChannel open(String ifname, String addressIfname, AddressFamily family, InetAddress source,
                                InetAddress multicastGroup, Runnable readable) throws KernelException {
            return open(ifname, family, source, multicastGroup, readable);
        }

        /** The interfaces channels were opened on, in order. */
        public List<String> openedOn() {
            return List.copyOf(openedOn);
        }
    }

    /** A packet waiting on a channel, with the segment clock's time when it arrived. */
    private record Queued(ReceivedPacket packet, long arrival) {
    }

    private final class Endpoint implements VrrpChannel {
        final String node;
        final String ifname;
        final AddressFamily family;
        final InetAddress source;
        final InetAddress group;
        final Runnable readable;
        final ArrayDeque<Queued> queue = new ArrayDeque<>();
        boolean signalled;
        boolean closed;

        Endpoint(String node, String ifname, AddressFamily family, InetAddress source, InetAddress group,
                 Runnable readable) {
            this.node = node;
            this.ifname = ifname;
            this.family = family;
            this.source = source;
            this.group = group;
            this.readable = readable;
        }

        void deliver(ReceivedPacket packet) {
            queue.add(new Queued(packet, clock.getAsLong()));
            if (!signalled) {
                signalled = true;
                readable.run();
            }
        }

        @Override
        public boolean receive(PacketBuffer into) {
            Queued q = queue.poll();
            if (q == null) {
                signalled = false;
                return false;
            }
            into.fill(q.packet);
            into.set(q.packet.payload().length, q.packet.ttl(), clock.getAsLong() - q.arrival);
            return true;
        }

        @Override
        public String ifname() {
            return ifname;
        }

        @Override
        public AddressFamily family() {
            return family;
        }

        @Override
        public InetAddress source() {
            return source;
        }

        @Override
        public void send(InetAddress destination, byte[] vrrpMessage) throws KernelException {
            if (closed) {
                throw new KernelException("sendto", 9, "channel closed");
            }
            carry(this, destination, vrrpMessage);
        }

        @Override
        public void close() {
            closed = true;
            endpoints.remove(this);
        }
    }
}
