/**
 * Linux adapters for the kernel ports, all native access through jnr-ffi onto libc: raw IP
 * sockets for VRRP ({@link dev.vigil.kernel.linux.LinuxVrrpTransport}), rtnetlink for addresses
 * and links ({@link dev.vigil.kernel.linux.NetlinkAddressManager},
 * {@link dev.vigil.kernel.linux.NetlinkLinkMonitor}), AF_PACKET and ICMPv6 for neighbour
 * announcements ({@link dev.vigil.kernel.linux.PacketNeighbourAdvertiser}), and
 * {@link dev.vigil.kernel.linux.NetNs} for entering a network namespace.
 *
 * <p>Every socket belongs to the network namespace of the thread that created it. Every native
 * failure is a {@link dev.vigil.kernel.KernelException} carrying the call, errno, the
 * {@code strerror} text and what was being done.
 */
package dev.vigil.kernel.linux;
