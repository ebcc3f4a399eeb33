package dev.vigil.kernel.linux.ipvs;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.DestinationKey;
import dev.vigil.kernel.forward.ForwarderStats;
import dev.vigil.kernel.forward.ForwardingMethod;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.linux.Netlink;

/**
 * Pure codec for the IPVS generic-netlink family ({@code linux/ip_vs.h}): the controller request
 * that resolves the family id, the service and destination requests built from the forwarder
 * port's records, and the parsing of dump replies back into those records.
 *
 * <p>Every message is a netlink header, the 4-byte generic-netlink header ({@code u8 cmd},
 * {@code u8 version = 1}, {@code u16 reserved}) and attributes. Service requests carry one nested
 * {@link #CMD_ATTR_SERVICE}; destination requests carry the nested service identity followed by a
 * nested {@link #CMD_ATTR_DEST}. Integers are host order as netlink requires, except the two ports,
 * which IPVS keeps in network order, and the IPv4 persistence netmask, which is an address mask
 * ({@code __be32}); for IPv6 the netmask attribute is a prefix length. Addresses are 16-byte
 * {@code nf_inet_addr} values, IPv4 in the first four bytes.
 */
public final class IpvsCodec {
    /** The generic-netlink family name IPVS registers. */
    public static final String FAMILY_NAME = "IPVS";
    /** {@code IPVS_GENL_VERSION}. */
    public static final int VERSION = 1;

    /** {@code GENL_ID_CTRL}: the netlink message type of the generic-netlink controller. */
    public static final int GENL_ID_CTRL = 0x10;
    static final int CTRL_CMD_NEWFAMILY = 1;
    static final int CTRL_CMD_GETFAMILY = 3;
    static final int CTRL_ATTR_FAMILY_ID = 1;
    static final int CTRL_ATTR_FAMILY_NAME = 2;
    static final int CTRL_VERSION = 1;

    public static final int CMD_NEW_SERVICE = 1;
    public static final int CMD_SET_SERVICE = 2;
    public static final int CMD_DEL_SERVICE = 3;
    public static final int CMD_GET_SERVICE = 4;
    public static final int CMD_NEW_DEST = 5;
    public static final int CMD_SET_DEST = 6;
    public static final int CMD_DEL_DEST = 7;
    public static final int CMD_GET_DEST = 8;
    /** {@code IPVS_CMD_FLUSH}: removes every service of the namespace, whoever made it. */
    public static final int CMD_FLUSH = 17;

    static final int CMD_ATTR_SERVICE = 1;
    static final int CMD_ATTR_DEST = 2;

    static final int SVC_AF = 1;
    static final int SVC_PROTOCOL = 2;
    static final int SVC_ADDR = 3;
    static final int SVC_PORT = 4;
    static final int SVC_FWMARK = 5;
    static final int SVC_SCHED_NAME = 6;
    static final int SVC_FLAGS = 7;
    static final int SVC_TIMEOUT = 8;
    static final int SVC_NETMASK = 9;
    static final int SVC_STATS = 10;
    static final int SVC_STATS64 = 12;

    static final int DEST_ADDR = 1;
    static final int DEST_PORT = 2;
    static final int DEST_FWD_METHOD = 3;
    static final int DEST_WEIGHT = 4;
    static final int DEST_U_THRESH = 5;
    static final int DEST_L_THRESH = 6;
    static final int DEST_ACTIVE_CONNS = 7;
    static final int DEST_INACT_CONNS = 8;
    static final int DEST_STATS = 10;
    static final int DEST_ADDR_FAMILY = 11;
    static final int DEST_STATS64 = 12;

    static final int STATS_CONNS = 1;
    static final int STATS_INPKTS = 2;
    static final int STATS_OUTPKTS = 3;
    static final int STATS_INBYTES = 4;
    static final int STATS_OUTBYTES = 5;

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;

    /** {@code IP_VS_SVC_F_PERSISTENT}. */
    static final int F_PERSISTENT = 0x1;
    /** {@code IP_VS_SVC_F_HASHED}: set by the kernel, never ours to send or compare. */
    static final int F_HASHED = 0x2;
    static final int F_ONEPACKET = 0x4;
    static final int F_SCHED1 = 0x8;
    static final int F_SCHED2 = 0x10;
    static final int F_SCHED3 = 0x20;

    /** Forwarding methods ({@code IP_VS_CONN_F_MASQ/TUNNEL/DROUTE}). */
    static final int FWD_MASQ = 0;
    static final int FWD_TUNNEL = 2;
    static final int FWD_DROUTE = 3;

    /** Maximum scheduler name length including the NUL ({@code IP_VS_SCHEDNAME_MAXLEN}). */
    static final int SCHED_NAME_MAX = 16;

    /**
     * The service flags by keepalived name. The scheduler flags mean different things per scheduler
     * (sh and mh use flag 1 for fallback and flag 2 for port hashing), so both names map to the bit.
     */
    static final Map<String, Integer> FLAG_BITS;

    static {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("ops", F_ONEPACKET);
        m.put("sh-fallback", F_SCHED1);
        m.put("sh-port", F_SCHED2);
        m.put("mh-fallback", F_SCHED1);
        m.put("mh-port", F_SCHED2);
        m.put("flag-1", F_SCHED1);
        m.put("flag-2", F_SCHED2);
        m.put("flag-3", F_SCHED3);
        FLAG_BITS = Map.copyOf(m);
    }

    private IpvsCodec() {
    }

    // ---- family resolution --------------------------------------------------------------------

    /** {@code CTRL_CMD_GETFAMILY} for {@code name}, answered with one {@code CTRL_CMD_NEWFAMILY}. */
    public static Netlink.Builder resolveFamily(String name) {
        return genl(GENL_ID_CTRL, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, CTRL_CMD_GETFAMILY, CTRL_VERSION)
                .attributeString(CTRL_ATTR_FAMILY_NAME, name);
    }

    /**
     * The family id in the controller's reply.
     *
     * @throws IllegalArgumentException if the reply is not a controller message or lacks the id
     */
    public static int familyId(Netlink.Message reply) {
        if (reply.type() != GENL_ID_CTRL) {
            throw new IllegalArgumentException("genl controller reply: message type " + reply.type()
                    + " (expected: " + GENL_ID_CTRL + ")");
        }
        Netlink.Attributes a = genlAttributes(reply);
        byte[] id = a.bytes(CTRL_ATTR_FAMILY_ID);
        if (id == null || id.length < 2) {
            throw new IllegalArgumentException("genl controller reply: no CTRL_ATTR_FAMILY_ID");
        }
        return u16(id);
    }

    // ---- requests -----------------------------------------------------------------------------

    /** {@code IPVS_CMD_NEW_SERVICE} with every attribute of {@code service}. */
    public static Netlink.Builder newService(int family, Service service) {
        return fullService(ack(family, CMD_NEW_SERVICE), service);
    }

    /** {@code IPVS_CMD_SET_SERVICE}: the same attributes as {@link #newService}. */
    public static Netlink.Builder setService(int family, Service service) {
        return fullService(ack(family, CMD_SET_SERVICE), service);
    }

    /** {@code IPVS_CMD_DEL_SERVICE}: only the identity. */
    public static Netlink.Builder delService(int family, ServiceKey key) {
        Netlink.Builder b = ack(family, CMD_DEL_SERVICE).beginNested(CMD_ATTR_SERVICE);
        identity(b, key);
        return b.endNested();
    }

    /** {@code IPVS_CMD_FLUSH}: no attributes; the kernel empties the namespace's whole IPVS table. */
    public static Netlink.Builder flush(int family) {
        return ack(family, CMD_FLUSH);
    }

    /** {@code IPVS_CMD_GET_SERVICE} as a dump of every service in the namespace. */
    public static Netlink.Builder dumpServices(int family) {
        return genl(family, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, CMD_GET_SERVICE, VERSION);
    }

    /** {@code IPVS_CMD_GET_DEST} as a dump of the destinations of service {@code key}. */
    public static Netlink.Builder dumpDestinations(int family, ServiceKey key) {
        Netlink.Builder b = genl(family, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, CMD_GET_DEST, VERSION)
                .beginNested(CMD_ATTR_SERVICE);
        identity(b, key);
        return b.endNested();
    }

    /** {@code IPVS_CMD_NEW_DEST}: the service identity, then every attribute of {@code destination}. */
    public static Netlink.Builder newDestination(int family, ServiceKey key, Destination destination) {
        return fullDestination(ack(family, CMD_NEW_DEST), key, destination);
    }

    /** {@code IPVS_CMD_SET_DEST}: the same attributes as {@link #newDestination}. */
    public static Netlink.Builder setDestination(int family, ServiceKey key, Destination destination) {
        return fullDestination(ack(family, CMD_SET_DEST), key, destination);
    }

    /** {@code IPVS_CMD_DEL_DEST}: the service identity, then the destination's address and port. */
    public static Netlink.Builder delDestination(int family, ServiceKey key, DestinationKey destination) {
        Netlink.Builder b = ack(family, CMD_DEL_DEST).beginNested(CMD_ATTR_SERVICE);
        identity(b, key);
        b.endNested().beginNested(CMD_ATTR_DEST);
        destinationIdentity(b, destination.address(), destination.port());
        return b.endNested();
    }

    /** The IPVS flag bits of {@code service} (persistence and its named flags), without HASHED. */
    public static int flagBits(Service service) {
        int bits = service.persistenceTimeout() > 0 ? F_PERSISTENT : 0;
        for (String f : service.flags()) {
            Integer bit = FLAG_BITS.get(f);
            if (bit == null) {
                throw new IllegalArgumentException("IPVS has no service flag '" + f + "' (expected one of "
                        + new TreeSet<>(FLAG_BITS.keySet()) + ")");
            }
            bits |= bit;
        }
        return bits;
    }

    private static Netlink.Builder fullService(Netlink.Builder b, Service s) {
        byte[] sched = s.scheduler().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        if (sched.length == 0 || sched.length >= SCHED_NAME_MAX) {
            throw new IllegalArgumentException("scheduler name '" + s.scheduler() + "' (expected: 1.."
                    + (SCHED_NAME_MAX - 1) + " characters)");
        }
        b.beginNested(CMD_ATTR_SERVICE);
        identity(b, s.key());
        b.attributeString(SVC_SCHED_NAME, s.scheduler());
        // ip_vs_flags {flags, mask}: a full mask makes SET_SERVICE replace every bit, as keepalived does.
        b.attribute(SVC_FLAGS, hostInts(flagBits(s), 0xffffffff));
        b.attributeU32(SVC_TIMEOUT, s.persistenceTimeout());
        b.attribute(SVC_NETMASK, netmask(s.key().family(), s.persistencePrefix()));
        return b.endNested();
    }

    private static void identity(Netlink.Builder b, ServiceKey key) {
        b.attribute(SVC_AF, hostU16(key.family() == AddressFamily.INET ? AF_INET : AF_INET6));
        if (key.isFwmark()) {
            b.attributeU32(SVC_FWMARK, key.fwmark());
        } else {
            b.attribute(SVC_PROTOCOL, hostU16(key.protocol().number()));
            b.attribute(SVC_ADDR, inetAddr(key.address()));
            b.attribute(SVC_PORT, networkU16(key.port()));
        }
    }

    private static Netlink.Builder fullDestination(Netlink.Builder b, ServiceKey key, Destination d) {
        b.beginNested(CMD_ATTR_SERVICE);
        identity(b, key);
        b.endNested().beginNested(CMD_ATTR_DEST);
        destinationIdentity(b, d.address(), d.port());
        b.attributeU32(DEST_FWD_METHOD, switch (d.method()) {
            case NAT -> FWD_MASQ;
            case TUN -> FWD_TUNNEL;
            case DR -> FWD_DROUTE;
        });
        b.attributeU32(DEST_WEIGHT, d.weight());
        b.attributeU32(DEST_U_THRESH, d.upperThreshold());
        b.attributeU32(DEST_L_THRESH, d.lowerThreshold());
        return b.endNested();
    }

    private static void destinationIdentity(Netlink.Builder b, InetAddress address, int port) {
        b.attribute(DEST_ADDR, inetAddr(address));
        b.attribute(DEST_PORT, networkU16(port));
        // Sent explicitly so an IPv4 real server behind an IPv6 service (TUN) is understood (Linux 4.x+).
        b.attribute(DEST_ADDR_FAMILY, hostU16(address instanceof java.net.Inet4Address ? AF_INET : AF_INET6));
    }

    private static Netlink.Builder ack(int family, int cmd) {
        return genl(family, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, cmd, VERSION);
    }

    private static Netlink.Builder genl(int type, int flags, int cmd, int version) {
        return new Netlink.Builder(type, flags).u8(cmd).u8(version).u16(0);
    }

    // ---- replies ------------------------------------------------------------------------------

    /**
     * One service from a {@code GET_SERVICE} dump reply, with its counters.
     *
     * @param service the service as the port models it
     * @param stats   its counters
     */
    public record ServiceEntry(Service service, ForwarderStats.Counters stats) {
    }

    /**
     * One destination from a {@code GET_DEST} dump reply, with its counters.
     *
     * @param destination the destination as the port models it
     * @param stats       its counters
     */
    public record DestinationEntry(Destination destination, ForwarderStats.Counters stats) {
    }

    /**
     * Parses one message of a {@code GET_SERVICE} dump.
     *
     * @throws IllegalArgumentException if the message is short, lacks an attribute a service must
     *                                  have, or holds a value the port cannot represent
     */
    public static ServiceEntry parseService(Netlink.Message message) {
        Netlink.Attributes s = serviceAttributes(message);
        ServiceKey key = serviceKey(s);
        if (key == null) {
            throw new IllegalArgumentException("IPVS service reply: fwmark "
                    + Integer.toUnsignedString(s.u32(SVC_FWMARK, 0)) + " (expected: 1.." + Integer.MAX_VALUE + ")");
        }
        AddressFamily af = key.family();
        String scheduler = s.string(SVC_SCHED_NAME);
        if (scheduler == null) {
            throw new IllegalArgumentException("IPVS service reply: no IPVS_SVC_ATTR_SCHED_NAME");
        }
        byte[] flags = required(s, SVC_FLAGS, 4, "IPVS_SVC_ATTR_FLAGS");
        int bits = ByteBuffer.wrap(flags).order(ByteOrder.nativeOrder()).getInt(0);
        int timeout = s.u32(SVC_TIMEOUT, 0);
        int prefix = prefix(af, required(s, SVC_NETMASK, 4, "IPVS_SVC_ATTR_NETMASK"));
        Service service = new Service(key, scheduler, timeout, prefix, flagNames(bits, scheduler));
        // IPVS keeps no connection gauges per service, only per destination.
        return new ServiceEntry(service, counters(s, SVC_STATS64, SVC_STATS, ForwarderStats.Counters.UNKNOWN,
                ForwarderStats.Counters.UNKNOWN));
    }

    /**
     * Only the identity of the service in one message of a {@code GET_SERVICE} dump: enough to tell
     * whose service it is. A service made by someone else may hold what the port cannot model (a
     * persistence netmask that is not a prefix, which ipvsadm and the kernel accept), so the rest is
     * parsed ({@link #parseService}) only for services Vigil owns.
     *
     * @return the key, or {@code null} for a well-formed identity the port cannot hold (a fwmark of
     *         2^31 or more: IPVS marks are u32, the port's are positive ints), which is never Vigil's
     * @throws IllegalArgumentException if the message lacks the identity or holds an unknown family or protocol
     */
    public static ServiceKey parseServiceKey(Netlink.Message message) {
        return serviceKey(serviceAttributes(message));
    }

    private static Netlink.Attributes serviceAttributes(Netlink.Message message) {
        Netlink.Attributes s = genlAttributes(message).nested(CMD_ATTR_SERVICE);
        if (s.all().isEmpty()) {
            throw new IllegalArgumentException("IPVS service reply: no IPVS_CMD_ATTR_SERVICE");
        }
        return s;
    }

    private static ServiceKey serviceKey(Netlink.Attributes s) {
        AddressFamily af = family(u16(required(s, SVC_AF, 2, "IPVS_SVC_ATTR_AF")), "IPVS_SVC_ATTR_AF");
        int fwmark = s.u32(SVC_FWMARK, 0);
        if (fwmark != 0) {
            return fwmark > 0 ? ServiceKey.fwmark(fwmark, af) : null;
        }
        int proto = u16(required(s, SVC_PROTOCOL, 2, "IPVS_SVC_ATTR_PROTOCOL"));
        Protocol protocol = Arrays.stream(Protocol.values()).filter(p -> p.number() == proto).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("IPVS service reply: protocol " + proto
                        + " (expected: 6, 17 or 132)"));
        InetAddress address = address(af, required(s, SVC_ADDR, af == AddressFamily.INET ? 4 : 16,
                "IPVS_SVC_ATTR_ADDR"));
        int port = networkU16(required(s, SVC_PORT, 2, "IPVS_SVC_ATTR_PORT"));
        return new ServiceKey(af, protocol, address, port, 0);
    }

    /**
     * Parses one message of a {@code GET_DEST} dump.
     *
     * @throws IllegalArgumentException as {@link #parseService}
     */
    public static DestinationEntry parseDestination(Netlink.Message message, AddressFamily serviceFamily) {
        Netlink.Attributes d = genlAttributes(message).nested(CMD_ATTR_DEST);
        if (d.all().isEmpty()) {
            throw new IllegalArgumentException("IPVS destination reply: no IPVS_CMD_ATTR_DEST");
        }
        byte[] afBytes = d.bytes(DEST_ADDR_FAMILY);
        AddressFamily af = afBytes == null ? serviceFamily : family(u16(afBytes), "IPVS_DEST_ATTR_ADDR_FAMILY");
        InetAddress address = address(af, required(d, DEST_ADDR, af == AddressFamily.INET ? 4 : 16,
                "IPVS_DEST_ATTR_ADDR"));
        int port = networkU16(required(d, DEST_PORT, 2, "IPVS_DEST_ATTR_PORT"));
        int fwd = u32(required(d, DEST_FWD_METHOD, 4, "IPVS_DEST_ATTR_FWD_METHOD")) & 7;
        ForwardingMethod method = switch (fwd) {
            case FWD_MASQ -> ForwardingMethod.NAT;
            case FWD_TUNNEL -> ForwardingMethod.TUN;
            case FWD_DROUTE -> ForwardingMethod.DR;
            default -> throw new IllegalArgumentException("IPVS destination reply: forwarding method " + fwd
                    + " (expected: 0 masq, 2 tunnel or 3 droute)");
        };
        int weight = u32(required(d, DEST_WEIGHT, 4, "IPVS_DEST_ATTR_WEIGHT"));
        Destination destination = new Destination(address, port, method, weight,
                d.u32(DEST_U_THRESH, 0), d.u32(DEST_L_THRESH, 0));
        return new DestinationEntry(destination, counters(d, DEST_STATS64, DEST_STATS,
                gauge(d, DEST_ACTIVE_CONNS, "IPVS_DEST_ATTR_ACTIVE_CONNS"),
                gauge(d, DEST_INACT_CONNS, "IPVS_DEST_ATTR_INACT_CONNS")));
    }

    /** The named flags for {@code bits}, ignoring PERSISTENT (implied by the timeout) and HASHED. */
    static Set<String> flagNames(int bits, String scheduler) {
        Set<String> names = new TreeSet<>();
        String prefix = scheduler.equals("mh") ? "mh-" : scheduler.equals("sh") ? "sh-" : null;
        if ((bits & F_ONEPACKET) != 0) {
            names.add("ops");
        }
        if ((bits & F_SCHED1) != 0) {
            names.add(prefix != null ? prefix + "fallback" : "flag-1");
        }
        if ((bits & F_SCHED2) != 0) {
            names.add(prefix != null ? prefix + "port" : "flag-2");
        }
        if ((bits & F_SCHED3) != 0) {
            names.add("flag-3");
        }
        return names;
    }

    /**
     * The counters of a service or destination: {@code IPVS_*_ATTR_STATS64} when present (every
     * counter a u64, Linux 4.1+), else {@code IPVS_*_ATTR_STATS}, where the connection and packet
     * counters are u32 and the byte counters u64 (net/netfilter/ipvs/ip_vs_ctl.c,
     * {@code ip_vs_genl_fill_stats}). Each value is read by its attribute's length, so either
     * layout decodes whole. A counter the reply lacks is 0.
     */
    private static ForwarderStats.Counters counters(Netlink.Attributes parent, int stats64, int stats32,
                                                    long active, long inactive) {
        Netlink.Attributes st = parent.nested(stats64);
        if (st.all().isEmpty()) {
            st = parent.nested(stats32);
        }
        return new ForwarderStats.Counters(counter(st, STATS_CONNS), counter(st, STATS_INPKTS),
                counter(st, STATS_OUTPKTS), counter(st, STATS_INBYTES), counter(st, STATS_OUTBYTES), active, inactive);
    }

    private static long counter(Netlink.Attributes st, int type) {
        byte[] v = st.bytes(type);
        if (v == null) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.nativeOrder());
        if (v.length >= 8) {
            long n = b.getLong(0);
            if (n < 0) {
                throw new IllegalArgumentException("IPVS stats attribute " + type + ": "
                        + Long.toUnsignedString(n) + " (expected: < 2^63)");
            }
            return n;
        }
        if (v.length >= 4) {
            return Integer.toUnsignedLong(b.getInt(0));
        }
        throw new IllegalArgumentException("IPVS stats attribute " + type + ": " + v.length
                + " bytes (expected: 4 or 8)");
    }

    /**
     * A destination's connection gauge ({@code IPVS_DEST_ATTR_ACTIVE_CONNS} or {@code _INACT_CONNS},
     * u32), or {@link ForwarderStats.Counters#UNKNOWN} when the reply lacks it.
     */
    private static long gauge(Netlink.Attributes d, int type, String name) {
        byte[] v = d.bytes(type);
        if (v == null) {
            return ForwarderStats.Counters.UNKNOWN;
        }
        if (v.length < 4) {
            throw new IllegalArgumentException("IPVS reply: " + name + " of " + v.length + " bytes (expected: >= 4)");
        }
        return Integer.toUnsignedLong(u32(v));
    }

    private static Netlink.Attributes genlAttributes(Netlink.Message m) {
        if (m.payload().length < 4) {
            throw new IllegalArgumentException("generic netlink message: " + m.payload().length
                    + " bytes (expected: >= 4)");
        }
        return m.attributes(4);
    }

    private static byte[] required(Netlink.Attributes a, int type, int minLength, String name) {
        byte[] v = a.bytes(type);
        if (v == null) {
            throw new IllegalArgumentException("IPVS reply: no " + name);
        }
        if (v.length < minLength) {
            throw new IllegalArgumentException("IPVS reply: " + name + " of " + v.length + " bytes (expected: >= "
                    + minLength + ")");
        }
        return v;
    }

    private static AddressFamily family(int af, String name) {
        return switch (af) {
            case AF_INET -> AddressFamily.INET;
            case AF_INET6 -> AddressFamily.INET6;
            default -> throw new IllegalArgumentException("IPVS reply: " + name + " " + af
                    + " (expected: 2 or 10)");
        };
    }

    private static InetAddress address(AddressFamily af, byte[] raw) {
        try {
            return InetAddress.getByAddress(Arrays.copyOf(raw, af == AddressFamily.INET ? 4 : 16));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static int prefix(AddressFamily af, byte[] netmask) {
        if (af == AddressFamily.INET6) {
            return u32(netmask);
        }
        // IPv4: a network-order mask; count its leading ones.
        int mask = ByteBuffer.wrap(netmask).order(ByteOrder.BIG_ENDIAN).getInt(0);
        int ones = Integer.numberOfLeadingZeros(~mask);
        if (mask != (ones == 0 ? 0 : -1 << (32 - ones))) {
            throw new IllegalArgumentException("IPVS reply: netmask 0x" + Integer.toHexString(mask)
                    + " is not contiguous");
        }
        return ones;
    }

    static byte[] netmask(AddressFamily af, int prefix) {
        if (af == AddressFamily.INET6) {
            return hostInts(prefix);
        }
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(mask).array();
    }

    static byte[] inetAddr(InetAddress address) {
        return Arrays.copyOf(address.getAddress(), 16);
    }

    static byte[] hostU16(int v) {
        return ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) v).array();
    }

    static byte[] networkU16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    static int networkU16(byte[] v) {
        return ((v[0] & 0xff) << 8) | (v[1] & 0xff);
    }

    static byte[] hostInts(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.nativeOrder());
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    private static int u16(byte[] v) {
        return Short.toUnsignedInt(ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getShort(0));
    }

    private static int u32(byte[] v) {
        if (v.length < 4) {
            throw new IllegalArgumentException("IPVS reply: u32 attribute of " + v.length + " bytes");
        }
        return ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getInt(0);
    }
}
