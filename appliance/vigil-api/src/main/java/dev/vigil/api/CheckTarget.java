package dev.vigil.api;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What one checker instance probes, with keepalived's connection options already resolved
 * (checker, then real server, then virtual server).
 *
 * @param name          stable display name of the checker's real server, e.g.
 *                      {@code [10.0.0.2]:80 of [10.0.0.1]:tcp:80}; also the subject of its log lines
 * @param address       where to connect: {@code connect_ip} and {@code connect_port}, else the real
 *                      server's address and port (port 0 when neither gives one, as for a
 *                      {@code PING_CHECK} of a fwmark service)
 * @param bindAddress   the local address and port to bind before connecting ({@code bindto},
 *                      {@code bind_port}; the address may be the wildcard when only the port is
 *                      given), or {@code null} to let the kernel choose
 * @param bindInterface {@code bind_if}: the interface to send from ({@code SO_BINDTODEVICE}), or {@code null}
 * @param fwmark        {@code fwmark}: the mark to set on the probe's packets ({@code SO_MARK}), or {@code null}
 */
public record CheckTarget(String name, InetSocketAddress address, InetSocketAddress bindAddress, String bindInterface,
                          Integer fwmark) {

    public CheckTarget {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
    }

    /** A target with no binding, interface or mark. */
    public static CheckTarget of(String name, InetSocketAddress address) {
        return new CheckTarget(name, address, null, null, null);
    }
}
