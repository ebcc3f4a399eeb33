package dev.vigil.kernel.forward;

import java.net.InetAddress;
import java.util.Arrays;
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

    /**
     * Orders by family, fwmark, address (unsigned bytes; none first), port, then protocol (none
     * first). Written out rather than composed from comparators: maps of thousands of services
     * compare keys often, also before the JIT has compiled anything.
     */
    @Override
    public int compareTo(ServiceKey o) {
        int c = family.compareTo(o.family);
        if (c == 0) {
            c = Integer.compare(fwmark, o.fwmark);
        }
        if (c == 0 && address != o.address) {
            c = address == null ? -1 : o.address == null ? 1 : Arrays.compareUnsigned(address.getAddress(), o.address.getAddress());
        }
        if (c == 0) {
            c = Integer.compare(port, o.port);
        }
        if (c == 0) {
            c = Integer.compare(protocol == null ? -1 : protocol.ordinal(), o.protocol == null ? -1 : o.protocol.ordinal());
        }
        return c;
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
