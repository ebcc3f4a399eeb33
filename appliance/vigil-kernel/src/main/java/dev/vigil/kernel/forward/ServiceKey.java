package dev.vigil.kernel.forward;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

import dev.vigil.kernel.AddressFamily;

/**
 * What identifies a virtual service: either address + port + protocol, or a firewall mark and an
 * address family (as IPVS keys its services).
 *
 * @param family   the address family
 * @param protocol the protocol, or {@code null} for a fwmark service
 * @param address  the virtual address, or {@code null} for a fwmark service
 * @param port     the virtual port (0 for a fwmark service)
 * @param fwmark   the firewall mark, or 0 for an address service
 */
public record ServiceKey(AddressFamily family, Protocol protocol, InetAddress address, int port, int fwmark)
        implements Comparable<ServiceKey> {

    private static final Comparator<ServiceKey> ORDER = Comparator
            .comparing(ServiceKey::family)
            .thenComparingInt(ServiceKey::fwmark)
            .thenComparing(k -> k.address == null ? new byte[0] : k.address.getAddress(), Arrays::compareUnsigned)
            .thenComparingInt(ServiceKey::port)
            .thenComparing(k -> k.protocol == null ? -1 : k.protocol.ordinal());

    public ServiceKey {
        Objects.requireNonNull(family, "family");
        if (fwmark != 0) {
            if (address != null || protocol != null || port != 0) {
                throw new IllegalArgumentException("a fwmark service has no address, protocol or port");
            }
        } else {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(protocol, "protocol");
            if (AddressFamily.of(address) != family) {
                throw new IllegalArgumentException(address + " is not " + family);
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port);
            }
        }
    }

    /** An address service. */
    public static ServiceKey of(InetAddress address, int port, Protocol protocol) {
        return new ServiceKey(AddressFamily.of(address), protocol, address, port, 0);
    }

    /** A fwmark service ({@code fwmark} must be positive). */
    public static ServiceKey fwmark(int fwmark, AddressFamily family) {
        if (fwmark <= 0) {
            throw new IllegalArgumentException("fwmark must be positive: " + fwmark);
        }
        return new ServiceKey(family, null, null, 0, fwmark);
    }

    /** Whether this is a fwmark service. */
    public boolean isFwmark() {
        return fwmark != 0;
    }

    @Override
    public int compareTo(ServiceKey o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        if (isFwmark()) {
            return "fwmark " + fwmark + (family == AddressFamily.INET6 ? " inet6" : "");
        }
        String a = address.getHostAddress();
        return protocol + " " + (family == AddressFamily.INET6 ? "[" + a + "]" : a) + ":" + port;
    }
}
