package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Set;

/**
 * One {@code virtual_ipaddress} / {@code virtual_ipaddress_excluded} / {@code static_ipaddress} line.
 *
 * @param address      the address
 * @param prefixLength prefix length (32 / 128 when not given)
 * @param dev          {@code dev}, or {@code null} for the instance's interface
 * @param label        {@code label} or {@code null}
 * @param broadcast    {@code brd} (computed for {@code brd +}) or {@code null}
 * @param scope        {@code scope} or {@code null}
 * @param peer         {@code peer} address or {@code null}
 * @param flags        flag words: {@code home}, {@code -nodad}, {@code mngtmpaddr}, {@code noprefixroute},
 *                     {@code autojoin}, {@code no_track}, {@code use_vmac}
 * @param ref          where the line starts
 */
public record VirtualIp(InetAddress address, int prefixLength, String dev, String label, InetAddress broadcast,
                        String scope, InetAddress peer, Set<String> flags, SourceRef ref) {
    public VirtualIp {
        flags = Set.copyOf(flags);
    }

    /** Whether the address is IPv6. */
    public boolean isIpv6() {
        return address instanceof Inet6Address;
    }
}
