package dev.vigil.kernel;

import java.net.InetAddress;
import java.util.Objects;

/**
 * An address Vigil adds to or removes from an interface.
 *
 * @param address      the address
 * @param prefixLength prefix length (32 / 128 when none was configured)
 * @param ifname       interface
 * @param label        IPv4 label ({@code eth0:vip}) or {@code null}
 * @param broadcast    IPv4 broadcast or {@code null}
 * @param scope        rtnetlink scope (0 universe, 200 site, 253 link, 254 host)
 */
public record VirtualAddress(InetAddress address, int prefixLength, String ifname, String label,
                             InetAddress broadcast, int scope) {
    public VirtualAddress {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(ifname, "ifname");
    }

    public AddressFamily family() {
        return AddressFamily.of(address);
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + " dev " + ifname + (label != null ? " label " + label : "");
    }
}
