package dev.vigil.daemon.vip;

import dev.vigil.api.VipAddress;
import dev.vigil.api.VipContext;
import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkManager;
import dev.vigil.kernel.NeighbourAdvertiser;
import dev.vigil.kernel.VirtualAddress;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The daemon's {@link VipContext}: the kernel ports the VRRP runtime uses (rtnetlink addresses,
 * AF_PACKET gratuitous ARP and ICMPv6 NA, rtnetlink links and {@code /proc/sys/net}) lent to VIP
 * backends, one context per instance for its logger. Kernel failures are the ports'
 * {@link KernelException}s, which are {@link IOException}s with the kernel's reason.
 */
public final class HostVipContext implements VipContext {

    /** The kernel ports a context lends, and how it finds the IPv6 link-local address of an interface. */
    public record Kernel(AddressManager addresses, NeighbourAdvertiser advertiser, LinkManager links,
                         LinkLocals linkLocals) {
    }

    /** Looks up an interface's IPv6 link-local address. */
    @FunctionalInterface
    public interface LinkLocals {
        Optional<Inet6Address> of(String ifname) throws KernelException;
    }

    private final Kernel kernel;
    private final System.Logger logger;

    /** A context for instance {@code instance}, logging through {@code loggers}. */
    public HostVipContext(Kernel kernel, String instance, Function<String, System.Logger> loggers) {
        this.kernel = kernel;
        this.logger = loggers.apply(instance);
    }

    /** The kernel's form of {@code a}. */
    static VirtualAddress kernelAddress(VipAddress a) {
        return new VirtualAddress(a.address(), a.prefixLength(), a.ifname(), a.label(), a.broadcast(), a.scope());
    }

    /** The API's form of {@code v}. */
    static VipAddress apiAddress(VirtualAddress v) {
        return new VipAddress(v.address(), v.prefixLength(), v.ifname(), v.label(), v.broadcast(), v.scope());
    }

    @Override
    public void addAddress(VipAddress address) throws IOException {
        kernel.addresses().add(kernelAddress(address));
    }

    @Override
    public void removeAddress(VipAddress address) throws IOException {
        kernel.addresses().remove(kernelAddress(address));
    }

    @Override
    public void announce(VipAddress a) throws IOException {
        if (a.address() instanceof Inet4Address v4) {
            kernel.advertiser().gratuitousArp(a.ifname(), v4);
        } else {
            kernel.advertiser().unsolicitedNeighbourAdvert(a.ifname(), (Inet6Address) a.address());
        }
    }

    @Override
    public void createMacvlan(String name, String lower, byte[] mac) throws IOException {
        kernel.links().deleteLink(name);
        kernel.links().createMacvlan(name, lower, mac);
    }

    @Override
    public void setUp(String name) throws IOException {
        kernel.links().setUp(name);
    }

    @Override
    public Optional<Inet6Address> linkLocal(String ifname) throws IOException {
        return kernel.linkLocals().of(ifname);
    }

    @Override
    public void deleteLink(String name) throws IOException {
        kernel.links().deleteLink(name);
    }

    @Override
    public Optional<Link> link(String name) throws IOException {
        return kernel.links().link(name).map(HostVipContext::link);
    }

    @Override
    public List<Link> links() throws IOException {
        List<Link> out = new ArrayList<>();
        for (LinkInfo l : kernel.links().links()) {
            out.add(link(l));
        }
        return out;
    }

    private static Link link(LinkInfo l) {
        return new Link(l.name(), l.index(), l.up(), l.mac());
    }

    @Override
    public Optional<String> sysctl(String path) throws IOException {
        return kernel.links().sysctl(path);
    }

    @Override
    public void sysctl(String path, String value) throws IOException {
        kernel.links().sysctl(path, value);
    }

    @Override
    public System.Logger logger() {
        return logger;
    }
}
