package dev.vigil.vrrp.codec;

/** Why a received VRRP message was dropped. Each kind is a separate drop counter. */
public enum DecodeError {
    /** Fewer bytes than the fixed header or than the address list needs. */
    TRUNCATED,
    /** The length does not match the address count (RFC 5798 §7.1, RFC 3768 §7.1). */
    BAD_LENGTH,
    /** Version is neither 2 nor 3, or not the instance's version. */
    BAD_VERSION,
    /** Type is not 1 (ADVERTISEMENT). */
    BAD_TYPE,
    /** The checksum does not verify. */
    BAD_CHECKSUM,
    /** A multicast advert arrived with a TTL / hop limit other than 255 (RFC 5798 §7.1). */
    BAD_TTL,
    /** Advertisement interval of zero, or a VRRPv2 interval other than ours (RFC 3768 §7.1). */
    BAD_ADVERT_INT,
    /** Authentication type or password differ from ours (RFC 3768 §7.1). */
    AUTH_MISMATCH,
    /** VRID differs from the instance's. */
    VRID_MISMATCH,
    /** VRRPv2: address count or list differs from ours and the sender is not the owner (RFC 3768 §7.1). */
    ADDRESS_MISMATCH,
    /** A multicast advert reached a unicast instance or the reverse. */
    MODE_MISMATCH,
    /** No instance is configured for the advert's VRID on the channel it arrived on. */
    UNKNOWN_VRID
}
