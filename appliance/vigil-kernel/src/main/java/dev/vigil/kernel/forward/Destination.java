package dev.vigil.kernel.forward;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A real server behind a service.
 *
 * @param address        the real server address
 * @param port           the real server port
 * @param method         how packets reach it
 * @param weight         the scheduling weight; 0 keeps existing connections but sends it no new ones
 * @param upperThreshold connection count above which it gets no new connections (0 = none)
 * @param lowerThreshold connection count below which it is used again (0 = none)
 */
public record Destination(InetAddress address, int port, ForwardingMethod method, int weight,
                          int upperThreshold, int lowerThreshold) {
    public Destination {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(method, "method");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port);
        }
        if (weight < 0 || upperThreshold < 0 || lowerThreshold < 0) {
            throw new IllegalArgumentException("weight and thresholds must not be negative");
        }
    }

    /** A NAT destination with weight 1 and no thresholds. */
    public static Destination nat(InetAddress address, int port) {
        return new Destination(address, port, ForwardingMethod.NAT, 1, 0, 0);
    }

    /** This destination's identity within its service. */
    public DestinationKey key() {
        return new DestinationKey(address, port);
    }

    /** A copy with another weight. */
    public Destination withWeight(int newWeight) {
        return new Destination(address, port, method, newWeight, upperThreshold, lowerThreshold);
    }
}
