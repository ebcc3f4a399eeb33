package dev.vigil.kernel.linux.nft;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.linux.Netlink;

/**
 * Pure encoder of {@link NftOp}s as one nf_tables transaction: the nfnetlink batch of messages
 * {@code nft} itself would send for the script {@link NftScript} writes, so that {@code nft list}
 * shows the rules alike whichever made them. Constants are from {@code linux/netfilter/nf_tables.h}
 * and {@code linux/netfilter/nfnetlink.h}.
 *
 * <p>Every message is a netlink header, {@code struct nfgenmsg} ({@code u8 family}, {@code u8
 * version = NFNETLINK_V0}, {@code __be16 res_id}) and attributes; integers in attributes are big
 * endian. Userdata blobs (comments, and the typeof description nft keeps with a map so that it can
 * print its elements) are libnftnl's TLVs: {@code u8 type, u8 length, value}, host-order integers.
 */
final class NfTablesCodec {
    static final int NFNL_SUBSYS_NFTABLES = 10;
    static final int NFNL_MSG_BATCH_BEGIN = 0x10;
    static final int NFNL_MSG_BATCH_END = 0x11;

    static final int NFT_MSG_NEWTABLE = 0;
    static final int NFT_MSG_DELTABLE = 2;
    static final int NFT_MSG_NEWCHAIN = 3;
    static final int NFT_MSG_DELCHAIN = 5;
    static final int NFT_MSG_NEWRULE = 6;
    static final int NFT_MSG_DELRULE = 8;
    static final int NFT_MSG_NEWSET = 9;
    static final int NFT_MSG_DELSET = 11;
    static final int NFT_MSG_NEWSETELEM = 12;
    static final int NFT_MSG_GETSETELEM = 13;
    static final int NFT_MSG_DELSETELEM = 14;

    /** {@code NLM_F_APPEND}: a new rule goes to the end of its chain. */
    private static final int NLM_F_APPEND = 0x800;
    private static final int NFPROTO_IPV4 = 2;
    private static final int NFPROTO_IPV6 = 10;

    private static final int NFTA_LIST_ELEM = 1;
    private static final int NFTA_TABLE_NAME = 1;
    private static final int NFTA_TABLE_FLAGS = 2;
    private static final int NFTA_CHAIN_TABLE = 1;
    private static final int NFTA_CHAIN_NAME = 3;
    private static final int NFTA_CHAIN_HOOK = 4;
    private static final int NFTA_CHAIN_POLICY = 5;
    private static final int NFTA_CHAIN_TYPE = 7;
    private static final int NFTA_HOOK_HOOKNUM = 1;
    private static final int NFTA_HOOK_PRIORITY = 2;
    private static final int NFTA_RULE_TABLE = 1;
    private static final int NFTA_RULE_CHAIN = 2;
    private static final int NFTA_RULE_EXPRESSIONS = 4;
    private static final int NFTA_RULE_USERDATA = 7;
    private static final int NFTA_SET_TABLE = 1;
    private static final int NFTA_SET_NAME = 2;
    private static final int NFTA_SET_FLAGS = 3;
    private static final int NFTA_SET_KEY_TYPE = 4;
    private static final int NFTA_SET_KEY_LEN = 5;
    private static final int NFTA_SET_DATA_TYPE = 6;
    private static final int NFTA_SET_DATA_LEN = 7;
    private static final int NFTA_SET_ID = 10;
    private static final int NFTA_SET_USERDATA = 13;
    private static final int NFTA_SET_EXPR = 17;
    private static final int NFTA_SET_ELEM_KEY = 1;
    private static final int NFTA_SET_ELEM_DATA = 2;
    private static final int NFTA_SET_ELEM_FLAGS = 3;
    private static final int NFTA_SET_ELEM_USERDATA = 6;
    private static final int NFTA_SET_ELEM_EXPR = 7;
    private static final int NFTA_SET_ELEM_EXPRESSIONS = 11;
    private static final int NFTA_SET_ELEM_LIST_TABLE = 1;
    private static final int NFTA_SET_ELEM_LIST_SET = 2;
    private static final int NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private static final int NFTA_SET_ELEM_LIST_SET_ID = 4;
    private static final int NFTA_DATA_VALUE = 1;
    private static final int NFTA_DATA_VERDICT = 2;
    private static final int NFTA_VERDICT_CODE = 1;
    private static final int NFTA_VERDICT_CHAIN = 2;
    private static final int NFTA_EXPR_NAME = 1;
    private static final int NFTA_EXPR_DATA = 2;
    private static final int NFTA_COUNTER_BYTES = 1;
    private static final int NFTA_COUNTER_PACKETS = 2;
    private static final int NFTA_DUP_SREG_ADDR = 1;

    private static final int NFT_SET_INTERVAL = 0x4;
    private static final int NFT_SET_MAP = 0x8;
    private static final int NFT_SET_ELEM_INTERVAL_END = 0x1;
    private static final int NFT_DATA_VERDICT = 0xffffff00;
    private static final int NFT_JUMP = -3;
    private static final int NFT_CONTINUE = -1;
    private static final int NF_DROP = 0;
    private static final int NF_ACCEPT = 1;
    private static final int NF_INET_PRE_ROUTING = 0;
    private static final int NF_INET_LOCAL_OUT = 3;
    /** {@code NF_IP_PRI_NAT_DST}: where destination NAT runs. */
    private static final int PRIORITY_DSTNAT = -100;
    /**
     * Where DR runs: {@code NF_IP_PRI_MANGLE + 10}, after conntrack's defragmentation and lookup and
     * after the mangle chains that set firewall marks, before destination NAT and the filter.
     */
    static final int PRIORITY_DIRECT = -140;

    private static final int NFT_REG_VERDICT = 0;
    private static final int NFT_REG_1 = 1;
    private static final int NFT_REG_2 = 2;
    private static final int NFT_REG_3 = 3;
    /** {@code NFT_REG32_00} is 8; the 32-bit registers overlay the 16-byte ones. */
    private static final int NFT_REG32_00 = 8;
    private static final int NFT_PAYLOAD_NETWORK_HEADER = 1;
    private static final int NFT_PAYLOAD_TRANSPORT_HEADER = 2;
    private static final int NFT_META_MARK = 3;
    private static final int NFT_META_L4PROTO = 16;
    private static final int NFT_CMP_EQ = 0;
    private static final int NFT_NG_INCREMENTAL = 0;
    private static final int NFT_HASH_JENKINS = 0;
    private static final int NFT_BYTEORDER_HTON = 1;
    private static final int NFT_NAT_DNAT = 1;

    /** nft's datatype ids ({@code enum datatypes} in nftables' datatype.h), as set key and data types. */
    private static final int TYPE_INTEGER = 4;
    private static final int TYPE_IPADDR = 7;
    private static final int TYPE_IP6ADDR = 8;
    private static final int TYPE_INET_PROTOCOL = 12;
    private static final int TYPE_INET_SERVICE = 13;
    private static final int TYPE_MARK = 19;
    /** A concatenation's type: its members' ids, 6 bits each, the first in the highest bits. */
    private static final int TYPE_BITS = 6;

    /** libnftnl's set userdata TLV types ({@code enum nftnl_udata_set_types}). */
    private static final int UDATA_SET_KEYBYTEORDER = 0;
    private static final int UDATA_SET_DATABYTEORDER = 1;
    private static final int UDATA_SET_KEY_TYPEOF = 3;
    private static final int UDATA_SET_DATA_TYPEOF = 4;
    private static final int UDATA_SET_DATA_INTERVAL = 6;
    private static final int UDATA_TYPEOF_EXPR = 0;
    private static final int UDATA_TYPEOF_DATA = 1;
    private static final int UDATA_COMMENT = 0;
    /** nft's byte orders ({@code enum byteorder}): host, network. */
    private static final int BYTEORDER_HOST = 1;
    private static final int BYTEORDER_BIG = 2;
    /** nft's expression types ({@code enum expr_types}) in a typeof description. */
    private static final int EXPR_PAYLOAD = 7;
    private static final int EXPR_CONCAT = 13;
    private static final int EXPR_NUMGEN = 23;
    /** nft's protocol header descriptions ({@code enum proto_desc_id}) and their fields' indexes. */
    private static final int DESC_UDP = 6;
    private static final int DESC_TCP = 8;
    private static final int DESC_SCTP = 10;
    private static final int DESC_IP = 12;
    private static final int DESC_IP6 = 13;
    private static final int IP_DADDR = 12;
    private static final int IP6_DADDR = 9;
    private static final int TH_DPORT = 2;

    /** Elements per message: a message's element list is one attribute, whose length is 16 bits. */
    private static final int ELEMENTS_PER_MESSAGE = 256;

    static final String SERVICES = "services";
    static final String FWMARKS = "fwmarks";
    /** The DR dispatch maps and the base chain that looks them up. */
    static final String DIRECT_SERVICES = "dr_services";
    static final String DIRECT_FWMARKS = "dr_fwmarks";
    static final String DIRECT_CHAIN = "dr_prerouting";

    private final Map<String, Integer> setIds = new HashMap<>();
    private final Map<DispatchMap, List<ServicePlan>> pendingDispatch = new LinkedHashMap<>();
    private final NlWriter w = new NlWriter();
    private final List<String> what = new ArrayList<>();

    private NfTablesCodec() {
    }

    /**
     * One transaction's messages, written one after another.
     *
     * @param bytes     the messages, in {@code bytes[0, length)}; sequence numbers 0
     * @param length    how many bytes
     * @param starts    where each message starts: the first is the begin marker, the last the end marker
     * @param described a description of each message, for error reports
     */
    record Batch(byte[] bytes, int length, int[] starts, List<String> described) {
    }

    /** The batch for {@code ops}: begin marker, the messages, end marker. */
    static Batch batch(List<NftOp> ops) {
        NfTablesCodec c = new NfTablesCodec();
        c.marker(NFNL_MSG_BATCH_BEGIN, "batch begin");
        for (NftOp op : ops) {
            c.encode(op);
        }
        c.flushDispatch();
        c.marker(NFNL_MSG_BATCH_END, "batch end");
        int[] starts = new int[c.w.messages()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = c.w.start(i);
        }
        return new Batch(c.w.array(), c.w.length(), starts, List.copyOf(c.what));
    }

    private void marker(int type, String description) {
        // res_id names the subsystem the batch is for.
        w.begin(type, Netlink.NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES).end();
        what.add(description);
    }

    private NlWriter begin(int cmd, int flags, AddressFamily f) {
        return w.begin((NFNL_SUBSYS_NFTABLES << 8) | cmd, Netlink.NLM_F_REQUEST | flags,
                f == AddressFamily.INET ? NFPROTO_IPV4 : NFPROTO_IPV6, 0);
    }

    private void end(String description) {
        w.end();
        what.add(description);
    }

    private void encode(NftOp op) {
        switch (op) {
            case NftOp.AddTable t -> addTable(t.family(), t.table());
            case NftOp.AddDirectDispatch d -> addDirectDispatch(d.family(), d.table());
            case NftOp.RemoveDirectDispatch d -> {
                flush(d.family(), d.table(), DIRECT_CHAIN);
                begin(NFT_MSG_DELCHAIN, 0, d.family()).string(NFTA_CHAIN_TABLE, d.table())
                        .string(NFTA_CHAIN_NAME, DIRECT_CHAIN);
                end("delete chain " + d.table() + " " + DIRECT_CHAIN);
                for (String set : List.of(DIRECT_SERVICES, DIRECT_FWMARKS)) {
                    begin(NFT_MSG_DELSET, 0, d.family()).string(NFTA_SET_TABLE, d.table()).string(NFTA_SET_NAME, set);
                    end("delete map " + d.table() + " " + set);
                }
            }
            case NftOp.RemoveTable t -> {
                begin(NFT_MSG_DELTABLE, 0, t.family()).string(NFTA_TABLE_NAME, t.table());
                end("delete table " + t.table());
            }
            case NftOp.AddService a -> addService(a.plan());
            case NftOp.RemoveService r -> removeService(r);
            case NftOp.ReplaceRule r -> {
                ServicePlan p = r.plan();
                flush(p.family(), p.table(), p.name());
                addRule(p);
            }
            case NftOp.AddSlots a -> addSlots(a.plan(), a.slots());
            case NftOp.RemoveSlots r -> removeSlots(r.plan(), r.slots());
        }
    }

    // ---- tables -------------------------------------------------------------------------------

    private void addTable(AddressFamily f, String table) {
        begin(NFT_MSG_NEWTABLE, Netlink.NLM_F_CREATE, f).string(NFTA_TABLE_NAME, table).be32(NFTA_TABLE_FLAGS, 0);
        end("add table " + table);
        dispatchMaps(f, table, SERVICES, FWMARKS);
        for (String hook : List.of("prerouting", "output")) {
            baseChain(f, table, hook, "nat", hook.equals("prerouting") ? NF_INET_PRE_ROUTING : NF_INET_LOCAL_OUT,
                    PRIORITY_DSTNAT);
            dispatchRules(f, table, hook, SERVICES, FWMARKS);
        }
    }

    /**
     * The DR dispatch: its maps, and a filter chain on {@code prerouting} at {@link #PRIORITY_DIRECT}
     * that looks them up for every packet (a DR service's rule must see each one, where a NAT chain
     * sees only a connection's first).
     */
    private void addDirectDispatch(AddressFamily f, String table) {
        dispatchMaps(f, table, DIRECT_SERVICES, DIRECT_FWMARKS);
        baseChain(f, table, DIRECT_CHAIN, "filter", NF_INET_PRE_ROUTING, PRIORITY_DIRECT);
        dispatchRules(f, table, DIRECT_CHAIN, DIRECT_SERVICES, DIRECT_FWMARKS);
    }

    /** A pair of dispatch maps: address . protocol . port to verdict, and mark to verdict. */
    private void dispatchMaps(AddressFamily f, String table, String services, String fwmarks) {
        boolean v4 = f == AddressFamily.INET;
        int addr = v4 ? TYPE_IPADDR : TYPE_IP6ADDR;
        Udata byAddress = new Udata().u32(UDATA_SET_KEYBYTEORDER, 0).u32(UDATA_SET_DATABYTEORDER, 0)
                .begin(UDATA_SET_KEY_TYPEOF).u32(UDATA_TYPEOF_EXPR, EXPR_CONCAT).begin(UDATA_TYPEOF_DATA).end().end()
                .u32(UDATA_SET_DATA_INTERVAL, 0);
        addSet(f, table, services, NFT_SET_MAP, concatType(addr, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
                (v4 ? 4 : 16) + 8, NFT_DATA_VERDICT, 0, byAddress.bytes(), false);
        Udata byMark = new Udata().u32(UDATA_SET_KEYBYTEORDER, BYTEORDER_HOST).u32(UDATA_SET_DATABYTEORDER, 0)
                .u32(UDATA_SET_DATA_INTERVAL, 0);
        addSet(f, table, fwmarks, NFT_SET_MAP, TYPE_MARK, 4, NFT_DATA_VERDICT, 0, byMark.bytes(), false);
    }

    private void baseChain(AddressFamily f, String table, String chain, String type, int hook, int priority) {
        begin(NFT_MSG_NEWCHAIN, Netlink.NLM_F_CREATE, f).string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain)
                .string(NFTA_CHAIN_TYPE, type).be32(NFTA_CHAIN_POLICY, NF_ACCEPT)
                .nest(NFTA_CHAIN_HOOK).be32(NFTA_HOOK_HOOKNUM, hook).be32(NFTA_HOOK_PRIORITY, priority).endNest();
        end("add chain " + table + " " + chain);
    }

    /** A base chain's two rules: {@code <family> daddr . meta l4proto . th dport vmap @services}, {@code meta mark vmap @fwmarks}. */
    private void dispatchRules(AddressFamily f, String table, String chain, String services, String fwmarks) {
        boolean v4 = f == AddressFamily.INET;
        // A concatenation fills registers from NFT_REG_1 on, each member rounded up to 4 bytes.
        ruleStart(f, table, chain);
        payload(NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, v4 ? 4 : 16);
        meta(NFT_META_L4PROTO, v4 ? NFT_REG32_00 + 1 : NFT_REG_2);
        payload(v4 ? NFT_REG32_00 + 2 : NFT_REG32_00 + 5, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        lookup(f, table, services, NFT_REG_1, NFT_REG_VERDICT);
        w.endNest();
        end("add rule " + table + " " + chain + " (" + services + ")");
        ruleStart(f, table, chain);
        meta(NFT_META_MARK, NFT_REG_1);
        lookup(f, table, fwmarks, NFT_REG_1, NFT_REG_VERDICT);
        w.endNest();
        end("add rule " + table + " " + chain + " (" + fwmarks + ")");
    }

    // ---- services -----------------------------------------------------------------------------

    /** The userdata of a service's map, by family, protocol (none: fwmark). */
    private static final Map<String, byte[]> SERVICE_MAP_UDATA = new java.util.concurrent.ConcurrentHashMap<>();

    private static byte[] serviceMapUdata(AddressFamily f, Protocol protocol) {
        return SERVICE_MAP_UDATA.computeIfAbsent(f + "/" + protocol, k -> {
            boolean v4 = f == AddressFamily.INET;
            boolean port = protocol != null;
            Udata u = new Udata().u32(UDATA_SET_KEYBYTEORDER, BYTEORDER_HOST)
                    .u32(UDATA_SET_DATABYTEORDER, port ? 0 : BYTEORDER_BIG)
                    // typeof numgen inc mod 2: the key is a 32-bit integer (the modulus is only descriptive)
                    .begin(UDATA_SET_KEY_TYPEOF).u32(UDATA_TYPEOF_EXPR, EXPR_NUMGEN).begin(UDATA_TYPEOF_DATA)
                    .u32(0, NFT_NG_INCREMENTAL).u32(1, 2).u32(2, 0).end().end()
                    .begin(UDATA_SET_DATA_TYPEOF);
            if (port) {
                u.u32(UDATA_TYPEOF_EXPR, EXPR_CONCAT).begin(UDATA_TYPEOF_DATA);
                u.begin(0);
                payloadTypeof(u, v4 ? DESC_IP : DESC_IP6, v4 ? IP_DADDR : IP6_DADDR);
                u.end().begin(1);
                payloadTypeof(u, descOf(protocol), TH_DPORT);
                u.end().end();
            } else {
                payloadTypeof(u, v4 ? DESC_IP : DESC_IP6, v4 ? IP_DADDR : IP6_DADDR);
            }
            return u.end().u32(UDATA_SET_DATA_INTERVAL, 0).bytes();
        });
    }

    private void addService(ServicePlan p) {
        begin(NFT_MSG_NEWCHAIN, Netlink.NLM_F_CREATE, p.family()).string(NFTA_CHAIN_TABLE, p.table())
                .string(NFTA_CHAIN_NAME, p.name());
        end("add chain " + p.table() + " " + p.name());
        boolean v4 = p.family() == AddressFamily.INET;
        boolean port = p.mapsPort();
        int addr = v4 ? TYPE_IPADDR : TYPE_IP6ADDR;
        int addrLen = v4 ? 4 : 16;
        addSet(p.family(), p.table(), p.name(), NFT_SET_MAP | NFT_SET_INTERVAL, TYPE_INTEGER, 4,
                port ? (addr << TYPE_BITS) | TYPE_INET_SERVICE : addr, port ? addrLen + 4 : addrLen,
                serviceMapUdata(p.family(), port ? p.protocol() : null), true);
        addSlots(p, p.slots());
        addRule(p);
        // The dispatch element goes last, with those of the other new services of its table.
        pendingDispatch.computeIfAbsent(new DispatchMap(p.family(), p.table(), dispatchMapOf(p.key(), p.dr())),
                x -> new ArrayList<>()).add(p);
    }

    /** A table's dispatch map: {@link #SERVICES}, {@link #FWMARKS} or their DR twins. */
    private record DispatchMap(AddressFamily family, String table, String set) {
    }

    /** The dispatch map of service {@code key}, NAT or DR ({@code direct}). */
    static String dispatchMapOf(ServiceKey key, boolean direct) {
        if (direct) {
            return key.isFwmark() ? DIRECT_FWMARKS : DIRECT_SERVICES;
        }
        return key.isFwmark() ? FWMARKS : SERVICES;
    }

    private void flushDispatch() {
        pendingDispatch.forEach((map, plans) -> {
            for (int from = 0; from < plans.size(); from += ELEMENTS_PER_MESSAGE) {
                List<ServicePlan> part = plans.subList(from, Math.min(plans.size(), from + ELEMENTS_PER_MESSAGE));
                elementsStart(NFT_MSG_NEWSETELEM, Netlink.NLM_F_CREATE, map.family(), map.table(), map.set());
                for (ServicePlan p : part) {
                    w.nest(NFTA_LIST_ELEM);
                    key(NFTA_SET_ELEM_KEY, dispatchKey(p.key()));
                    w.nest(NFTA_SET_ELEM_DATA).nest(NFTA_DATA_VERDICT).be32(NFTA_VERDICT_CODE, NFT_JUMP)
                            .string(NFTA_VERDICT_CHAIN, p.name()).endNest().endNest();
                    w.endNest();
                }
                w.endNest();
                end("add element " + map.table() + " " + map.set() + " (jumps to "
                        + (part.size() == 1 ? part.get(0).name() : part.size() + " service chains") + ")");
            }
        });
        pendingDispatch.clear();
    }

    /** A service's key in its table's dispatch map. */
    private static byte[] dispatchKey(ServiceKey key) {
        return key.isFwmark()
                ? ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(key.fwmark()).array()
                : serviceKeyBytes(key);
    }

    private void removeService(NftOp.RemoveService r) {
        String name = ServicePlan.nameOf(r.key());
        for (boolean direct : new boolean[] {false, true}) {
            if (direct ? r.directDispatch() : r.dispatch()) {
                String set = dispatchMapOf(r.key(), direct);
                elementsStart(NFT_MSG_DELSETELEM, 0, r.family(), r.table(), set);
                w.nest(NFTA_LIST_ELEM);
                key(NFTA_SET_ELEM_KEY, dispatchKey(r.key()));
                w.endNest().endNest();
                end("delete element " + r.table() + " " + set + " (jump to " + name + ")");
            }
        }
        if (r.chain()) {
            // Deleting a chain deletes its rules; its map is free once the rule that looks it up is gone.
            flush(r.family(), r.table(), name);
            begin(NFT_MSG_DELCHAIN, 0, r.family()).string(NFTA_CHAIN_TABLE, r.table()).string(NFTA_CHAIN_NAME, name);
            end("delete chain " + r.table() + " " + name);
        }
        if (r.map()) {
            begin(NFT_MSG_DELSET, 0, r.family()).string(NFTA_SET_TABLE, r.table()).string(NFTA_SET_NAME, name);
            end("delete map " + r.table() + " " + name);
        }
    }

    private void flush(AddressFamily f, String table, String chain) {
        begin(NFT_MSG_DELRULE, 0, f).string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
        end("flush chain " + table + " " + chain);
    }

    /**
     * The service's rule. A slot is drawn by {@code numgen inc mod N} (rr, wrr) or {@code jhash
     * <family> saddr [. th sport] mod N seed 0x0} (sh, with the source port under {@code sh-port}),
     * turned to network order (the map holds intervals, which the kernel compares as big-endian
     * bytes) and looked up in the service's map. NAT: after {@code meta l4proto P} (for an address
     * service), DNAT to the address (and port) the lookup yields. DR: {@code dup to} the address
     * (nf_dup routes the copy with it as the next hop, so the frame goes to that real server's MAC
     * with the IP header unchanged), then {@code drop} the original, which this host would deliver
     * to itself since it holds the virtual address. No destination takes traffic: {@code continue},
     * a rule that only holds the comment.
     */
    private void addRule(ServicePlan p) {
        boolean v4 = p.family() == AddressFamily.INET;
        ruleStart(p.family(), p.table(), p.name());
        if (p.modulus() == 0) {
            immediate(NFT_CONTINUE);
        } else {
            if (p.mapsPort()) {
                meta(NFT_META_L4PROTO, NFT_REG_1);
                expr("cmp");
                w.be32(1, NFT_REG_1).be32(2, NFT_CMP_EQ).nest(3).header(NFTA_DATA_VALUE, 1)
                        .raw(p.protocol().number()).pad().endNest();
                endExpr();
            }
            if (p.scheduler().equals("sh")) {
                // The hashed fields go to NFT_REG_2 on; the port follows the address, padded to 4 bytes.
                int addrLen = v4 ? 4 : 16;
                payload(NFT_REG_2, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 12 : 8, addrLen);
                if (p.hashPort()) {
                    payload(v4 ? NFT_REG32_00 + 5 : NFT_REG_3, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
                }
                expr("hash");
                w.be32(1, NFT_REG_2).be32(2, NFT_REG_1).be32(3, addrLen + (p.hashPort() ? 4 : 0)).be32(4, p.modulus())
                        .be32(5, 0).be32(6, 0).be32(7, NFT_HASH_JENKINS);
                endExpr();
            } else {
                expr("numgen");
                w.be32(1, NFT_REG_1).be32(2, p.modulus()).be32(3, NFT_NG_INCREMENTAL).be32(4, 0);
                endExpr();
            }
            expr("byteorder");
            w.be32(1, NFT_REG_1).be32(2, NFT_REG_1).be32(3, NFT_BYTEORDER_HTON).be32(4, 4).be32(5, 4);
            endExpr();
            lookup(p.family(), p.table(), p.name(), NFT_REG_1, NFT_REG_1);
            if (p.dr()) {
                expr("dup");
                w.be32(NFTA_DUP_SREG_ADDR, NFT_REG_1);
                endExpr();
                immediate(NF_DROP);
            } else {
                expr("nat");
                w.be32(1, NFT_NAT_DNAT).be32(2, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6).be32(3, NFT_REG_1);
                if (!p.fwmark()) {
                    // The port follows the address in the registers: after 4 bytes (IPv4) or 16 (IPv6).
                    w.be32(5, v4 ? NFT_REG32_00 + 1 : NFT_REG_2);
                }
                endExpr();
            }
        }
        w.endNest();
        comment(NFTA_RULE_USERDATA, p.comment());
        end("add rule " + p.table() + " " + p.name());
    }

    /** A verdict: {@code immediate} into the verdict register. */
    private void immediate(int verdict) {
        expr("immediate");
        w.be32(1, NFT_REG_VERDICT).nest(2).nest(NFTA_DATA_VERDICT).be32(NFTA_VERDICT_CODE, verdict).endNest().endNest();
        endExpr();
    }

    private void addSlots(ServicePlan p, List<ServicePlan.Slot> slots) {
        for (int from = 0; from < slots.size(); from += ELEMENTS_PER_MESSAGE / 2) {
            List<ServicePlan.Slot> part = slots.subList(from, Math.min(slots.size(), from + ELEMENTS_PER_MESSAGE / 2));
            elementsStart(NFT_MSG_NEWSETELEM, Netlink.NLM_F_CREATE, p.family(), p.table(), p.name());
            for (ServicePlan.Slot s : part) {
                // An interval is its first key and, flagged as the end, the key after its last.
                w.nest(NFTA_LIST_ELEM);
                slotKey(NFTA_SET_ELEM_KEY, s.from());
                slotData(p, s);
                comment(NFTA_SET_ELEM_USERDATA, s.comment());
                if (s.packets() != 0 || s.bytes() != 0) {
                    w.nest(NFTA_SET_ELEM_EXPR).string(NFTA_EXPR_NAME, "counter").nest(NFTA_EXPR_DATA)
                            .be64(NFTA_COUNTER_BYTES, s.bytes()).be64(NFTA_COUNTER_PACKETS, s.packets())
                            .endNest().endNest();
                }
                w.endNest();
                intervalEnd(s);
            }
            w.endNest();
            end("add element " + p.table() + " " + p.name() + " " + slotsText(part));
        }
    }

    private void removeSlots(ServicePlan p, List<ServicePlan.Slot> slots) {
        for (int from = 0; from < slots.size(); from += ELEMENTS_PER_MESSAGE / 2) {
            List<ServicePlan.Slot> part = slots.subList(from, Math.min(slots.size(), from + ELEMENTS_PER_MESSAGE / 2));
            elementsStart(NFT_MSG_DELSETELEM, 0, p.family(), p.table(), p.name());
            for (ServicePlan.Slot s : part) {
                w.nest(NFTA_LIST_ELEM);
                slotKey(NFTA_SET_ELEM_KEY, s.from());
                w.endNest();
                intervalEnd(s);
            }
            w.endNest();
            end("delete element " + p.table() + " " + p.name() + " " + slotsText(part));
        }
    }

    private void intervalEnd(ServicePlan.Slot s) {
        w.nest(NFTA_LIST_ELEM).be32(NFTA_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
        slotKey(NFTA_SET_ELEM_KEY, s.to() + 1);
        w.endNest();
    }

    private static String slotsText(List<ServicePlan.Slot> slots) {
        StringBuilder t = new StringBuilder("{ ");
        for (ServicePlan.Slot s : slots) {
            t.append(t.length() > 2 ? ", " : "").append(s.from() == s.to() ? s.from() + "" : s.from() + "-" + s.to());
        }
        return t.append(" }").toString();
    }

    /** A slot number as a map key: a big-endian 32-bit value. */
    private void slotKey(int type, int slot) {
        w.nest(type).be32(NFTA_DATA_VALUE, slot).endNest();
    }

    /** An element's data: the address, then for NAT to an address service the port, padded to 4 bytes. */
    private void slotData(ServicePlan p, ServicePlan.Slot s) {
        byte[] a = s.address().getAddress();
        w.nest(NFTA_SET_ELEM_DATA);
        if (!p.mapsPort()) {
            w.bytes(NFTA_DATA_VALUE, a);
        } else {
            w.header(NFTA_DATA_VALUE, a.length + 4);
            for (byte x : a) {
                w.raw(x);
            }
            w.raw(s.port() >>> 8).raw(s.port()).raw(0).raw(0);
        }
        w.endNest();
    }

    /** The dispatch map's key of an address service: address, protocol and port, each padded to 4 bytes. */
    static byte[] serviceKeyBytes(ServiceKey key) {
        byte[] a = key.address().getAddress();
        byte[] k = new byte[a.length + 8];
        System.arraycopy(a, 0, k, 0, a.length);
        k[a.length] = (byte) key.protocol().number();
        k[a.length + 4] = (byte) (key.port() >>> 8);
        k[a.length + 5] = (byte) key.port();
        return k;
    }

    // ---- reading a map's counters -------------------------------------------------------------

    /** {@code NFT_MSG_GETSETELEM} as a dump of the elements of map {@code set}. */
    static Netlink.Builder dumpElements(AddressFamily f, String table, String set) {
        return new Netlink.Builder((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
                Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP)
                .u8(f == AddressFamily.INET ? NFPROTO_IPV4 : NFPROTO_IPV6).u8(0).u8(0).u8(0)
                .attributeString(NFTA_SET_ELEM_LIST_TABLE, table).attributeString(NFTA_SET_ELEM_LIST_SET, set);
    }

    /**
     * An element's comment and counter.
     *
     * @param comment the comment ({@code null} for an element without one, such as an interval's end)
     * @param packets the counter's packets (0 without a counter)
     * @param bytes   the counter's bytes
     */
    record CountedElement(String comment, long packets, long bytes) {
    }

    /**
     * The elements of one message of a {@link #dumpElements} reply. An element's counter comes as
     * {@code NFTA_SET_ELEM_EXPR} or, among several expressions, in {@code NFTA_SET_ELEM_EXPRESSIONS}.
     *
     * @throws IllegalArgumentException if the message is malformed
     */
    static List<CountedElement> countedElements(Netlink.Message m) {
        if (m.payload().length < 4) {
            throw new IllegalArgumentException("nf_tables element reply: " + m.payload().length + " bytes");
        }
        List<CountedElement> out = new ArrayList<>();
        for (Netlink.Attribute e : m.attributes(4).nested(NFTA_SET_ELEM_LIST_ELEMENTS).all()) {
            Netlink.Attributes a = Netlink.Attributes.parse(e.value(), 0, e.value().length);
            String comment = null;
            byte[] udata = a.bytes(NFTA_SET_ELEM_USERDATA);
            for (int at = 0; udata != null && at + 2 <= udata.length; at += 2 + (udata[at + 1] & 0xff)) {
                int len = udata[at + 1] & 0xff;
                if (udata[at] == UDATA_COMMENT && len > 0 && at + 2 + len <= udata.length) {
                    comment = new String(udata, at + 2, len - 1, StandardCharsets.UTF_8);
                }
            }
            long[] counter = {0, 0};
            counter(a.nested(NFTA_SET_ELEM_EXPR), counter);
            for (Netlink.Attribute x : a.nested(NFTA_SET_ELEM_EXPRESSIONS).all()) {
                counter(Netlink.Attributes.parse(x.value(), 0, x.value().length), counter);
            }
            out.add(new CountedElement(comment, counter[0], counter[1]));
        }
        return out;
    }

    private static void counter(Netlink.Attributes expr, long[] into) {
        if (!"counter".equals(expr.string(NFTA_EXPR_NAME))) {
            return;
        }
        Netlink.Attributes data = expr.nested(NFTA_EXPR_DATA);
        byte[] packets = data.bytes(NFTA_COUNTER_PACKETS);
        byte[] bytes = data.bytes(NFTA_COUNTER_BYTES);
        into[0] += packets != null && packets.length == 8 ? ByteBuffer.wrap(packets).getLong() : 0;
        into[1] += bytes != null && bytes.length == 8 ? ByteBuffer.wrap(bytes).getLong() : 0;
    }

    // ---- building blocks ----------------------------------------------------------------------

    private void addSet(AddressFamily f, String table, String name, int flags, int keyType, int keyLen, int dataType,
                        int dataLen, byte[] udata, boolean counter) {
        int id = setIds.size() + 1;
        setIds.put(setId(f, table, name), id);
        begin(NFT_MSG_NEWSET, Netlink.NLM_F_CREATE, f).string(NFTA_SET_TABLE, table).string(NFTA_SET_NAME, name)
                .be32(NFTA_SET_FLAGS, flags).be32(NFTA_SET_KEY_TYPE, keyType).be32(NFTA_SET_KEY_LEN, keyLen)
                .be32(NFTA_SET_DATA_TYPE, dataType).be32(NFTA_SET_DATA_LEN, dataLen).be32(NFTA_SET_ID, id)
                .bytes(NFTA_SET_USERDATA, udata);
        if (counter) {
            // Every element gets a counter: hits per destination, which is connections in a NAT chain.
            w.nest(NFTA_SET_EXPR).string(NFTA_EXPR_NAME, "counter").nest(NFTA_EXPR_DATA).endNest().endNest();
        }
        end("add map " + table + " " + name);
    }

    private static String setId(AddressFamily f, String table, String name) {
        return f + "/" + table + "/" + name;
    }

    private void elementsStart(int cmd, int flags, AddressFamily f, String table, String set) {
        begin(cmd, flags, f).string(NFTA_SET_ELEM_LIST_TABLE, table).string(NFTA_SET_ELEM_LIST_SET, set);
        Integer id = setIds.get(setId(f, table, set));
        if (id != null) {
            w.be32(NFTA_SET_ELEM_LIST_SET_ID, id);
        }
        w.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
    }

    private void ruleStart(AddressFamily f, String table, String chain) {
        begin(NFT_MSG_NEWRULE, Netlink.NLM_F_CREATE | NLM_F_APPEND, f).string(NFTA_RULE_TABLE, table)
                .string(NFTA_RULE_CHAIN, chain).nest(NFTA_RULE_EXPRESSIONS);
    }

    private void expr(String name) {
        w.nest(NFTA_LIST_ELEM).string(NFTA_EXPR_NAME, name).nest(NFTA_EXPR_DATA);
    }

    private void endExpr() {
        w.endNest().endNest();
    }

    private void payload(int dreg, int base, int offset, int len) {
        expr("payload");
        w.be32(1, dreg).be32(2, base).be32(3, offset).be32(4, len);
        endExpr();
    }

    private void meta(int key, int dreg) {
        expr("meta");
        w.be32(2, key).be32(1, dreg);
        endExpr();
    }

    private void lookup(AddressFamily f, String table, String set, int sreg, int dreg) {
        expr("lookup");
        w.be32(2, sreg).be32(3, dreg).string(1, set);
        Integer id = setIds.get(setId(f, table, set));
        if (id != null) {
            w.be32(4, id);
        }
        endExpr();
    }

    private void key(int type, byte[] value) {
        w.nest(type).bytes(NFTA_DATA_VALUE, value).endNest();
    }

    /** A comment as libnftnl userdata: one TLV of type 0 holding the NUL-terminated text. */
    private void comment(int type, String text) {
        int len = text.length();
        if (len + 1 > 128) {
            throw new IllegalArgumentException("comment longer than 127 bytes: " + text);
        }
        w.header(type, len + 3).raw(UDATA_COMMENT).raw(len + 1);
        for (int i = 0; i < len; i++) {
            w.raw(text.charAt(i));
        }
        w.raw(0).pad();
    }

    private static void payloadTypeof(Udata u, int desc, int field) {
        u.u32(UDATA_TYPEOF_EXPR, EXPR_PAYLOAD).begin(UDATA_TYPEOF_DATA).u32(0, desc).u32(1, field).end();
    }

    private static int descOf(Protocol p) {
        return switch (p) {
            case TCP -> DESC_TCP;
            case UDP -> DESC_UDP;
            case SCTP -> DESC_SCTP;
        };
    }

    private static int concatType(int... types) {
        int t = 0;
        for (int member : types) {
            t = (t << TYPE_BITS) | member;
        }
        return t;
    }

    /** libnftnl userdata: TLVs of {@code u8 type, u8 length}, nests holding TLVs, host-order integers. */
    private static final class Udata {
        private byte[] b = new byte[64];
        private int n;
        private final ArrayDeque<Integer> open = new ArrayDeque<>();

        private void put(int v) {
            if (n == b.length) {
                b = Arrays.copyOf(b, n * 2);
            }
            b[n++] = (byte) v;
        }

        Udata u32(int type, int value) {
            put(type);
            put(4);
            for (byte x : ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array()) {
                put(x);
            }
            return this;
        }

        Udata begin(int type) {
            put(type);
            open.push(n);
            put(0);
            return this;
        }

        Udata end() {
            int at = open.pop();
            b[at] = (byte) (n - at - 1);
            return this;
        }

        byte[] bytes() {
            if (!open.isEmpty()) {
                throw new IllegalStateException("unclosed userdata nest");
            }
            return Arrays.copyOf(b, n);
        }
    }
}
