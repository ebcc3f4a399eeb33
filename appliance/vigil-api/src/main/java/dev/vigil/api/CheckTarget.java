package dev.vigil.api;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What a health checker probes: the real server and the address actually connected to
 * ({@code connect_ip}/{@code connect_port} may differ from the real server's).
 *
 * @param name    stable display name, e.g. {@code [10.0.0.2]:tcp:80}
 * @param address the address and port to probe
 */
public record CheckTarget(String name, InetSocketAddress address) {
    public CheckTarget {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
    }
}
