package dev.vigil.vrrp.codec;

/**
 * How the VRRPv3 checksum over IPv4 is computed. VRRPv2 never uses a pseudo-header
 * (RFC 3768 §5.3.8) and VRRPv3 over IPv6 always does (RFC 5798 §5.2.8, RFC 8200 §8.1), so the
 * mode only changes VRRPv3 over IPv4.
 */
public enum ChecksumMode {
    /** RFC 5798 §5.2.8: the IPv4 pseudo-header is included. keepalived's default. */
    PSEUDO_HEADER,
    /**
     * The IPv4 pseudo-header is left out, as in VRRPv2 (keepalived {@code v3_checksum_as_v2}; the
     * interoperable form with several router vendors, see RFC 9568).
     */
    NO_PSEUDO_HEADER
}
