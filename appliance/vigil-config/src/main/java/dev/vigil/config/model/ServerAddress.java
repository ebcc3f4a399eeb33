package dev.vigil.config.model;

import java.net.InetAddress;

/**
 * An address with an optional port.
 *
 * @param address the address
 * @param port    the port, or {@code null}
 */
public record ServerAddress(InetAddress address, Integer port) {
    @Override
    public String toString() {
        String a = address.getHostAddress();
        return port == null ? a : (a.contains(":") ? "[" + a + "]" : a) + ":" + port;
    }
}
