package dev.vigil.daemon.vip;

import dev.vigil.api.VipAddress;
import dev.vigil.api.VipBackend;
import dev.vigil.api.VipContext;
import dev.vigil.api.VipInstance;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Inet6Address;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code vmac} VIP backend, keepalived's {@code use_vmac}: the instance gets a macvlan
 * interface ({@code vrrp.<VRID>} unless {@code use_vmac NAME}) in private mode on its interface,
 * with the virtual router MAC of RFC 5798 §7.3 (00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID
 * for IPv6). The addresses configured on the instance's interface live on the macvlan instead;
 * its adverts are sent from it (so their source MAC is the virtual MAC, which the segment's
 * switches learn) unless {@code vmac_xmit_base}; gratuitous ARPs and NAs go out from it. A client's
 * neighbour entry for a VIP then names the virtual MAC, which every node of the instance can carry:
 * after a take-over the new master's gratuitous ARP only moves the MAC to its switch port, and the
 * client never re-resolves.
 *
 * <p>The macvlan exists while the instance runs, in every state (a BACKUP must hear the master's
 * adverts, which come from the same MAC: in private mode the macvlan alone receives frames whose
 * source is its own MAC); it holds the VIPs only while MASTER. It is created down, configured,
 * then brought up, and deleted when the instance stops. Its sysctls are keepalived's
 * ({@code vrrp_if_config.c}): on the macvlan {@code arp_ignore=1} (answer ARP only for its own
 * addresses), {@code accept_local=1} (hear an advert from an address of this host), {@code rp_filter=0}
 * (accept traffic on an interface that has no route back), and for an IPv4 instance
 * {@code disable_ipv6=1} (no link-local address, router solicitation or MLD report from the virtual
 * MAC); on the instance's interface {@code arp_ignore=1} and {@code arp_filter=1} (it must not answer
 * for the VIPs with its own MAC) and {@code arp_announce=2}: replies from a VIP leave through the
 * instance's interface (its route comes first), and an ARP request the kernel sends from there to
 * find the client would otherwise carry the VIP as sender address with the interface's own MAC,
 * and the client would take that MAC for the VIP (kernel {@code ip-sysctl.rst}: "2 - Always use
 * the best local address for this target"). All three are restored when its last macvlan goes. An IPv6 instance's macvlan
 * gets no generated link-local address ({@code addr_gen_mode=1}, RFC 5798 §7.4) but the link-local
 * address of the instance's interface, which its adverts are sent from.
 *
 * <p>Joining the advert group on the macvlan makes the kernel send IGMP reports from the virtual
 * MAC, from BACKUPs too: a switch may learn the MAC on a BACKUP's port until the master's next
 * advert. keepalived drops those reports with a firewall rule; this backend does not yet.
 */
public final class VmacVipBackend implements VipBackend {

    /** Its name. */
    public static final String NAME = "vmac";
    /** The longest interface name the kernel takes (IFNAMSIZ - 1). */
    static final int MAX_IFNAME = 15;

    /** Saved sysctls of an instance interface, and how many macvlans sit on it. */
    private static final class Base {
        int users;
        Optional<String> arpIgnore;
        Optional<String> arpFilter;
        Optional<String> arpAnnounce;
    }

    private final Map<String, Base> bases = new HashMap<>();

    @Override
    public Set<String> names() {
        return Set.of(NAME);
    }

    /** The macvlan's name: {@code use_vmac NAME}, else {@code vrrp.<VRID>}. */
    public static String interfaceName(VipInstance instance) {
        List<String> words = instance.options().get("use_vmac");
        return words != null && !words.isEmpty() ? words.getFirst() : "vrrp." + instance.vrid();
    }

    /** RFC 5798 §7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6. */
    public static byte[] mac(VipInstance instance) {
        return new byte[]{0, 0, 0x5e, 0, (byte) (instance.ipv6() ? 2 : 1), (byte) instance.vrid()};
    }

    @Override
    public String advertInterface(VipInstance instance) {
        return instance.options().containsKey("vmac_xmit_base") ? instance.ifname() : interfaceName(instance);
    }

    @Override
    public Attachment attach(VipInstance instance, VipContext context) throws IOException {
        String vmac = interfaceName(instance);
        String base = instance.ifname();
        if (vmac.length() > MAX_IFNAME || vmac.contains("/") || vmac.isBlank()) {
            throw new IllegalArgumentException("use_vmac " + vmac + ": not an interface name (at most "
                    + MAX_IFNAME + " characters, no '/')");
        }
        if (vmac.equals(base)) {
            throw new IllegalArgumentException("use_vmac " + vmac + ": the instance's own interface");
        }
        context.createMacvlan(vmac, base, mac(instance));
        try {
            String v4 = "ipv4/conf/" + vmac + "/";
            context.sysctl(v4 + "arp_ignore", "1");
            context.sysctl(v4 + "accept_local", "1");
            context.sysctl(v4 + "rp_filter", "0");
            boolean anyIpv6 = instance.ipv6() || instance.addresses().stream().anyMatch(a -> !a.ipv4());
            if (!anyIpv6) {
                context.sysctl("ipv6/conf/" + vmac + "/disable_ipv6", "1");
            } else {
                context.sysctl("ipv6/conf/" + vmac + "/addr_gen_mode", "1");
            }
            if (!instance.ipv6()) {
                holdBase(base, context);
                if (context.sysctl("ipv4/conf/all/rp_filter").orElse("0").equals("1")) {
                    context.logger().log(Level.WARNING, "net.ipv4.conf.all.rp_filter is 1 (strict): traffic to the"
                            + " VIPs on " + vmac + " is dropped unless it is 0 or 2");
                }
            }
            context.setUp(vmac);
            if (instance.ipv6()) {
                Optional<Inet6Address> ll = context.linkLocal(base);
                if (ll.isEmpty()) {
                    throw new IOException("no IPv6 link-local address on " + base + " to send adverts from " + vmac);
                }
                context.addAddress(new VipAddress(ll.get(), 64, vmac, null, null, 253));
            }
        } catch (IOException | RuntimeException e) {
            try {
                context.deleteLink(vmac);
            } finally {
                if (!instance.ipv6()) {
                    releaseBase(base, context);
                }
            }
            throw e;
        }
        context.logger().log(Level.INFO, "created " + vmac + " on " + base + " with MAC " + format(mac(instance)));
        return new Attachment() {
            /** The configured addresses moved onto the macvlan, made once each. */
            private final Map<VipAddress, VipAddress> moved = new HashMap<>();

            private VipAddress onVmac(VipAddress a) {
                return a.ifname().equals(base) ? moved.computeIfAbsent(a, x -> x.onInterface(vmac)) : a;
            }

            @Override
            public void up(VipAddress address) throws Exception {
                context.addAddress(onVmac(address));
            }

            @Override
            public void down(VipAddress address) throws Exception {
                context.removeAddress(onVmac(address));
            }

            @Override
            public void announce(VipAddress address) throws Exception {
                context.announce(onVmac(address));
            }

            @Override
            public void detach() throws Exception {
                try {
                    context.deleteLink(vmac);
                    context.logger().log(Level.INFO, "deleted " + vmac);
                } finally {
                    if (!instance.ipv6()) {
                        releaseBase(base, context);
                    }
                }
            }
        };
    }

    /** arp_ignore=1, arp_filter=1 and arp_announce=2 on the instance interface; the values before are kept for the last release. */
    private void holdBase(String base, VipContext context) throws IOException {
        Base b;
        synchronized (bases) {
            b = bases.computeIfAbsent(base, k -> new Base());
            if (b.users++ > 0) {
                return;
            }
        }
        String v4 = "ipv4/conf/" + base + "/";
        b.arpIgnore = context.sysctl(v4 + "arp_ignore");
        b.arpFilter = context.sysctl(v4 + "arp_filter");
        b.arpAnnounce = context.sysctl(v4 + "arp_announce");
        context.sysctl(v4 + "arp_ignore", "1");
        context.sysctl(v4 + "arp_filter", "1");
        context.sysctl(v4 + "arp_announce", "2");
    }

    private void releaseBase(String base, VipContext context) throws IOException {
        Base b;
        synchronized (bases) {
            b = bases.get(base);
            if (b == null || --b.users > 0) {
                return;
            }
            bases.remove(base);
        }
        String v4 = "ipv4/conf/" + base + "/";
        if (b.arpIgnore != null && b.arpIgnore.isPresent()) {
            context.sysctl(v4 + "arp_ignore", b.arpIgnore.get());
        }
        if (b.arpFilter != null && b.arpFilter.isPresent()) {
            context.sysctl(v4 + "arp_filter", b.arpFilter.get());
        }
        if (b.arpAnnounce != null && b.arpAnnounce.isPresent()) {
            context.sysctl(v4 + "arp_announce", b.arpAnnounce.get());
        }
    }

    static String format(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte b : mac) {
            sb.append(sb.isEmpty() ? "" : ":").append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }
}
