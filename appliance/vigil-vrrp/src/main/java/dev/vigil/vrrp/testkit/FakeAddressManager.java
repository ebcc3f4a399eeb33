package dev.vigil.vrrp.testkit;

import dev.vigil.kernel.AddressManager;
import dev.vigil.kernel.InterfaceAddress;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Interface addresses in memory. Logs every call as {@code "add 10.0.0.100/24 dev eth0"}; calls
 * can be made to fail with {@link #failNext(KernelException)}.
 */
public final class FakeAddressManager implements AddressManager {

    private final Map<String, InterfaceAddress> present = new LinkedHashMap<>();
    private final List<String> log = new ArrayList<>();
    private KernelException failNext;

    /** Puts an address on an interface without logging (test set-up). */
    public void preset(String ifname, InetAddress address, int prefixLength) {
        present.put(key(ifname, address), new InterfaceAddress(ifname, 1, address, prefixLength, 0, false, null));
    }

    /** The next add or remove throws {@code e}. */
    public void failNext(KernelException e) {
        this.failNext = e;
    }

    /** Whether {@code address} is on {@code ifname}. */
    public boolean has(String ifname, InetAddress address) {
        return present.containsKey(key(ifname, address));
    }

    /** Every add / remove call, in order. */
    public List<String> log() {
        return List.copyOf(log);
    }

    public void clearLog() {
        log.clear();
    }

    @Override
    public void add(VirtualAddress address) throws KernelException {
        log.add("add " + address);
        failIfAsked("RTM_NEWADDR");
        present.put(key(address.ifname(), address.address()), new InterfaceAddress(address.ifname(), 1,
                address.address(), address.prefixLength(), address.scope(), false, address.label()));
    }

    @Override
    public void remove(VirtualAddress address) throws KernelException {
        log.add("remove " + address);
        failIfAsked("RTM_DELADDR");
        present.remove(key(address.ifname(), address.address()));
    }

    @Override
    public List<InterfaceAddress> addresses() {
        return List.copyOf(present.values());
    }

    private void failIfAsked(String call) throws KernelException {
        if (failNext != null) {
            KernelException e = failNext;
            failNext = null;
            throw e;
        }
    }

    private static String key(String ifname, InetAddress address) {
        return ifname + " " + address.getHostAddress();
    }
}
