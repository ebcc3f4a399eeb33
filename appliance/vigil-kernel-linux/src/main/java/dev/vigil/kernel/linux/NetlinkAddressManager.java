package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;
import java.util.Optional;

import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;

/**
 * {@link AddressManager} over rtnetlink. Its netlink socket belongs to the network namespace of
 * the thread that constructed it; every later call acts on that namespace, whatever thread makes
 * it. Calls are serialised.
 */
public final class NetlinkAddressManager implements AddressManager, AutoCloseable {
    private final RtNetlink rtnl;

    /** Opens the rtnetlink request socket in the calling thread's network namespace. */
    public NetlinkAddressManager() throws KernelException {
        this.rtnl = new RtNetlink("rtnetlink address requests");
    }

    /** Adds the address; one already present ({@code EEXIST}) counts as success. */
    @Override
    public void add(VirtualAddress address) throws KernelException {
        int ifindex = ifindex(address.ifname());
        try {
            rtnl.changeAddress(true, address, ifindex);
        } catch (KernelException e) {
            if (e.errno() != Sys.EEXIST) {
                throw e;
            }
        }
    }

    /** Removes the address; an absent one ({@code EADDRNOTAVAIL}) counts as success. */
    @Override
    public void remove(VirtualAddress address) throws KernelException {
        int ifindex = ifindex(address.ifname());
        try {
            rtnl.changeAddress(false, address, ifindex);
        } catch (KernelException e) {
            if (e.errno() != Sys.EADDRNOTAVAIL) {
                throw e;
            }
        }
    }

    @Override
    public List<InterfaceAddress> addresses() throws KernelException {
        return rtnl.addresses();
    }

    /** The index of {@code ifname}; {@code ENODEV} when there is no such interface. */
    public int ifindex(String ifname) throws KernelException {
        return rtnl.link(ifname).index();
    }

    /** The first primary (non-secondary) IPv4 address on {@code ifname}, as the kernel lists it. */
    public Optional<Inet4Address> primaryIpv4(String ifname) throws KernelException {
        int ifindex = ifindex(ifname);
        return rtnl.addresses().stream()
                .filter(a -> a.ifindex() == ifindex && a.address() instanceof Inet4Address && !a.secondary())
                .map(a -> (Inet4Address) a.address())
                .findFirst();
    }

    /** The link-local (fe80::/10) IPv6 address of {@code ifname}. */
    public Optional<Inet6Address> linkLocal(String ifname) throws KernelException {
        int ifindex = ifindex(ifname);
        return rtnl.addresses().stream()
                .filter(a -> a.ifindex() == ifindex && a.address() instanceof Inet6Address v6
                        && v6.isLinkLocalAddress())
                .map(a -> (Inet6Address) a.address())
                .findFirst();
    }

    @Override
    public void close() {
        rtnl.close();
    }
}
