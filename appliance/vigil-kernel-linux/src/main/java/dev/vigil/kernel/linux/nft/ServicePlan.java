package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.ForwardingMethod;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;

/**
 * How one service is laid out in nftables (see {@link NftablesForwarder}): the table it lives in,
 * the name of its chain and map, the rule that picks a slot, and one map element per destination.
 *
 * @param family    the table family
 * @param table     the table ({@link #tableFor})
 * @param name      the name of the service's chain and of its map ({@link #nameOf})
 * @param key       the service
 * @param scheduler {@code rr}, {@code wrr} or {@code sh}
 * @param dr        whether the service forwards by direct routing ({@link #isDirect}): its rule
 *                  duplicates the packet to the slot's address and drops the original, where a
 *                  NAT service's rule DNATs to the slot's address and port
 * @param hashPort  whether the {@code sh} draw hashes the source port with the source address
 *                  (the {@code sh-port} flag)
 * @param modulus   how many slots the rule draws from: 0 when no destination takes traffic
 * @param comment   the rule's comment, which carries the service's attributes
 * @param slots     the map's elements in key order: destinations with weight above 0 on slots
 *                  {@code 0..modulus-1}, destinations with weight 0 on single keys from
 *                  {@code modulus} on, where no draw reaches them
 */
record ServicePlan(AddressFamily family, String table, String name, ServiceKey key, String scheduler, boolean dr,
                   boolean hashPort, int modulus, String comment, List<Slot> slots) {
    /** Tables per family: a change re-validates one table, whose size this bounds. */
    static final int SHARDS = 16;
    /** Tables are named {@code vigil_0} .. {@code vigil_f}. */
    static final String TABLE_PREFIX = "vigil_";

    static final String SVC_TAG = "vigil:s";
    static final String DST_TAG = "vigil:d";
    /** The flag that makes {@code sh} hash the source port too (IPVS' {@code IP_VS_SVC_F_SCHED_SH_PORT}). */
    static final String SH_PORT = "sh-port";

    ServicePlan {
        slots = List.copyOf(slots);
    }

    /**
     * One map element: the slots {@code from..to} map to a destination's address (and port).
     *
     * @param from        first slot
     * @param to          last slot
     * @param destination the destination's identity
     * @param address     the DNAT address, or the next hop a DR packet is sent to
     * @param port        the DNAT port, or -1 when the packet's port is kept (a fwmark service, DR)
     * @param comment     the element's comment, which carries the destination's attributes
     * @param packets     the element counter's packets to start from
     * @param bytes       the element counter's bytes to start from
     */
    record Slot(int from, int to, DestinationKey destination, InetAddress address, int port, String comment,
                long packets, long bytes) {
        /** The same element with its counter starting from the given values. */
        Slot counting(long newPackets, long newBytes) {
            return new Slot(from, to, destination, address, port, comment, newPackets, newBytes);
        }

        /** Whether {@code o} is the same element apart from its counter. */
        boolean sameElement(Slot o) {
            return from == o.from && to == o.to && port == o.port && address.equals(o.address)
                    && comment.equals(o.comment);
        }
    }

    /** Whether the service matches a firewall mark (no transport protocol, no port to map). */
    boolean fwmark() {
        return key.isFwmark();
    }

    /** Whether the map's data holds a port after the address: NAT to an address service. */
    boolean mapsPort() {
        return !key.isFwmark() && !dr;
    }

    /**
     * Whether {@code vs} forwards by direct routing: one of its destinations is DR (the forwarder
     * refuses a service that mixes DR with another method). A service without destinations is NAT.
     */
    static boolean isDirect(VirtualService vs) {
        return vs.destinations().values().stream().anyMatch(d -> d.method() == ForwardingMethod.DR);
    }

    /** The transport protocol of an address service; {@code null} for a fwmark service. */
    Protocol protocol() {
        return key.protocol();
    }

    /** The plan of {@code vs} in {@code table}. */
    static ServicePlan of(VirtualService vs, String table) {
        Service s = vs.service();
        ServiceKey key = s.key();
        boolean dr = isDirect(vs);
        List<Slot> slots = new ArrayList<>();
        List<Destination> idle = new ArrayList<>();
        int next = 0;
        for (Destination d : vs.destinations().values()) {
            // rr gives every destination that takes traffic one slot, wrr and sh as many as its weight.
            int width = d.weight() == 0 ? 0 : s.scheduler().equals("rr") ? 1 : d.weight();
            if (width == 0) {
                idle.add(d);
                continue;
            }
            slots.add(slot(key, dr, d, next, next + width - 1));
            next += width;
        }
        int modulus = next;
        for (Destination d : idle) {
            slots.add(slot(key, dr, d, next, next));
            next++;
        }
        boolean hashPort = s.scheduler().equals("sh") && s.flags().contains(SH_PORT);
        return new ServicePlan(key.family(), table, nameOf(key), key, s.scheduler(), dr, hashPort, modulus,
                serviceComment(s), slots);
    }

    private static Slot slot(ServiceKey key, boolean dr, Destination d, int from, int to) {
        // An address service's NAT destination with port 0 keeps the packet's port: the service's
        // own. DR cannot change the port: the packet goes on to the service's.
        int port = key.isFwmark() || dr ? -1 : d.port() != 0 ? d.port() : key.port();
        return new Slot(from, to, d.key(), d.address(), port, destinationComment(d), 0, 0);
    }

    /** This plan with each destination's counter starting where {@code counters} says. */
    ServicePlan counting(Map<DestinationKey, long[]> counters) {
        List<Slot> counted = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            long[] c = counters.get(s.destination());
            counted.add(c == null ? s : s.counting(c[0], c[1]));
        }
        return new ServicePlan(family, table, name, key, scheduler, dr, hashPort, modulus, comment, counted);
    }

    /** The name of a service's chain and map. */
    static String nameOf(ServiceKey key) {
        if (key.isFwmark()) {
            return "s_fwmark_" + key.fwmark();
        }
        return "s_" + key.protocol().name().toLowerCase(Locale.ROOT) + "_"
                + HexFormat.of().formatHex(key.address().getAddress()) + "_" + key.port();
    }

    /**
     * The service whose chain and map {@link #nameOf} names {@code name} in family {@code f}, or
     * {@code null} when {@code name} is not such a name.
     */
    static ServiceKey keyOf(String name, AddressFamily f) {
        String[] w = name.split("_");
        try {
            if (w.length == 3 && w[0].equals("s") && w[1].equals("fwmark")) {
                int mark = Integer.parseInt(w[2]);
                return mark > 0 && name.equals(nameOf(ServiceKey.fwmark(mark, f))) ? ServiceKey.fwmark(mark, f) : null;
            }
            if (w.length == 4 && w[0].equals("s")) {
                Protocol p = Protocol.valueOf(w[1].toUpperCase(Locale.ROOT));
                byte[] a = HexFormat.of().parseHex(w[2]);
                if (a.length != (f == AddressFamily.INET ? 4 : 16)) {
                    return null;
                }
                ServiceKey key = ServiceKey.of(InetAddress.getByAddress(a), Integer.parseInt(w[3]), p);
                return name.equals(nameOf(key)) ? key : null;
            }
        } catch (IllegalArgumentException | java.net.UnknownHostException e) {
            return null;
        }
        return null;
    }

    /**
     * The table a new service goes to: one of {@link #SHARDS} per family, by a hash of its name
     * ({@link String#hashCode} is specified, so every run places a service alike). A service found
     * elsewhere stays where it is.
     */
    static String tableFor(ServiceKey key) {
        return TABLE_PREFIX + Integer.toHexString(Math.floorMod(nameOf(key).hashCode(), SHARDS));
    }

    /** Whether {@code name} is one of the tables this forwarder owns. */
    static boolean isOwnTable(String name) {
        if (name.length() != TABLE_PREFIX.length() + 1 || !name.startsWith(TABLE_PREFIX)) {
            return false;
        }
        int shard = "0123456789abcdef".indexOf(name.charAt(TABLE_PREFIX.length()));
        return shard >= 0 && shard < SHARDS;
    }

    // Comments carry what the rules alone cannot say (weights of quiesced destinations, the exact
    // scheduler); nftables limits them to 128 bytes, which the longest IPv6 form stays well within.
    static String serviceComment(Service s) {
        ServiceKey k = s.key();
        String id = k.isFwmark() ? "fwmark " + k.fwmark() + " 0" : k.protocol() + " " + k.address().getHostAddress() + " " + k.port();
        return SVC_TAG + " " + id + " " + s.scheduler() + " " + s.persistenceTimeout() + " " + s.persistencePrefix()
                + " " + (s.flags().isEmpty() ? "-" : String.join(",", s.flags()));
    }

    static String destinationComment(Destination d) {
        return DST_TAG + " " + d.address().getHostAddress() + " " + d.port() + " " + d.method() + " " + d.weight()
                + " " + d.upperThreshold() + " " + d.lowerThreshold();
    }
}
