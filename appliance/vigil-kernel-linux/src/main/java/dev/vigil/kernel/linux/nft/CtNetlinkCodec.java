package dev.vigil.kernel.linux.nft;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.linux.Netlink;

/**
 * ctnetlink, the conntrack subsystem of netfilter netlink ({@code NFNL_SUBSYS_CTNETLINK}; message
 * types and attributes from include/uapi/linux/netfilter/nfnetlink_conntrack.h): the request that
 * dumps one family's conntrack table (all of it, or what a kernel-side filter selects), the decoding of the entries it returns, and the request that
 * deletes one entry. Bytes in, records out; the socket is {@link Conntrack}'s.
 *
 * <p>A message is the netlink header, the 4-byte {@code nfgenmsg} (family, version 0, resource id
 * 0) and the entry's attributes:
 * <pre>
 *   CTA_TUPLE_ORIG  (nested) CTA_TUPLE_IP    (nested) CTA_IP_V4_SRC/DST or CTA_IP_V6_SRC/DST
 *                            CTA_TUPLE_PROTO (nested) CTA_PROTO_NUM (u8), CTA_PROTO_SRC/DST_PORT (be16)
 *                            [CTA_TUPLE_ZONE (be16), a directional zone]
 *   CTA_TUPLE_REPLY (nested) the same, as the reply travels
 *   CTA_ID          (be32)   the entry's id
 *   [CTA_ZONE       (be16)]  the zone, when not the default one
 *   ... status, timeout, protocol state and counters, not read here
 * </pre>
 * The kernel deletes the entry an {@code IPCTNL_MSG_CT_DELETE} names by {@code CTA_TUPLE_ORIG} in
 * {@code CTA_ZONE}, and only if its id is {@code CTA_ID} when that is given
 * ({@code ctnetlink_del_conntrack} in net/netfilter/nf_conntrack_netlink.c), so an entry made anew
 * with the same tuple since the dump is left alone.
 */
final class CtNetlinkCodec {
    static final int NFNL_SUBSYS_CTNETLINK = 1;
    static final int IPCTNL_MSG_CT_NEW = 0;
    static final int IPCTNL_MSG_CT_GET = 1;
    static final int IPCTNL_MSG_CT_DELETE = 2;

    static final int CTA_TUPLE_ORIG = 1;
    static final int CTA_TUPLE_REPLY = 2;
    static final int CTA_STATUS = 3;
    static final int CTA_ID = 12;
    static final int CTA_ZONE = 18;
    static final int CTA_FILTER = 25;
    static final int CTA_STATUS_MASK = 26;

    /** {@code IPS_DST_NAT}: the entry's connection had its destination translated. */
    static final int IPS_DST_NAT = 1 << 5;

    static final int CTA_FILTER_ORIG_FLAGS = 1;
    static final int CTA_FILTER_REPLY_FLAGS = 2;

    /** {@code CTA_FILTER_FLAG(CTA_IP_SRC)} and the others: which fields of a filter tuple must match. */
    static final int FILTER_IP_SRC = 1;
    static final int FILTER_IP_DST = 1 << 1;
    static final int FILTER_PROTO_NUM = 1 << 3;
    static final int FILTER_PROTO_SRC_PORT = 1 << 4;
    static final int FILTER_PROTO_DST_PORT = 1 << 5;

    static final int CTA_TUPLE_IP = 1;
    static final int CTA_TUPLE_PROTO = 2;

    static final int CTA_IP_V4_SRC = 1;
    static final int CTA_IP_V4_DST = 2;
    static final int CTA_IP_V6_SRC = 3;
    static final int CTA_IP_V6_DST = 4;

    static final int CTA_PROTO_NUM = 1;
    static final int CTA_PROTO_SRC_PORT = 2;
    static final int CTA_PROTO_DST_PORT = 3;

    static final int NFPROTO_IPV4 = 2;
    static final int NFPROTO_IPV6 = 10;

    private CtNetlinkCodec() {
    }

    /**
     * One direction of a connection as conntrack keys it.
     *
     * @param protocol the IP protocol number
     * @param srcPort  the source port, 0 for a protocol without ports
     * @param dstPort  the destination port, 0 for a protocol without ports
     */
    record Tuple(InetAddress src, InetAddress dst, int protocol, int srcPort, int dstPort) {
    }

    /**
     * One conntrack entry of a dump.
     *
     * @param original    the tuple of the connection's first packet, as the client sent it
     * @param reply       the tuple its replies have: after DNAT, their source is the real server
     * @param id          the entry's id ({@code CTA_ID}), or {@code null} when the kernel sent none
     * @param originalRaw the value of {@code CTA_TUPLE_ORIG} as received, to name the entry exactly
     * @param zoneRaw     the value of {@code CTA_ZONE}, or {@code null} for the default zone
     */
    record Entry(Tuple original, Tuple reply, Integer id, byte[] originalRaw, byte[] zoneRaw) {
    }

    private static int family(AddressFamily f) {
        return f == AddressFamily.INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
    }

    /** {@code IPCTNL_MSG_CT_GET} with {@code NLM_F_DUMP}: every entry of family {@code f}. */
    static Netlink.Builder dump(AddressFamily f) {
        return new Netlink.Builder((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
                Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP)
                .u8(family(f)).u8(0).u16(0);
    }

    /**
     * {@code IPCTNL_MSG_CT_GET} with {@code NLM_F_DUMP} of the entries of family {@code f} that have
     * every bit of {@code status} set ({@code CTA_STATUS} with {@code CTA_STATUS_MASK}, both be32;
     * {@code ctnetlink_filter_match} since Linux 5.15). An older kernel ignores the filter and sends
     * every entry, so a caller still checks each.
     */
    static Netlink.Builder dumpWithStatus(AddressFamily f, int status) {
        byte[] bits = ByteBuffer.allocate(4).putInt(status).array();
        return dump(f).attribute(CTA_STATUS, bits).attribute(CTA_STATUS_MASK, bits);
    }

    /**
     * One side of a dump filter: the fields given must equal the entry's tuple in that direction;
     * {@code null} or 0 means any. A port needs a protocol ({@code ctnetlink_parse_tuple_filter}
     * refuses proto flags without {@code CTA_PROTO_NUM}).
     */
    record TupleFilter(InetAddress src, InetAddress dst, int protocol, int srcPort, int dstPort) {
        static final TupleFilter ANY = new TupleFilter(null, null, 0, 0, 0);

        TupleFilter {
            if (protocol == 0 && (srcPort != 0 || dstPort != 0)) {
                throw new IllegalArgumentException("a port filter needs a protocol");
            }
        }

        int flags() {
            return (src != null ? FILTER_IP_SRC : 0) | (dst != null ? FILTER_IP_DST : 0)
                    | (protocol != 0 ? FILTER_PROTO_NUM : 0) | (srcPort != 0 ? FILTER_PROTO_SRC_PORT : 0)
                    | (dstPort != 0 ? FILTER_PROTO_DST_PORT : 0);
        }
    }

    /**
     * {@code IPCTNL_MSG_CT_GET} with {@code NLM_F_DUMP} and a {@code CTA_FILTER}: the kernel walks the
     * table and sends only the entries of family {@code f} whose original and reply tuples match
     * {@code original} and {@code reply} ({@code ctnetlink_filter_match}, Linux 5.9 and later).
     * The tuples travel in {@code CTA_TUPLE_ORIG}/{@code CTA_TUPLE_REPLY} with the fields to compare
     * named by the flags in {@code CTA_FILTER_ORIG_FLAGS}/{@code CTA_FILTER_REPLY_FLAGS}. A kernel
     * without filtering ignores the attribute and sends every entry, so a caller still checks each.
     */
    static Netlink.Builder dump(AddressFamily f, TupleFilter original, TupleFilter reply) {
        Netlink.Builder b = dump(f);
        if (original.flags() == 0 && reply.flags() == 0) {
            return b;
        }
        if (original.flags() != 0) {
            tuple(b, CTA_TUPLE_ORIG, f, original);
        }
        if (reply.flags() != 0) {
            tuple(b, CTA_TUPLE_REPLY, f, reply);
        }
        return b.beginNested(CTA_FILTER)
                .attributeU32(CTA_FILTER_ORIG_FLAGS, original.flags())
                .attributeU32(CTA_FILTER_REPLY_FLAGS, reply.flags())
                .endNested();
    }

    private static void tuple(Netlink.Builder b, int type, AddressFamily f, TupleFilter t) {
        boolean v4 = f == AddressFamily.INET;
        b.beginNested(type);
        if (t.src() != null || t.dst() != null) {
            b.beginNested(CTA_TUPLE_IP);
            if (t.src() != null) {
                b.attribute(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.src().getAddress());
            }
            if (t.dst() != null) {
                b.attribute(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.dst().getAddress());
            }
            b.endNested();
        }
        if (t.protocol() != 0) {
            b.beginNested(CTA_TUPLE_PROTO).attribute(CTA_PROTO_NUM, new byte[] {(byte) t.protocol()});
            if (t.srcPort() != 0) {
                b.attribute(CTA_PROTO_SRC_PORT, be16(t.srcPort()));
            }
            if (t.dstPort() != 0) {
                b.attribute(CTA_PROTO_DST_PORT, be16(t.dstPort()));
            }
            b.endNested();
        }
        b.endNested();
    }

    private static byte[] be16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    /** {@code IPCTNL_MSG_CT_DELETE} of entry {@code e} of family {@code f}, by its original tuple, zone and id. */
    static Netlink.Builder delete(AddressFamily f, Entry e) {
        Netlink.Builder b = new Netlink.Builder((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
                Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
                .u8(family(f)).u8(0).u16(0)
                .attribute(CTA_TUPLE_ORIG | Netlink.NLA_F_NESTED, e.originalRaw());
        if (e.zoneRaw() != null) {
            b.attribute(CTA_ZONE, e.zoneRaw());
        }
        if (e.id() != null) {
            b.attribute(CTA_ID, ByteBuffer.allocate(4).putInt(e.id()).array());
        }
        return b;
    }

    /**
     * The entry one message of a {@link #dump} reply describes.
     *
     * @throws IllegalArgumentException if the message is malformed, saying where
     */
    static Entry entry(Netlink.Message m) {
        int type = m.type() & 0xff;
        if (m.type() >> 8 != NFNL_SUBSYS_CTNETLINK || (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_GET)) {
            throw new IllegalArgumentException("ctnetlink entry: message type 0x" + Integer.toHexString(m.type())
                    + " (expected: 0x" + Integer.toHexString(NFNL_SUBSYS_CTNETLINK << 8) + ")");
        }
        if (m.payload().length < 4) {
            throw new IllegalArgumentException("ctnetlink entry: " + m.payload().length
                    + " bytes of payload (expected: >= 4, nfgenmsg)");
        }
        Netlink.Attributes a = m.attributes(4);
        byte[] orig = a.bytes(CTA_TUPLE_ORIG);
        if (orig == null) {
            throw new IllegalArgumentException("ctnetlink entry: no CTA_TUPLE_ORIG");
        }
        if (!a.has(CTA_TUPLE_REPLY)) {
            throw new IllegalArgumentException("ctnetlink entry: no CTA_TUPLE_REPLY");
        }
        Integer id = null;
        byte[] idBytes = a.bytes(CTA_ID);
        if (idBytes != null) {
            if (idBytes.length != 4) {
                throw new IllegalArgumentException("ctnetlink entry: CTA_ID of " + idBytes.length + " bytes (expected: 4)");
            }
            id = ByteBuffer.wrap(idBytes).getInt();
        }
        return new Entry(tuple(a.nested(CTA_TUPLE_ORIG), "CTA_TUPLE_ORIG"),
                tuple(a.nested(CTA_TUPLE_REPLY), "CTA_TUPLE_REPLY"), id, orig, a.bytes(CTA_ZONE));
    }

    private static Tuple tuple(Netlink.Attributes t, String where) {
        Netlink.Attributes ip = t.nested(CTA_TUPLE_IP);
        Netlink.Attributes proto = t.nested(CTA_TUPLE_PROTO);
        boolean v4 = ip.has(CTA_IP_V4_SRC);
        InetAddress src = address(ip, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16, where);
        InetAddress dst = address(ip, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16, where);
        byte[] num = proto.bytes(CTA_PROTO_NUM);
        if (num == null || num.length != 1) {
            throw new IllegalArgumentException("ctnetlink entry: " + where + " CTA_PROTO_NUM "
                    + (num == null ? "missing" : "of " + num.length + " bytes") + " (expected: 1 byte)");
        }
        return new Tuple(src, dst, num[0] & 0xff, port(proto, CTA_PROTO_SRC_PORT, where),
                port(proto, CTA_PROTO_DST_PORT, where));
    }

    private static InetAddress address(Netlink.Attributes ip, int type, int length, String where) {
        byte[] v = ip.bytes(type);
        if (v == null || v.length != length) {
            throw new IllegalArgumentException("ctnetlink entry: " + where + " address attribute " + type + " "
                    + (v == null ? "missing" : "of " + v.length + " bytes") + " (expected: " + length + " bytes)");
        }
        try {
            return InetAddress.getByAddress(v);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("ctnetlink entry: " + where + ": " + e.getMessage());
        }
    }

    private static int port(Netlink.Attributes proto, int type, String where) {
        byte[] v = proto.bytes(type);
        if (v == null) {
            return 0;
        }
        if (v.length != 2) {
            throw new IllegalArgumentException("ctnetlink entry: " + where + " port attribute " + type + " of "
                    + v.length + " bytes (expected: 2)");
        }
        return ((v[0] & 0xff) << 8) | (v[1] & 0xff);
    }
}
