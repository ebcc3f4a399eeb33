package dev.vigil.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * A virtual address of a VRRP instance as configured in {@code virtual_ipaddress} (or
 * {@code virtual_ipaddress_excluded}).
 *
 * @param address      the address
 * @param prefixLength prefix length (32 or 128 when none was configured)
 * @param ifname       the interface it is configured on ({@code dev}, else the instance's interface)
 * @param label        the IPv4 label ({@code eth0:vip}), or {@code null}
 * @param broadcast    the IPv4 broadcast address, or {@code null}
 * @param scope        rtnetlink scope (0 universe, 200 site, 253 link, 254 host)
 */
public record VipAddress(InetAddress address, int prefixLength, String ifname, String label, InetAddress broadcast,
                         int scope) {
    public VipAddress {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(ifname, "ifname");
        int max = address instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefixLength: " + prefixLength + " (expected: 0.." + max + ")");
        }
    }

    /** Whether it is an IPv4 address. */
    public boolean ipv4() {
        return address instanceof Inet4Address;
    }

    /** The same address on another interface (a backend that moves addresses onto its own). */
    public VipAddress onInterface(String other) {
        return other.equals(ifname) ? this : new VipAddress(address, prefixLength, other, label, broadcast, scope);
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + " dev " + ifname;
    }
}
