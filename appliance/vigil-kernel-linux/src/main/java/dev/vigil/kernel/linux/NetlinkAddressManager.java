package dev.vigil.kernel.linux;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.VirtualAddress;

/**
 * {@link AddressManager} over rtnetlink. Its netlink socket belongs to the network namespace of
 * the thread that constructed it; every later call acts on that namespace, whatever thread makes
 * it. Calls are serialised.
 *
 * <p>Interface indexes of {@link #add} and {@link #remove} are cached, so a take-over costs one
 * netlink round trip per address rather than two; {@link #linkChanged(LinkInfo)} (fed from link
 * notifications) keeps the cache current, and a request the kernel refuses with {@code ENODEV} is
 * retried once with the name looked up again.
 */
public final class NetlinkAddressManager implements AddressManager, AutoCloseable {
    private final RtNetlink rtnl;
    private final Map<String, Integer> indexes = new ConcurrentHashMap<>();

    /** Opens the rtnetlink request socket in the calling thread's network namespace. */
    public NetlinkAddressManager() throws KernelException {
        this.rtnl = new RtNetlink("rtnetlink address requests");
    }

    /** Adds the address; one already present ({@code EEXIST}) counts as success. */
    @Override
    public void add(VirtualAddress address) throws KernelException {
        try {
            change(true, address);
        } catch (KernelException e) {
            if (e.errno() != Sys.EEXIST) {
                throw e;
            }
        }
    }

    /** Removes the address; an absent one ({@code EADDRNOTAVAIL}) counts as success. */
    @Override
    public void remove(VirtualAddress address) throws KernelException {
        try {
            change(false, address);
        } catch (KernelException e) {
            if (e.errno() != Sys.EADDRNOTAVAIL) {
                throw e;
            }
        }
    }

    /** The request with the cached index; once more with a fresh one if the kernel knows no such device. */
    private void change(boolean add, VirtualAddress address) throws KernelException {
        String ifname = address.ifname();
        Integer cached = indexes.get(ifname);
        if (cached != null) {
            try {
                rtnl.changeAddress(add, address, cached);
                return;
            } catch (KernelException e) {
                if (e.errno() != Sys.ENODEV) {
                    throw e;
                }
                indexes.remove(ifname, cached);
            }
        }
        int ifindex = ifindex(ifname);
        indexes.put(ifname, ifindex);
        rtnl.changeAddress(add, address, ifindex);
    }

    /**
     * Takes a link notification into the index cache: the name now has this index, and no other
     * name has it any more (a rename). Cheap; callable from any thread.
     */
    public void linkChanged(LinkInfo info) {
        if (info.name() == null) {
            return;
        }
        indexes.values().removeIf(i -> i == info.index());
        indexes.put(info.name(), info.index());
    }

    /**
     * Runs the add and remove path once per address without changing anything: the interface
     * index is resolved (and cached), then the RTM_NEWADDR and RTM_DELADDR requests are built and
     * sent for interface index 0, which no interface has, so the kernel refuses them
     * ({@code ENODEV}) and the send and acknowledgement code has run. Returns how many requests
     * were refused as expected. An address whose interface does not exist (yet) is skipped.
     */
    public int warmUp(Collection<VirtualAddress> addresses) {
        int refused = 0;
        for (VirtualAddress a : addresses) {
            try {
                indexes.put(a.ifname(), ifindex(a.ifname()));
            } catch (KernelException e) {
                continue;
            }
            for (boolean add : new boolean[]{true, false}) {
                try {
                    rtnl.changeAddress(add, a, 0);
                } catch (KernelException e) {
                    refused += e.errno() == Sys.ENODEV ? 1 : 0;
                }
            }
        }
        return refused;
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
