package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.vrrp.codec.ChecksumMode;
import dev.vigil.vrrp.codec.ReceiveValidator;
import dev.vigil.vrrp.codec.VrrpAdvert;
import dev.vigil.vrrp.fsm.GarpSettings;
import dev.vigil.vrrp.fsm.MachineConfig;
import dev.vigil.vrrp.fsm.VrrpState;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One {@code vrrp_instance} as the router runs it. Build with {@link #builder(String, int, String)};
 * defaults are keepalived's.
 *
 * @param name             instance name (for logs and lookups)
 * @param vrid             1..255
 * @param version          2 or 3 (version 2 is IPv4 only)
 * @param family           address family of the adverts and of {@code vips}
 * @param ifname           interface adverts are sent and received on
 * @param priority         base priority 1..255
 * @param advertInterval   Advertisement_Interval (whole seconds for version 2, 10 ms steps for version 3)
 * @param preempt          Preempt_Mode ({@code nopreempt} = false)
 * @param preemptDelay     keepalived {@code preempt_delay}
 * @param accept           Accept_Mode (carried for the firewall)
 * @param authType         {@link VrrpAdvert#AUTH_NONE} or {@link VrrpAdvert#AUTH_PASS} (version 2 only)
 * @param authPassword     password bytes (at most 8), or {@code null}
 * @param vips             the virtual addresses carried in adverts (at most 255, one family)
 * @param excludedVips     addresses added and removed with the VIPs but not advertised
 * @param sourceAddress    source of adverts, or {@code null} for the interface's primary address
 * @param multicastGroup   group of adverts ({@code null}: 224.0.0.18 / ff02::12); unused with unicast peers
 * @param unicastPeers     unicast mode when not empty: one copy of each advert per peer
 * @param initialState     configured {@code state} MASTER or BACKUP, or {@code null}
 * @param garp             GARP / NA settings
 * @param downTimerAdverts Master_Down_Interval multiplier (RFC: 3)
 * @param lowerPrioNoAdvert do not answer a lower-priority advert while MASTER
 * @param v3ChecksumAsV2   version 3 IPv4 checksum without the pseudo-header
 * @param strictAddressCheck drop version 2 adverts whose address list differs (RFC 3768 §7.1)
 * @param vip              the VIP backend and its options ({@link VipSetup#DEFAULT} when none is named)
 */
public record InstanceParams(String name, int vrid, int version, AddressFamily family, String ifname, int priority,
                             Duration advertInterval, boolean preempt, Duration preemptDelay, boolean accept,
                             int authType, byte[] authPassword, List<VirtualAddress> vips,
                             List<VirtualAddress> excludedVips, InetAddress sourceAddress, InetAddress multicastGroup,
                             List<InetAddress> unicastPeers, VrrpState initialState, GarpSettings garp,
                             int downTimerAdverts, boolean lowerPrioNoAdvert, boolean v3ChecksumAsV2,
                             boolean strictAddressCheck, VipSetup vip) {

    /** RFC 3768 §5.2.2 IPv4 group. */
    public static final InetAddress GROUP_IPV4 = literal(new byte[]{(byte) 224, 0, 0, 18});
    /** RFC 5798 §5.1.2.2 IPv6 group ff02::12. */
    public static final InetAddress GROUP_IPV6 = literal(new byte[]{(byte) 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12});

    public InstanceParams {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(ifname, "ifname");
        vips = List.copyOf(Objects.requireNonNull(vips, "vips"));
        excludedVips = List.copyOf(Objects.requireNonNull(excludedVips, "excludedVips"));
        unicastPeers = List.copyOf(Objects.requireNonNull(unicastPeers, "unicastPeers"));
        vip = vip == null ? VipSetup.DEFAULT : vip;
        authPassword = authPassword == null ? null : authPassword.clone();
        if (version == 2 && family == AddressFamily.INET6) {
            throw new IllegalArgumentException(name + ": version 2 with IPv6 (expected: version 3)");
        }
        if (vips.size() > 255) {
            throw new IllegalArgumentException(name + ": " + vips.size() + " virtual addresses (expected: <= 255)");
        }
        for (VirtualAddress v : vips) {
            if (v.family() != family) {
                throw new IllegalArgumentException(name + ": virtual address " + v + " (expected: " + family + ")");
            }
        }
        if (authType != VrrpAdvert.AUTH_NONE && authType != VrrpAdvert.AUTH_PASS) {
            throw new IllegalArgumentException(name + ": authType " + authType + " (expected: 0 or 1)");
        }
        if (authType == VrrpAdvert.AUTH_PASS && (version != 2 || authPassword == null)) {
            throw new IllegalArgumentException(name + ": PASS authentication (expected: version 2 and a password)");
        }
        // Validates the rest (vrid, priority, interval, ...); fields are not assigned yet.
        new MachineConfig(version, vrid, priority, advertInterval, preempt, preemptDelay, accept, downTimerAdverts,
                lowerPrioNoAdvert, initialState, garp);
    }

    /** A builder with keepalived's defaults: version 2 (3 for IPv6), priority 100, 1 s, preempt. */
    public static Builder builder(String name, int vrid, String ifname) {
        return new Builder(name, vrid, ifname);
    }

    /** The state machine configuration of this instance. */
    public MachineConfig toMachineConfig() {
        return new MachineConfig(version, vrid, priority, advertInterval, preempt, preemptDelay, accept,
                downTimerAdverts, lowerPrioNoAdvert, initialState, garp);
    }

    /** Whether adverts go to unicast peers instead of a group. */
    public boolean unicast() {
        return !unicastPeers.isEmpty();
    }

    /** The group adverts are sent to, or {@code null} in unicast mode. */
    public InetAddress effectiveGroup() {
        if (unicast()) {
            return null;
        }
        if (multicastGroup != null) {
            return multicastGroup;
        }
        return family == AddressFamily.INET ? GROUP_IPV4 : GROUP_IPV6;
    }

    public ChecksumMode checksumMode() {
        return v3ChecksumAsV2 ? ChecksumMode.NO_PSEUDO_HEADER : ChecksumMode.PSEUDO_HEADER;
    }

    /** The receive checks for this instance. */
    public ReceiveValidator.Expectations expectations() {
        byte[] authData = authType == VrrpAdvert.AUTH_PASS ? VrrpAdvert.padPassword(authPassword) : null;
        return new ReceiveValidator.Expectations(version, vrid, authType, authData,
                toMachineConfig().advertIntervalWire(), advertisedAddresses(), checksumMode(), effectiveGroup(),
                strictAddressCheck);
    }

    /** The addresses carried in adverts. */
    public List<InetAddress> advertisedAddresses() {
        List<InetAddress> out = new ArrayList<>(vips.size());
        for (VirtualAddress v : vips) {
            out.add(v.address());
        }
        return out;
    }

    /** The advert this instance sends (priority and checksum filled in per send). */
    public VrrpAdvert advertTemplate() {
        int wire = toMachineConfig().advertIntervalWire();
        if (version == 2) {
            return VrrpAdvert.v2(vrid, priority, wire, authType == VrrpAdvert.AUTH_PASS ? authPassword : null,
                    advertisedAddresses());
        }
        return VrrpAdvert.v3(vrid, priority, wire, advertisedAddresses());
    }

    @Override
    public String toString() {
        return "InstanceParams[" + name + " vrid " + vrid + " v" + version + " " + family + " dev " + ifname
                + " prio " + priority + " int " + advertInterval + " vips " + vips
                + (vip.equals(VipSetup.DEFAULT) ? "" : " backend " + vip) + "]";
    }

    private static InetAddress literal(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Builds {@link InstanceParams}; every setter returns the builder. */
    public static final class Builder {
        private final String name;
        private final int vrid;
        private final String ifname;
        private Integer version;
        private AddressFamily family;
        private int priority = 100;
        private Duration advertInterval = Duration.ofSeconds(1);
        private boolean preempt = true;
        private Duration preemptDelay = Duration.ZERO;
        private boolean accept = true;
        private int authType = VrrpAdvert.AUTH_NONE;
        private byte[] authPassword;
        private final List<VirtualAddress> vips = new ArrayList<>();
        private final List<VirtualAddress> excludedVips = new ArrayList<>();
        private InetAddress sourceAddress;
        private InetAddress multicastGroup;
        private final List<InetAddress> unicastPeers = new ArrayList<>();
        private VrrpState initialState;
        private GarpSettings garp = GarpSettings.DEFAULTS;
        private int downTimerAdverts = 3;
        private boolean lowerPrioNoAdvert;
        private boolean v3ChecksumAsV2;
        private boolean strictAddressCheck;
        private VipSetup vip = VipSetup.DEFAULT;

        private Builder(String name, int vrid, String ifname) {
            this.name = name;
            this.vrid = vrid;
            this.ifname = ifname;
        }

        public Builder version(int v) { this.version = v; return this; }
        public Builder family(AddressFamily f) { this.family = f; return this; }
        public Builder priority(int p) { this.priority = p; return this; }
        public Builder advertInterval(Duration d) { this.advertInterval = d; return this; }
        public Builder preempt(boolean p) { this.preempt = p; return this; }
        public Builder preemptDelay(Duration d) { this.preemptDelay = d; return this; }
        public Builder accept(boolean a) { this.accept = a; return this; }
        public Builder password(byte[] password) {
            this.authType = password == null ? VrrpAdvert.AUTH_NONE : VrrpAdvert.AUTH_PASS;
            this.authPassword = password;
            return this;
        }
        public Builder vip(VirtualAddress v) { this.vips.add(v); return this; }
        public Builder excludedVip(VirtualAddress v) { this.excludedVips.add(v); return this; }
        public Builder sourceAddress(InetAddress a) { this.sourceAddress = a; return this; }
        public Builder multicastGroup(InetAddress g) { this.multicastGroup = g; return this; }
        public Builder unicastPeer(InetAddress p) { this.unicastPeers.add(p); return this; }
        public Builder initialState(VrrpState s) { this.initialState = s; return this; }
        public Builder garp(GarpSettings g) { this.garp = g; return this; }
        public Builder downTimerAdverts(int n) { this.downTimerAdverts = n; return this; }
        public Builder lowerPrioNoAdvert(boolean b) { this.lowerPrioNoAdvert = b; return this; }
        public Builder v3ChecksumAsV2(boolean b) { this.v3ChecksumAsV2 = b; return this; }
        public Builder strictAddressCheck(boolean b) { this.strictAddressCheck = b; return this; }
        public Builder vip(VipSetup v) { this.vip = v; return this; }

        public InstanceParams build() {
            AddressFamily f = family != null ? family
                    : vips.isEmpty() ? AddressFamily.INET : vips.getFirst().family();
            int v = version != null ? version : f == AddressFamily.INET6 ? 3 : 2;
            return new InstanceParams(name, vrid, v, f, ifname, priority, advertInterval, preempt, preemptDelay,
                    accept, authType, authPassword, vips, excludedVips, sourceAddress, multicastGroup, unicastPeers,
                    initialState, garp, downTimerAdverts, lowerPrioNoAdvert, v3ChecksumAsV2, strictAddressCheck, vip);
        }
    }
}
