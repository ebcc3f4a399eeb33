package dev.vigil.vrrp.codec;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One VRRP ADVERTISEMENT message (RFC 3768 §5.1 for version 2, RFC 5798 §5.1 for version 3).
 *
 * <pre>
 * version 2 (IPv4 only)                     version 3 (IPv4 or IPv6)
 *  0       4       8              16              24             31
 * +-------+-------+---------------+---------------+---------------+
 * |Version| Type  |     VRID      |   Priority    | Count IPvX    |
 * +-------+-------+---------------+---------------+---------------+
 * v2: | Auth Type  | Adver Int (s) |           Checksum            |
 * v3: |Rsvd(4)| Max Adver Int (12 bits, cs)  |    Checksum        |
 * +---------------------------------------------------------------+
 * |             IPvX Address(es): 4 or 16 bytes each              |
 * +---------------------------------------------------------------+
 * v2 only: Authentication Data, 8 bytes (zero unless Auth Type 1)
 * </pre>
 *
 * @param version        2 or 3
 * @param type           1 (ADVERTISEMENT); other values only appear in messages that failed decoding
 * @param vrid           virtual router id 0..255 (configured ones are 1..255)
 * @param priority       0..255; 0 = the master stops, 255 = address owner
 * @param addresses      the virtual addresses, all of one family (IPv4 for version 2)
 * @param advertInterval version 2: seconds (8 bits); version 3: centiseconds (12 bits)
 * @param authType       version 2: 0 none, 1 simple password, 2 IP AH; always 0 for version 3
 * @param authData       version 2: the 8 authentication bytes; version 3: empty
 * @param checksum       the checksum as received, or as computed by {@link VrrpCodec#encode}
 */
public record VrrpAdvert(int version, int type, int vrid, int priority, List<InetAddress> addresses,
                         int advertInterval, int authType, byte[] authData, int checksum) {

    /** Type of the only VRRP message. */
    public static final int TYPE_ADVERTISEMENT = 1;
    /** RFC 3768 §5.3.6: no authentication. */
    public static final int AUTH_NONE = 0;
    /** RFC 3768 §5.3.6.1: simple text password. */
    public static final int AUTH_PASS = 1;
    /** RFC 2338 §5.3.6.2: IP Authentication Header (not implemented; adverts using it are dropped). */
    public static final int AUTH_AH = 2;
    /** Length of the version 2 authentication data. */
    public static final int AUTH_DATA_LENGTH = 8;

    private static final byte[] NO_AUTH_DATA = new byte[0];
    private static final byte[] ZERO_AUTH_DATA = new byte[AUTH_DATA_LENGTH];

    public VrrpAdvert {
        Objects.requireNonNull(addresses, "addresses");
        Objects.requireNonNull(authData, "authData");
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("version: " + version + " (expected: 2 or 3)");
        }
        checkRange("type", type, 0, 15);
        checkRange("vrid", vrid, 0, 255);
        checkRange("priority", priority, 0, 255);
        checkRange("addresses.size()", addresses.size(), 0, 255);
        checkRange("advertInterval", advertInterval, 0, version == 2 ? 255 : 4095);
        checkRange("authType", authType, 0, 255);
        checkRange("checksum", checksum, 0, 0xffff);
        addresses = List.copyOf(addresses);
        if (!addresses.isEmpty()) {
            Class<?> family = addresses.getFirst().getClass();
            for (InetAddress a : addresses) {
                if (a.getClass() != family) {
                    throw new IllegalArgumentException("addresses: " + addresses + " (expected: one address family)");
                }
            }
            if (version == 2 && !(addresses.getFirst() instanceof Inet4Address)) {
                throw new IllegalArgumentException("addresses: " + addresses + " (expected: IPv4 for version 2)");
            }
        }
        if (version == 2 && authData.length != AUTH_DATA_LENGTH) {
            throw new IllegalArgumentException("authData.length: " + authData.length + " (expected: 8)");
        }
        if (version == 3 && (authData.length != 0 || authType != 0)) {
            throw new IllegalArgumentException("authType: " + authType + " (expected: 0 and no auth data for version 3)");
        }
        authData = authData.length == 0 ? NO_AUTH_DATA : authData.clone();
    }

    /**
     * A version 2 advert.
     *
     * @param password {@code null} for no authentication, else up to 8 bytes (zero padded;
     *                 RFC 3768 §5.3.6.1)
     */
    public static VrrpAdvert v2(int vrid, int priority, int advertSeconds, byte[] password, List<InetAddress> addresses) {
        if (password == null) {
            return new VrrpAdvert(2, TYPE_ADVERTISEMENT, vrid, priority, addresses, advertSeconds, AUTH_NONE, ZERO_AUTH_DATA, 0);
        }
        return new VrrpAdvert(2, TYPE_ADVERTISEMENT, vrid, priority, addresses, advertSeconds, AUTH_PASS, padPassword(password), 0);
    }

    /** A version 3 advert; the interval is in centiseconds. */
    public static VrrpAdvert v3(int vrid, int priority, int advertCentiseconds, List<InetAddress> addresses) {
        return new VrrpAdvert(3, TYPE_ADVERTISEMENT, vrid, priority, addresses, advertCentiseconds, AUTH_NONE, NO_AUTH_DATA, 0);
    }

    /** A password as carried in Authentication Data: at most 8 bytes, zero padded (RFC 3768 §5.3.6.1). */
    public static byte[] padPassword(byte[] password) {
        if (password.length > AUTH_DATA_LENGTH) {
            throw new IllegalArgumentException("password length: " + password.length + " (expected: <= 8)");
        }
        return Arrays.copyOf(password, AUTH_DATA_LENGTH);
    }

    /** The advertisement interval as a duration (seconds for version 2, centiseconds for version 3). */
    public Duration advertIntervalDuration() {
        return version == 2 ? Duration.ofSeconds(advertInterval) : Duration.ofMillis(advertInterval * 10L);
    }

    /** The advertisement interval in nanoseconds. */
    public long advertIntervalNanos() {
        return version == 2 ? advertInterval * 1_000_000_000L : advertInterval * 10_000_000L;
    }

    /** The authentication data (a copy). */
    @Override
    public byte[] authData() {
        return authData.clone();
    }

    /** Length in bytes of this message on the wire. */
    public int encodedLength() {
        int addressLength = addresses.isEmpty() || addresses.getFirst() instanceof Inet4Address ? 4 : 16;
        return 8 + addresses.size() * addressLength + (version == 2 ? AUTH_DATA_LENGTH : 0);
    }

    /** The same advert with another priority (the checksum is left as it is). */
    public VrrpAdvert withPriority(int newPriority) {
        return newPriority == priority ? this
                : new VrrpAdvert(version, type, vrid, newPriority, addresses, advertInterval, authType, authData, checksum);
    }

    /** The same advert with another checksum. */
    public VrrpAdvert withChecksum(int newChecksum) {
        return newChecksum == checksum ? this
                : new VrrpAdvert(version, type, vrid, priority, addresses, advertInterval, authType, authData, newChecksum);
    }

    boolean authDataEquals(byte[] other) {
        return java.security.MessageDigest.isEqual(authData, other);
    }

    byte[] authDataUnsafe() {
        return authData;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VrrpAdvert a && version == a.version && type == a.type && vrid == a.vrid
                && priority == a.priority && advertInterval == a.advertInterval && authType == a.authType
                && checksum == a.checksum && addresses.equals(a.addresses) && Arrays.equals(authData, a.authData);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, type, vrid, priority, addresses, advertInterval, authType, checksum)
                * 31 + Arrays.hashCode(authData);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("VrrpAdvert[v").append(version).append(" vrid ").append(vrid)
                .append(" prio ").append(priority).append(" int ").append(advertInterval)
                .append(version == 2 ? "s" : "cs").append(" addrs [");
        for (int i = 0; i < addresses.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(addresses.get(i).getHostAddress());
        }
        sb.append(']');
        if (version == 2) {
            sb.append(" auth ").append(authType);
        }
        return sb.append(" csum 0x").append(String.format("%04x", checksum)).append(']').toString();
    }

    private static void checkRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: " + min + ".." + max + ")");
        }
    }
}
