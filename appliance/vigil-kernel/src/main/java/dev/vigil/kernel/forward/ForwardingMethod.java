package dev.vigil.kernel.forward;

/**
 * How a destination receives packets ({@code lvs_method}): NAT rewrites the destination address,
 * DR rewrites only the link-layer address, TUN encapsulates.
 */
public enum ForwardingMethod { NAT, DR, TUN }
