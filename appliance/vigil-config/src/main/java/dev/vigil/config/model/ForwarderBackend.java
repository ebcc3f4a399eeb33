package dev.vigil.config.model;

/**
 * Which kernel facility carries the {@code virtual_server}s ({@code global_defs vigil_forwarder}).
 */
public enum ForwarderBackend {
    /** IPVS when the kernel has it (the generic-netlink family "IPVS" resolves), else nftables. */
    AUTO,
    /** IPVS over generic netlink. */
    IPVS,
    /** NAT rules in nftables tables Vigil owns. */
    NFTABLES
}
