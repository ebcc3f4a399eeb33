package dev.vigil.vrrp.testkit;

import dev.vigil.kernel.NeighbourAdvertiser;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;

/** Records announcements as {@code "garp eth0 10.0.0.100"} / {@code "na eth0 2001:db8::1"}. */
public final class FakeNeighbourAdvertiser implements NeighbourAdvertiser {

    private final List<String> log = new ArrayList<>();

    public List<String> log() {
        return List.copyOf(log);
    }

    public void clearLog() {
        log.clear();
    }

    @Override
    public void gratuitousArp(String ifname, Inet4Address address) {
        log.add("garp " + ifname + " " + address.getHostAddress());
    }

    @Override
    public void unsolicitedNeighbourAdvert(String ifname, Inet6Address address) {
        log.add("na " + ifname + " " + address.getHostAddress());
    }
}
