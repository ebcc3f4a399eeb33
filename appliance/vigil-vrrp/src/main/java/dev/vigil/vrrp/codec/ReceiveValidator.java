package dev.vigil.vrrp.codec;

import java.net.InetAddress;
import java.util.Arrays;
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

    /**
     * The outcome of {@link #check}: either an error with its message, or the fields of a valid
     * advert. Mutable and reused by one thread (the receiver's), together with the address sums it
     * caches for the checksum: adverts keep coming from the same master to the same group.
     */
    public static final class Checked {
        private DecodeError error;
        private String message;
        private int priority;
        private long advertIntervalNanos;
        private boolean addressesMatch;
        private InetAddress lastSrc;
        private long lastSrcSum;
        private InetAddress lastDst;
        private long lastDstSum;

        /** The drop reason, or {@code null} when the advert is valid. */
        public DecodeError error() {
            return error;
        }

        /** The drop message ({@code "bad ttl: 64 (expected: 255)"}), or {@code null} when valid. */
        public String message() {
            return message;
        }

        /** The advertised priority of a valid advert. */
        public int priority() {
            return priority;
        }

        /** The advertised interval of a valid advert. */
        public long advertIntervalNanos() {
            return advertIntervalNanos;
        }

        /** Whether a valid advert carries exactly the expected addresses ({@link #addressesMatch(VrrpAdvert)}). */
        public boolean addressesMatch() {
            return addressesMatch;
        }

        long srcSum(InetAddress src) {
            if (!src.equals(lastSrc)) {
                lastSrcSum = VrrpCodec.addressSum(src);
                lastSrc = src;
            }
            return lastSrcSum;
        }

        long dstSum(InetAddress dst) {
            if (!dst.equals(lastDst)) {
                lastDstSum = VrrpCodec.addressSum(dst);
                lastDst = dst;
            }
            return lastDstSum;
        }
    }

    private final Expectations expected;
    private final byte[][] rawAddresses;

    public ReceiveValidator(Expectations expected) {
        this.expected = Objects.requireNonNull(expected, "expected");
        this.rawAddresses = new byte[expected.addresses().size()][];
        for (int i = 0; i < rawAddresses.length; i++) {
            rawAddresses[i] = expected.addresses().get(i).getAddress();
        }
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

    /**
     * The checks of {@link #validate} without building a {@link VrrpAdvert} or any address: the
     * receive path of a running instance. The outcome goes to {@code out}; a dropped advert is
     * described exactly as {@link #validate} describes it.
     *
     * @return whether the advert is valid
     */
    public boolean check(byte[] payload, InetAddress src, InetAddress dst, int ttl, Checked out) {
        return check(payload, payload.length, src, dst, ttl, out);
    }

    /** As {@link #check(byte[], InetAddress, InetAddress, int, Checked)}, for the message in {@code payload[0 .. length)}. */
    public boolean check(byte[] payload, int length, InetAddress src, InetAddress dst, int ttl, Checked out) {
        if (quickCheck(payload, length, src, dst, ttl, out)) {
            out.error = null;
            out.message = null;
            return true;
        }
        // Dropped (or a case the quick path leaves to the full one): the full checks say why.
        switch (validate(length == payload.length ? payload : Arrays.copyOf(payload, length), src, dst, ttl)) {
            case DecodeResult.Error(DecodeError kind, String message) -> {
                out.error = kind;
                out.message = message;
                return false;
            }
            case DecodeResult.Ok(VrrpAdvert advert) -> {
                out.error = null;
                out.message = null;
                out.priority = advert.priority();
                out.advertIntervalNanos = advert.advertIntervalNanos();
                out.addressesMatch = addressesMatch(advert);
                return true;
            }
        }
    }

    private boolean quickCheck(byte[] msg, int length, InetAddress src, InetAddress dst, int ttl, Checked out) {
        InetAddress group = expected.multicastGroup();
        boolean multicast = dst.isMulticastAddress();
        if (group == null ? multicast : !dst.equals(group)) {
            return false;
        }
        if (multicast && ttl != REQUIRED_TTL) {
            return false;
        }
        if (length < VrrpCodec.HEADER_LENGTH || length > msg.length) {
            return false;
        }
        int version = (msg[0] & 0xff) >>> 4;
        boolean ipv6 = src instanceof java.net.Inet6Address;
        if (version != expected.version() || (msg[0] & 0x0f) != VrrpAdvert.TYPE_ADVERTISEMENT
                || version == 2 && ipv6 || (msg[1] & 0xff) != expected.vrid()) {
            return false;
        }
        int count = msg[3] & 0xff;
        int addressLength = ipv6 ? 16 : 4;
        int addressesEnd = VrrpCodec.HEADER_LENGTH + count * addressLength;
        if (length != addressesEnd + (version == 2 ? VrrpAdvert.AUTH_DATA_LENGTH : 0)) {
            return false;
        }
        int interval = version == 2 ? msg[5] & 0xff : ((msg[4] & 0x0f) << 8) | (msg[5] & 0xff);
        if (interval == 0) {
            return false;
        }
        if (VrrpCodec.verifySum(version, msg, 0, length, ipv6, out.srcSum(src), out.dstSum(dst),
                expected.checksumMode()) != 0) {
            return false;
        }
        boolean match = addressesMatch(msg, count, addressLength);
        if (version == 2) {
            int authType = msg[4] & 0xff;
            if (authType != expected.authType() || authType == VrrpAdvert.AUTH_AH
                    || interval != expected.advertInterval()) {
                return false;
            }
            if (authType == VrrpAdvert.AUTH_PASS) {
                // Constant time, as MessageDigest.isEqual.
                int diff = 0;
                for (int i = 0; i < VrrpAdvert.AUTH_DATA_LENGTH; i++) {
                    diff |= msg[addressesEnd + i] ^ expected.authData[i];
                }
                if (diff != 0) {
                    return false;
                }
            }
            if (expected.strictAddressCheck() && (msg[2] & 0xff) != 255 && !match) {
                return false;
            }
        }
        out.priority = msg[2] & 0xff;
        out.advertIntervalNanos = version == 2 ? interval * 1_000_000_000L : interval * 10_000_000L;
        out.addressesMatch = match;
        return true;
    }

    private boolean addressesMatch(byte[] msg, int count, int addressLength) {
        if (count != rawAddresses.length) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            int at = VrrpCodec.HEADER_LENGTH + i * addressLength;
            boolean found = false;
            for (byte[] want : rawAddresses) {
                if (want.length == addressLength
                        && java.util.Arrays.equals(msg, at, at + addressLength, want, 0, addressLength)) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    /** {@link #addressMismatchMessage(VrrpAdvert)} for a message that passed {@link #check}. */
    public String addressMismatchMessage(byte[] payload, InetAddress src, InetAddress dst) {
        if (VrrpCodec.decode(payload, src, dst, expected.checksumMode()) instanceof DecodeResult.Ok(VrrpAdvert a)) {
            return addressMismatchMessage(a);
        }
        return "address list mismatch";
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
