package dev.vigil.vrrp.codec;

import java.net.InetAddress;
import java.security.MessageDigest;
import java.util.List;
import java.util.Objects;

/**
 * The receive checks of one VRRP instance (RFC 3768 §7.1, RFC 5798 §7.1), in this order:
 * multicast/unicast mode, TTL (multicast only), {@link VrrpCodec#decode decoding} (length, version,
 * type, count against length, interval, checksum), version, VRID, then for version 2 the
 * authentication type and password (compared in constant time) and the advertisement interval.
 *
 * <p>The address list is compared by {@link #addressesMatch(VrrpAdvert)}: keepalived only counts
 * and logs a mismatch, and so does the runtime by default; with
 * {@link Expectations#strictAddressCheck()} a version 2 advert whose list differs is dropped unless
 * it comes from the owner (priority 255), as RFC 3768 §7.1 says.
 *
 * <p>Immutable and thread-safe.
 */
public final class ReceiveValidator {

    /**
     * What an instance expects of received adverts.
     *
     * @param version            2 or 3
     * @param vrid               1..255
     * @param authType           version 2 auth type (0 none, 1 password); 0 for version 3
     * @param authData           version 2: the 8 padded password bytes (zeros for none); ignored for version 3
     * @param advertInterval     version 2 interval in seconds (must match, RFC 3768 §7.1); ignored for version 3
     * @param addresses          the instance's virtual addresses
     * @param checksumMode       how version 3 IPv4 checksums are verified
     * @param multicastGroup     the group adverts are sent to, or {@code null} in unicast mode
     * @param strictAddressCheck drop version 2 adverts whose address list differs (RFC 3768 §7.1)
     */
    public record Expectations(int version, int vrid, int authType, byte[] authData, int advertInterval,
                               List<InetAddress> addresses, ChecksumMode checksumMode, InetAddress multicastGroup,
                               boolean strictAddressCheck) {
        public Expectations {
            Objects.requireNonNull(addresses, "addresses");
            Objects.requireNonNull(checksumMode, "checksumMode");
            addresses = List.copyOf(addresses);
            authData = authData == null ? new byte[VrrpAdvert.AUTH_DATA_LENGTH] : authData.clone();
        }
    }

    /** TTL / hop limit multicast adverts must arrive with (RFC 5798 §7.1, RFC 3768 §7.1). */
    public static final int REQUIRED_TTL = 255;

    private final Expectations expected;

    public ReceiveValidator(Expectations expected) {
        this.expected = Objects.requireNonNull(expected, "expected");
    }

    public Expectations expectations() {
        return expected;
    }

    /**
     * Checks one received message.
     *
     * @param payload the VRRP message
     * @param src     IP source
     * @param dst     IP destination
     * @param ttl     IPv4 TTL or IPv6 hop limit as received
     */
    public DecodeResult validate(byte[] payload, InetAddress src, InetAddress dst, int ttl) {
        boolean multicast = dst.isMulticastAddress();
        if (expected.multicastGroup() == null && multicast) {
            return new DecodeResult.Error(DecodeError.MODE_MISMATCH, "multicast advert to " + dst.getHostAddress()
                    + " (expected: unicast)");
        }
        if (expected.multicastGroup() != null && !dst.equals(expected.multicastGroup())) {
            return new DecodeResult.Error(DecodeError.MODE_MISMATCH, "advert to " + dst.getHostAddress()
                    + " (expected: multicast to " + expected.multicastGroup().getHostAddress() + ")");
        }
        // RFC 5798 §7.1 / RFC 3768 §7.1: TTL must be 255. A unicast advert may cross a router.
        if (multicast && ttl != REQUIRED_TTL) {
            return new DecodeResult.Error(DecodeError.BAD_TTL, "bad ttl: " + ttl + " (expected: 255)");
        }
        DecodeResult decoded = VrrpCodec.decode(payload, src, dst, expected.checksumMode());
        if (!(decoded instanceof DecodeResult.Ok(VrrpAdvert advert))) {
            return decoded;
        }
        if (advert.version() != expected.version()) {
            return new DecodeResult.Error(DecodeError.BAD_VERSION, "bad version: " + advert.version()
                    + " (expected: " + expected.version() + ")");
        }
        if (advert.vrid() != expected.vrid()) {
            return new DecodeResult.Error(DecodeError.VRID_MISMATCH, "vrid mismatch: " + advert.vrid()
                    + " (expected: " + expected.vrid() + ")");
        }
        if (advert.version() == 2) {
            // RFC 3768 §7.1 (with RFC 2338 §5.3.6.1): the auth type must match; for a simple
            // password the 8 bytes must match.
            if (advert.authType() != expected.authType()) {
                return new DecodeResult.Error(DecodeError.AUTH_MISMATCH, "auth type mismatch: " + advert.authType()
                        + " (expected: " + expected.authType() + ")");
            }
            if (advert.authType() == VrrpAdvert.AUTH_PASS
                    && !MessageDigest.isEqual(advert.authDataUnsafe(), expected.authData)) {
                return new DecodeResult.Error(DecodeError.AUTH_MISMATCH, "auth password mismatch");
            }
            if (advert.authType() == VrrpAdvert.AUTH_AH) {
                return new DecodeResult.Error(DecodeError.AUTH_MISMATCH, "auth type 2 (IP AH) is not supported");
            }
            // RFC 3768 §7.1: MUST discard when the interval differs from the configured one.
            if (advert.advertInterval() != expected.advertInterval()) {
                return new DecodeResult.Error(DecodeError.BAD_ADVERT_INT, "bad advert interval: "
                        + advert.advertInterval() + " s (expected: " + expected.advertInterval() + " s)");
            }
            if (expected.strictAddressCheck() && advert.priority() != 255 && !addressesMatch(advert)) {
                return new DecodeResult.Error(DecodeError.ADDRESS_MISMATCH, addressMismatchMessage(advert));
            }
        }
        return decoded;
    }

    /** Whether the advert carries exactly the instance's addresses, in any order. */
    public boolean addressesMatch(VrrpAdvert advert) {
        List<InetAddress> got = advert.addresses();
        List<InetAddress> want = expected.addresses();
        if (got.size() != want.size()) {
            return false;
        }
        for (InetAddress a : got) {
            if (!want.contains(a)) {
                return false;
            }
        }
        return true;
    }

    /** The message reported for an address-list mismatch. */
    public String addressMismatchMessage(VrrpAdvert advert) {
        return "address list mismatch: " + hosts(advert.addresses()) + " (expected: " + hosts(expected.addresses()) + ")";
    }

    private static String hosts(List<InetAddress> addresses) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < addresses.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(addresses.get(i).getHostAddress());
        }
        return sb.append(']').toString();
    }
}
