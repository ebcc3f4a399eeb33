/**
 * The IPVS {@link dev.vigil.kernel.forward.Forwarder}: a pure generic-netlink codec
 * ({@link dev.vigil.kernel.linux.ipvs.IpvsCodec}), the forwarder that reconciles the kernel's IPVS
 * table with a desired state ({@link dev.vigil.kernel.linux.ipvs.IpvsForwarder}), and the file
 * that records which services Vigil owns ({@link dev.vigil.kernel.linux.ipvs.ServiceRegistry}).
 */
package dev.vigil.kernel.linux.ipvs;
