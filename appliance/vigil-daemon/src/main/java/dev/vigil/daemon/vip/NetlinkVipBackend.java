package dev.vigil.daemon.vip;

import dev.vigil.api.VipAddress;
import dev.vigil.api.VipBackend;
import dev.vigil.api.VipContext;
import dev.vigil.api.VipInstance;

import java.util.Set;

/**
 * The default VIP backend, {@code netlink}: each address is a secondary address on its configured
 * interface (rtnetlink), announced by gratuitous ARP or an unsolicited neighbour advertisement
 * from that interface's MAC, as keepalived does without {@code use_vmac}.
 */
public final class NetlinkVipBackend implements VipBackend {

    /** Its name. */
    public static final String NAME = "netlink";

    @Override
    public Set<String> names() {
        return Set.of(NAME);
    }

    @Override
    public Attachment attach(VipInstance instance, VipContext context) {
        return new Attachment() {
            @Override
            public void up(VipAddress address) throws Exception {
                context.addAddress(address);
            }

            @Override
            public void down(VipAddress address) throws Exception {
                context.removeAddress(address);
            }

            @Override
            public void announce(VipAddress address) throws Exception {
                context.announce(address);
            }
        };
    }
}
