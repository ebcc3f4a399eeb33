package dev.vigil.vrrp.runtime;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which VIP backend serves an instance, and the instance's options for it.
 *
 * @param backend the backend's name ({@code netlink}, {@code vmac} or a plugin's)
 * @param options backend keywords with their words ({@code use_vmac}, {@code vmac_xmit_base},
 *                {@code vigil_vip_backend})
 */
public record VipSetup(String backend, Map<String, List<String>> options) {
    /** The built-in default: secondary addresses over rtnetlink with gratuitous ARP / NA. */
    public static final VipSetup DEFAULT = new VipSetup("netlink", Map.of());

    public VipSetup {
        Objects.requireNonNull(backend, "backend");
        options = Map.copyOf(options);
    }

    @Override
    public String toString() {
        return options.isEmpty() ? backend : backend + " " + options;
    }
}
