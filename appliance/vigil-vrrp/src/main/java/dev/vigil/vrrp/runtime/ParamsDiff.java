package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.VirtualAddress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Compares two configurations of one instance for a reload, in keepalived's keyword terms. */
final class ParamsDiff {

    private ParamsDiff() {
    }

    /**
     * Whether the instance must be stopped and started: what its channel and its adverts are keyed
     * on cannot change under a running state machine, nor can the VIP backend that holds its
     * addresses (and may own the interface its adverts leave from).
     */
    static boolean identityChanged(InstanceParams a, InstanceParams b) {
        return a.vrid() != b.vrid() || a.version() != b.version() || a.family() != b.family()
                || !a.ifname().equals(b.ifname()) || !Objects.equals(a.sourceAddress(), b.sourceAddress())
                || !Objects.equals(a.effectiveGroup(), b.effectiveGroup()) || !a.vip().equals(b.vip());
    }

    /** One line per difference, empty when the two are equivalent. */
    static List<String> differences(InstanceParams a, InstanceParams b) {
        List<String> out = new ArrayList<>();
        field(out, "virtual_router_id", a.vrid(), b.vrid());
        field(out, "version", a.version(), b.version());
        field(out, "family", a.family(), b.family());
        field(out, "interface", a.ifname(), b.ifname());
        field(out, "priority", a.priority(), b.priority());
        field(out, "advert_int", a.advertInterval(), b.advertInterval());
        field(out, "preempt", a.preempt(), b.preempt());
        field(out, "preempt_delay", a.preemptDelay(), b.preemptDelay());
        field(out, "accept", a.accept(), b.accept());
        if (a.authType() != b.authType() || !Arrays.equals(a.authPassword(), b.authPassword())) {
            out.add("authentication changed");
        }
        vips(out, "virtual_ipaddress", a.vips(), b.vips());
        vips(out, "virtual_ipaddress_excluded", a.excludedVips(), b.excludedVips());
        field(out, "source address", host(a.sourceAddress()), host(b.sourceAddress()));
        field(out, "multicast group", host(a.effectiveGroup()), host(b.effectiveGroup()));
        if (!a.unicastPeers().equals(b.unicastPeers())) {
            out.add("unicast_peer " + hosts(a.unicastPeers()) + " -> " + hosts(b.unicastPeers()));
        }
        field(out, "state", a.initialState(), b.initialState());
        field(out, "garp", a.garp(), b.garp());
        field(out, "down_timer_adverts", a.downTimerAdverts(), b.downTimerAdverts());
        field(out, "lower_prio_no_advert", a.lowerPrioNoAdvert(), b.lowerPrioNoAdvert());
        field(out, "v3_checksum_as_v2", a.v3ChecksumAsV2(), b.v3ChecksumAsV2());
        field(out, "strict address check", a.strictAddressCheck(), b.strictAddressCheck());
        field(out, "VIP backend", a.vip(), b.vip());
        return out;
    }

    /** Addresses in {@code from} that are not in {@code minus}. */
    static List<VirtualAddress> minus(List<VirtualAddress> from, List<VirtualAddress> minus) {
        List<VirtualAddress> out = new ArrayList<>();
        for (VirtualAddress v : from) {
            if (!minus.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }

    private static void vips(List<String> out, String keyword, List<VirtualAddress> a, List<VirtualAddress> b) {
        List<VirtualAddress> added = minus(b, a);
        List<VirtualAddress> removed = minus(a, b);
        if (added.isEmpty() && removed.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(keyword);
        for (VirtualAddress v : added) {
            sb.append(" +").append(v);
        }
        for (VirtualAddress v : removed) {
            sb.append(" -").append(v);
        }
        out.add(sb.toString());
    }

    private static void field(List<String> out, String name, Object a, Object b) {
        if (!Objects.equals(a, b)) {
            out.add(name + " " + text(a) + " -> " + text(b));
        }
    }

    private static String text(Object o) {
        if (o instanceof java.time.Duration d) {
            return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString() + "s";
        }
        return String.valueOf(o);
    }

    private static String host(InetAddress a) {
        return a == null ? "none" : a.getHostAddress();
    }

    private static String hosts(List<InetAddress> list) {
        List<String> out = new ArrayList<>(list.size());
        for (InetAddress a : list) {
            out.add(a.getHostAddress());
        }
        return out.toString();
    }
}
