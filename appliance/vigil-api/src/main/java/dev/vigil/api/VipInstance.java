package dev.vigil.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link VipBackend} is told about the VRRP instance it serves.
 *
 * @param name      the {@code vrrp_instance} name
 * @param vrid      {@code virtual_router_id}, 1..255
 * @param ipv6      whether the instance's addresses (and adverts) are IPv6
 * @param ifname    the instance's {@code interface}
 * @param addresses {@code virtual_ipaddress} then {@code virtual_ipaddress_excluded}, in order
 * @param options   the instance's backend keywords with their words: {@code use_vmac [NAME]} and
 *                  {@code vmac_xmit_base} when given, and {@code vigil_vip_backend NAME WORDS...}
 *                  whose words after the name are a plugin's own arguments
 */
public record VipInstance(String name, int vrid, boolean ipv6, String ifname, List<VipAddress> addresses,
                          Map<String, List<String>> options) {
    public VipInstance {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(ifname, "ifname");
        if (vrid < 1 || vrid > 255) {
            throw new IllegalArgumentException("vrid: " + vrid + " (expected: 1..255)");
        }
        addresses = List.copyOf(addresses);
        options = Map.copyOf(options);
    }
}
