package dev.vigil.kernel;

import java.net.Inet4Address;
import java.net.InetAddress;

/** IPv4 or IPv6. */
public enum AddressFamily {
    INET, INET6;

    public static AddressFamily of(InetAddress address) {
        return address instanceof Inet4Address ? INET : INET6;
    }
}
