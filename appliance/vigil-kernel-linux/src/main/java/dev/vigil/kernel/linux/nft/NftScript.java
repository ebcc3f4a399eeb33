package dev.vigil.kernel.linux.nft;

import java.util.List;
import java.util.Locale;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.ServiceKey;

/**
 * Writes {@link NftOp}s as an {@code nft -f} script (nft(8) syntax) that makes the same rules as
 * the netlink transaction {@link NfTablesCodec} builds from them. It documents the layout in nft's
 * own terms, and lets {@code nft} make a state for comparison (bench/forwarder-apply, specs).
 */
public final class NftScript {
    private NftScript() {
    }

    /**
     * The script that makes {@code state} in a namespace without Vigil's tables, as
     * {@link NftablesForwarder#apply} does from there.
     */
    public static String of(DesiredState state) {
        return render(NftablesForwarder.fromEmpty(state));
    }

    static String render(List<NftOp> ops) {
        StringBuilder b = new StringBuilder();
        for (NftOp op : ops) {
            switch (op) {
                case NftOp.AddTable t -> table(b, t.family(), t.table());
                case NftOp.AddDirectDispatch d -> {
                    String at = family(d.family()) + " " + d.table();
                    dispatchMaps(b, d.family(), at, NfTablesCodec.DIRECT_SERVICES, NfTablesCodec.DIRECT_FWMARKS);
                    b.append("add chain ").append(at).append(' ').append(NfTablesCodec.DIRECT_CHAIN)
                            .append(" { type filter hook prerouting priority ").append(NfTablesCodec.PRIORITY_DIRECT)
                            .append("; policy accept; }\n");
                    dispatchRules(b, d.family(), at, NfTablesCodec.DIRECT_CHAIN, NfTablesCodec.DIRECT_SERVICES,
                            NfTablesCodec.DIRECT_FWMARKS);
                }
                case NftOp.RemoveDirectDispatch d -> {
                    String at = family(d.family()) + " " + d.table();
                    b.append("flush chain ").append(at).append(' ').append(NfTablesCodec.DIRECT_CHAIN).append('\n');
                    b.append("delete chain ").append(at).append(' ').append(NfTablesCodec.DIRECT_CHAIN).append('\n');
                    b.append("delete map ").append(at).append(' ').append(NfTablesCodec.DIRECT_SERVICES).append('\n');
                    b.append("delete map ").append(at).append(' ').append(NfTablesCodec.DIRECT_FWMARKS).append('\n');
                }
                case NftOp.RemoveTable t -> b.append("delete table ").append(family(t.family())).append(' ')
                        .append(t.table()).append('\n');
                case NftOp.AddService a -> service(b, a.plan());
                case NftOp.RemoveService r -> {
                    String at = family(r.family()) + " " + r.table();
                    String name = ServicePlan.nameOf(r.key());
                    for (boolean direct : new boolean[] {false, true}) {
                        if (direct ? r.directDispatch() : r.dispatch()) {
                            b.append("delete element ").append(at).append(' ')
                                    .append(NfTablesCodec.dispatchMapOf(r.key(), direct)).append(" { ")
                                    .append(r.key().isFwmark() ? String.valueOf(r.key().fwmark()) : dispatchKey(r.key()))
                                    .append(" }\n");
                        }
                    }
                    if (r.chain()) {
                        b.append("flush chain ").append(at).append(' ').append(name).append('\n');
                        b.append("delete chain ").append(at).append(' ').append(name).append('\n');
                    }
                    if (r.map()) {
                        b.append("delete map ").append(at).append(' ').append(name).append('\n');
                    }
                }
                case NftOp.ReplaceRule r -> {
                    b.append("flush chain ").append(family(r.plan().family())).append(' ').append(r.plan().table())
                            .append(' ').append(r.plan().name()).append('\n');
                    rule(b, r.plan());
                }
                case NftOp.AddSlots a -> elements(b, "add", a.plan(), a.slots());
                case NftOp.RemoveSlots r -> elements(b, "delete", r.plan(), r.slots());
            }
        }
        return b.toString();
    }

    private static void table(StringBuilder b, AddressFamily f, String table) {
        String at = family(f) + " " + table;
        b.append("add table ").append(at).append('\n');
        dispatchMaps(b, f, at, NfTablesCodec.SERVICES, NfTablesCodec.FWMARKS);
        for (String hook : List.of("prerouting", "output")) {
            b.append("add chain ").append(at).append(' ').append(hook).append(" { type nat hook ").append(hook)
                    .append(" priority -100; policy accept; }\n");
            dispatchRules(b, f, at, hook, NfTablesCodec.SERVICES, NfTablesCodec.FWMARKS);
        }
    }

    private static void dispatchMaps(StringBuilder b, AddressFamily f, String at, String services, String fwmarks) {
        String addr = f == AddressFamily.INET ? "ipv4_addr" : "ipv6_addr";
        b.append("add map ").append(at).append(' ').append(services).append(" { type ").append(addr)
                .append(" . inet_proto . inet_service : verdict; }\n");
        b.append("add map ").append(at).append(' ').append(fwmarks).append(" { type mark : verdict; }\n");
    }

    private static void dispatchRules(StringBuilder b, AddressFamily f, String at, String chain, String services,
                                      String fwmarks) {
        b.append("add rule ").append(at).append(' ').append(chain).append(' ').append(family(f))
                .append(" daddr . meta l4proto . th dport vmap @").append(services).append('\n');
        b.append("add rule ").append(at).append(' ').append(chain).append(" meta mark vmap @").append(fwmarks).append('\n');
    }

    private static void service(StringBuilder b, ServicePlan p) {
        String at = family(p.family()) + " " + p.table();
        b.append("add chain ").append(at).append(' ').append(p.name()).append('\n');
        b.append("add map ").append(at).append(' ').append(p.name()).append(" { typeof numgen inc mod 2 : ")
                .append(family(p.family())).append(" daddr");
        if (p.mapsPort()) {
            b.append(" . ").append(proto(p)).append(" dport");
        }
        b.append("; flags interval; counter; }\n");
        elements(b, "add", p, p.slots());
        rule(b, p);
        b.append("add element ").append(at).append(' ').append(NfTablesCodec.dispatchMapOf(p.key(), p.dr()))
                .append(" { ").append(p.fwmark() ? String.valueOf(p.key().fwmark()) : dispatchKey(p.key()))
                .append(" : jump ").append(p.name()).append(" }\n");
    }

    private static void rule(StringBuilder b, ServicePlan p) {
        b.append("add rule ").append(family(p.family())).append(' ').append(p.table()).append(' ').append(p.name());
        if (p.modulus() == 0) {
            b.append(" continue");
        } else {
            if (p.mapsPort()) {
                b.append(" meta l4proto ").append(proto(p));
            }
            b.append(p.dr() ? " dup to " : " dnat " + family(p.family()) + " to ");
            if (p.scheduler().equals("sh")) {
                b.append("jhash ").append(family(p.family())).append(" saddr").append(p.hashPort() ? " . th sport" : "")
                        .append(" mod ").append(p.modulus()).append(" seed 0x0");
            } else {
                b.append("numgen inc mod ").append(p.modulus());
            }
            b.append(" map @").append(p.name());
            if (p.dr()) {
                b.append(" drop");
            }
        }
        b.append(" comment \"").append(p.comment()).append("\"\n");
    }

    private static void elements(StringBuilder b, String verb, ServicePlan p, List<ServicePlan.Slot> slots) {
        if (slots.isEmpty()) {
            return;
        }
        b.append(verb).append(" element ").append(family(p.family())).append(' ').append(p.table()).append(' ')
                .append(p.name()).append(" { ");
        boolean first = true;
        for (ServicePlan.Slot s : slots) {
            b.append(first ? "" : ", ");
            first = false;
            b.append(s.from() == s.to() ? String.valueOf(s.from()) : s.from() + "-" + s.to());
            if (verb.equals("delete")) {
                continue;
            }
            if (s.packets() != 0 || s.bytes() != 0) {
                b.append(" counter packets ").append(s.packets()).append(" bytes ").append(s.bytes());
            }
            b.append(" comment \"").append(s.comment()).append("\" : ").append(s.address().getHostAddress());
            if (p.mapsPort()) {
                b.append(" . ").append(s.port());
            }
        }
        b.append(" }\n");
    }

    private static String dispatchKey(ServiceKey k) {
        return k.address().getHostAddress() + " . " + k.protocol().name().toLowerCase(Locale.ROOT) + " . " + k.port();
    }

    private static String proto(ServicePlan p) {
        return p.protocol().name().toLowerCase(Locale.ROOT);
    }

    private static String family(AddressFamily f) {
        return f == AddressFamily.INET ? "ip" : "ip6";
    }

}
