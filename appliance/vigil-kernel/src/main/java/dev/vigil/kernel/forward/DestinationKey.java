package dev.vigil.kernel.forward;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/**
 * What identifies a destination within its service: the real server's address and port.
 *
 * @param address the real server address
 * @param port    the real server port (0 = the client's destination port, as for fwmark services)
 */
public record DestinationKey(InetAddress address, int port) implements Comparable<DestinationKey> {
    private static final Comparator<DestinationKey> ORDER = Comparator
            .comparing((DestinationKey k) -> k.address.getAddress(), Arrays::compareUnsigned)
            .thenComparingInt(DestinationKey::port);

    public DestinationKey {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port);
        }
    }

    @Override
    public int compareTo(DestinationKey o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        String a = address.getHostAddress();
        return (a.contains(":") ? "[" + a + "]" : a) + ":" + port;
    }
}
