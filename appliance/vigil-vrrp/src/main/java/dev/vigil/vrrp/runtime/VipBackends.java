package dev.vigil.vrrp.runtime;

import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.NeighbourAdvertiser;
import dev.vigil.kernel.VirtualAddress;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * The router's port to the VIP backends: binds every instance that starts to the backend its
 * {@link InstanceParams#vip()} names. Called on the engine thread.
 */
public interface VipBackends {

    /**
     * The binding of {@code instance}; a throw holds the instance in FAULT with the reason.
     * Called when the instance starts, before its channel is opened.
     */
    VipBinding bind(InstanceParams instance) throws KernelException;

    /**
     * Secondary addresses through {@code addresses} and announcements through {@code advertiser},
     * each on the address's configured interface, whatever backend the instance names: the
     * router's behaviour before backends existed, for runtimes without a backend host.
     */
    static VipBackends direct(AddressManager addresses, NeighbourAdvertiser advertiser) {
        return instance -> new VipBinding() {
            @Override
            public String advertInterface() {
                return instance.ifname();
            }

            @Override
            public void add(VirtualAddress address) throws KernelException {
                addresses.add(address);
            }

            @Override
            public void remove(VirtualAddress address) throws KernelException {
                addresses.remove(address);
            }

            @Override
            public void announce(VirtualAddress v) throws KernelException {
                if (v.address() instanceof Inet4Address a4) {
                    advertiser.gratuitousArp(v.ifname(), a4);
                } else {
                    advertiser.unsolicitedNeighbourAdvert(v.ifname(), (Inet6Address) v.address());
                }
            }
        };
    }
}
