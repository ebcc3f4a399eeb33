package dev.vigil.kernel;

import java.net.InetAddress;

/** An address present on an interface, as dumped from the kernel. */
public record InterfaceAddress(String ifname, int ifindex, InetAddress address, int prefixLength, int scope,
                               boolean secondary, String label) {
}
