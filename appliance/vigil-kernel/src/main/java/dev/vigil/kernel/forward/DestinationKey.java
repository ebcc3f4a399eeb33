package dev.vigil.kernel.forward;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * What identifies a destination within its service: the real server's address and port.
 *
 * @param address the real server address
 * @param port    the real server port (0 = the client's destination port, as for fwmark services)
 */
public record DestinationKey(InetAddress address, int port) implements Comparable<DestinationKey> {
    public DestinationKey {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port);
        }
    }

    /** Orders by address (unsigned bytes), then port; written out for the reason {@link ServiceKey#compareTo} is. */
    @Override
    public int compareTo(DestinationKey o) {
        int c = address == o.address ? 0 : Arrays.compareUnsigned(address.getAddress(), o.address.getAddress());
        return c != 0 ? c : Integer.compare(port, o.port);
    }

    @Override
    public String toString() {
        String a = address.getHostAddress();
        return (a.contains(":") ? "[" + a + "]" : a) + ":" + port;
    }
}
