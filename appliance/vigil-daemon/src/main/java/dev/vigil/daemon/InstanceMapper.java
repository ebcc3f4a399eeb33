package dev.vigil.daemon;

import dev.vigil.config.Diagnostic;
import dev.vigil.config.Severity;
import dev.vigil.config.SourceRef;
import dev.vigil.config.model.Authentication;
import dev.vigil.config.model.GlobalDefs;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.UnicastPeer;
import dev.vigil.config.model.VirtualIp;
import dev.vigil.config.model.VrrpInstance;
import dev.vigil.config.model.VrrpSyncGroup;
import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.vrrp.fsm.GarpSettings;
import dev.vigil.vrrp.fsm.VrrpState;
import dev.vigil.vrrp.runtime.InstanceParams;
import dev.vigil.vrrp.runtime.SyncGroupParams;
import dev.vigil.vrrp.runtime.VipSetup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.TreeSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the {@code vrrp_instance} records of a configuration into what the VRRP runtime runs.
 * Settings the runtime cannot honour yet are reported as located diagnostics, never dropped
 * silently.
 */
final class InstanceMapper {

    /** The instance keyword naming a VIP backend (the words after the name are the backend's). */
    static final String VIP_BACKEND = "vigil_vip_backend";

    private final List<Diagnostic> diagnostics = new ArrayList<>();
    private final Set<String> vipBackends;

    /** A mapper knowing only the built-in VIP backends. */
    InstanceMapper() {
        this(Set.of("netlink", "vmac"));
    }

    /** @param vipBackends every VIP backend name an instance may select (built-in and plugins') */
    InstanceMapper(Set<String> vipBackends) {
        this.vipBackends = new TreeSet<>(vipBackends);
    }

    List<Diagnostic> diagnostics() {
        return List.copyOf(diagnostics);
    }

    boolean hasErrors() {
        return diagnostics.stream().anyMatch(d -> d.severity() == Severity.ERROR);
    }

    List<InstanceParams> map(KeepalivedConfig config) {
        List<InstanceParams> out = new ArrayList<>();
        GlobalDefs g = config.globalDefs();
        for (VrrpInstance i : config.vrrpInstances()) {
            InstanceParams p = map(g, i);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    /** The {@code vrrp_sync_group}s whose members all mapped. */
    List<SyncGroupParams> groups(KeepalivedConfig config, List<InstanceParams> mapped) {
        Set<String> names = new HashSet<>();
        mapped.forEach(p -> names.add(p.name()));
        List<SyncGroupParams> out = new ArrayList<>();
        for (VrrpSyncGroup g : config.syncGroups()) {
            List<String> members = g.members().stream().filter(names::contains).toList();
            if (members.size() != g.members().size()) {
                error(g.ref(), "vrrp_sync_group " + g.name() + ": not every member can run");
                continue;
            }
            out.add(new SyncGroupParams(g.name(), members));
        }
        return out;
    }

    private InstanceParams map(GlobalDefs g, VrrpInstance i) {
        if (i.interfaceName() == null) {
            error(i.ref(), i.name() + ": no interface (required by this version, also in unicast mode)");
            return null;
        }
        InstanceParams.Builder b = InstanceParams.builder(i.name(), i.virtualRouterId(), i.interfaceName())
                .version(i.version())
                .priority(i.priority())
                .advertInterval(i.advertInterval())
                .preempt(i.preempt())
                .preemptDelay(i.preemptDelay())
                .accept(i.accept())
                .initialState(i.initialState() == VrrpInstance.State.MASTER ? VrrpState.MASTER : VrrpState.BACKUP)
                .garp(new GarpSettings(i.garpMasterRepeat(), i.garpMasterDelay(), i.garpMasterRefresh(),
                        i.garpMasterRefreshRepeat(), i.garpLowerPrioRepeat()))
                .downTimerAdverts(i.downTimerAdverts())
                .lowerPrioNoAdvert(i.lowerPrioNoAdvert())
                .v3ChecksumAsV2(flag(i.other(), "v3_checksum_as_v2", flag(g.other(), "v3_checksum_as_v2", false)));

        Authentication auth = i.authentication();
        if (auth.type() == Authentication.Type.PASS) {
            byte[] pass = auth.password().getBytes(StandardCharsets.ISO_8859_1);
            b.password(Arrays.copyOf(pass, Math.min(8, pass.length)));
        } else if (auth.type() == Authentication.Type.AH) {
            error(auth.ref() != null ? auth.ref() : i.ref(), i.name() + ": auth_type AH is not supported by this version (use PASS or none)");
            return null;
        }

        AddressFamily family = i.isIpv6() ? AddressFamily.INET6 : AddressFamily.INET;
        b.family(family);
        for (VirtualIp v : i.virtualIpaddresses()) {
            b.vip(address(v, i));
        }
        for (VirtualIp v : i.virtualIpaddressExcluded()) {
            b.excludedVip(address(v, i));
        }
        if (i.unicastSrcIp() != null) {
            b.sourceAddress(i.unicastSrcIp());
        } else if (i.mcastSrcIp() != null) {
            b.sourceAddress(i.mcastSrcIp());
        }
        for (UnicastPeer peer : i.unicastPeers()) {
            b.unicastPeer(peer.address());
        }
        b.multicastGroup(family == AddressFamily.INET ? g.vrrpMcastGroup4() : g.vrrpMcastGroup6());

        VipSetup vip = vipSetup(i);
        if (vip == null) {
            return null;
        }
        b.vip(vip);
        unsupported(i);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            error(i.ref(), e.getMessage());
            return null;
        }
    }

    /**
     * The instance's VIP backend: {@code vigil_vip_backend NAME [WORDS...]}, else {@code vmac} with
     * {@code use_vmac}, else {@code netlink}; {@code null} (with a located error) for an unknown name
     * or both keywords together.
     */
    private VipSetup vipSetup(VrrpInstance i) {
        List<String> named = i.other().get(VIP_BACKEND);
        Map<String, List<String>> options = new LinkedHashMap<>();
        if (named != null) {
            if (named.isEmpty()) {
                error(i.ref(), i.name() + ": " + VIP_BACKEND + " needs a backend name (installed: "
                        + String.join(", ", vipBackends) + ")");
                return null;
            }
            String name = named.getFirst();
            if (!vipBackends.contains(name)) {
                error(i.ref(), i.name() + ": " + VIP_BACKEND + " " + name + ": no such VIP backend (installed: "
                        + String.join(", ", vipBackends) + ")");
                return null;
            }
            if (i.useVmac() && !name.equals("vmac")) {
                error(i.ref(), i.name() + ": use_vmac and " + VIP_BACKEND + " " + name
                        + " together (use_vmac selects the vmac backend)");
                return null;
            }
            options.put(VIP_BACKEND, named);
        }
        if (i.useVmac()) {
            options.put("use_vmac", i.vmacName() != null ? List.of(i.vmacName()) : List.of());
        }
        if (i.other().containsKey("vmac_xmit_base")) {
            options.put("vmac_xmit_base", i.other().get("vmac_xmit_base"));
        }
        String backend = named != null ? named.getFirst() : i.useVmac() ? "vmac" : "netlink";
        return backend.equals("netlink") && options.isEmpty() ? VipSetup.DEFAULT : new VipSetup(backend, options);
    }

    private void unsupported(VrrpInstance i) {
        String n = i.name() + ": ";
        if (!i.virtualRoutes().isEmpty() || !i.virtualRules().isEmpty()) {
            warn(i.ref(), n + "virtual_routes/virtual_rules are not applied by this version");
        }
    }

    private static VirtualAddress address(VirtualIp v, VrrpInstance i) {
        String dev = v.dev() != null ? v.dev() : i.interfaceName();
        return new VirtualAddress(v.address(), v.prefixLength(), dev, v.label(), v.broadcast(), scope(v.scope()));
    }

    /** rtnetlink scope numbers (rtnetlink.h {@code rt_scope_t}). */
    static int scope(String s) {
        if (s == null) {
            return 0;
        }
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "global", "universe" -> 0;
            case "site" -> 200;
            case "link" -> 253;
            case "host" -> 254;
            case "nowhere" -> 255;
            default -> {
                try {
                    yield Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    yield 0;
                }
            }
        };
    }

    private static boolean flag(Map<String, List<String>> other, String key, boolean otherwise) {
        List<String> words = other.get(key);
        if (words == null) {
            return otherwise;
        }
        return words.isEmpty() || !List.of("false", "off", "no", "0").contains(words.getFirst().toLowerCase(Locale.ROOT));
    }

    private void warn(SourceRef ref, String message) {
        diagnostics.add(new Diagnostic(Severity.WARNING, ref, message));
    }

    private void error(SourceRef ref, String message) {
        diagnostics.add(new Diagnostic(Severity.ERROR, ref, message));
    }
}
