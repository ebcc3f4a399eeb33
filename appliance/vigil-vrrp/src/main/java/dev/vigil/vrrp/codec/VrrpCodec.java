package dev.vigil.vrrp.codec;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Encodes and decodes VRRP messages (the IP payload only; the kernel builds the IP header).
 *
 * <p>Checksums (16-bit one's complement of the one's complement sum, RFC 1071):
 * <ul>
 *   <li>version 2: over the VRRP message only (RFC 3768 §5.3.8);</li>
 *   <li>version 3, IPv4: over the IPv4 pseudo-header {source, destination, 0, 112, VRRP length}
 *       and the message (RFC 5798 §5.2.8), or over the message only with
 *       {@link ChecksumMode#NO_PSEUDO_HEADER};</li>
 *   <li>version 3, IPv6: over the IPv6 pseudo-header {source, destination, 32-bit length,
 *       3 zero bytes, next header 112} and the message (RFC 8200 §8.1).</li>
 * </ul>
 * The destination in the pseudo-header is the packet's real destination: the multicast group,
 * or the peer address in unicast mode.
 *
 * <p>Stateless and thread-safe. {@link #encode(VrrpAdvert, InetAddress, InetAddress, ChecksumMode, byte[], int)}
 * writes into a caller's buffer so a sender can reuse one array per instance.
 */
public final class VrrpCodec {

    /** IP protocol number of VRRP. */
    public static final int IPPROTO_VRRP = 112;
    /** Version, type, VRID, priority, count, auth type / interval, checksum. */
    public static final int HEADER_LENGTH = 8;

    private VrrpCodec() {
    }

    /**
     * Encodes {@code advert} (its {@code checksum} field is ignored and computed) into a new array.
     *
     * @param src the IP source the message will carry (used by the version 3 pseudo-header)
     * @param dst the IP destination (group or unicast peer)
     */
    public static byte[] encode(VrrpAdvert advert, InetAddress src, InetAddress dst, ChecksumMode mode) {
        byte[] out = new byte[advert.encodedLength()];
        encode(advert, src, dst, mode, out, 0);
        return out;
    }

    /**
     * Encodes {@code advert} into {@code out} at {@code offset}.
     *
     * @return the number of bytes written ({@link VrrpAdvert#encodedLength()})
     * @throws IndexOutOfBoundsException if {@code out} is too short
     */
    public static int encode(VrrpAdvert advert, InetAddress src, InetAddress dst, ChecksumMode mode,
                             byte[] out, int offset) {
        Objects.requireNonNull(mode, "mode");
        int length = advert.encodedLength();
        Objects.checkFromIndexSize(offset, length, out.length);
        int p = offset;
        out[p++] = (byte) (advert.version() << 4 | advert.type());
        out[p++] = (byte) advert.vrid();
        out[p++] = (byte) advert.priority();
        out[p++] = (byte) advert.addresses().size();
        if (advert.version() == 2) {
            out[p++] = (byte) advert.authType();
            out[p++] = (byte) advert.advertInterval();
        } else {
            // RFC 5798 §5.2.5: the 4 reserved bits are sent as zero.
            out[p++] = (byte) (advert.advertInterval() >>> 8 & 0x0f);
            out[p++] = (byte) advert.advertInterval();
        }
        out[p++] = 0;
        out[p++] = 0;
        for (InetAddress a : advert.addresses()) {
            byte[] raw = a.getAddress();
            System.arraycopy(raw, 0, out, p, raw.length);
            p += raw.length;
        }
        if (advert.version() == 2) {
            System.arraycopy(advert.authDataUnsafe(), 0, out, p, VrrpAdvert.AUTH_DATA_LENGTH);
        }
        int checksum = checksum(advert.version(), out, offset, length, src, dst, mode, true);
        out[offset + 6] = (byte) (checksum >>> 8);
        out[offset + 7] = (byte) checksum;
        return length;
    }

    /** Decodes a whole array. See {@link #decode(byte[], int, int, InetAddress, InetAddress, ChecksumMode)}. */
    public static DecodeResult decode(byte[] msg, InetAddress src, InetAddress dst, ChecksumMode mode) {
        return decode(msg, 0, msg.length, src, dst, mode);
    }

    /**
     * Decodes and checks the parts of a message that need no instance configuration: length,
     * version, type, address count against length, advertisement interval and checksum. The address
     * family is the family of {@code src}.
     */
    public static DecodeResult decode(byte[] msg, int offset, int length, InetAddress src, InetAddress dst,
                                      ChecksumMode mode) {
        Objects.checkFromIndexSize(offset, length, msg.length);
        if (length < HEADER_LENGTH) {
            return new DecodeResult.Error(DecodeError.TRUNCATED,
                    "truncated advert: " + length + " bytes (expected: at least " + HEADER_LENGTH + ")");
        }
        int version = (msg[offset] & 0xff) >>> 4;
        int type = msg[offset] & 0x0f;
        boolean ipv6 = src instanceof Inet6Address;
        if (version != 2 && version != 3) {
            return new DecodeResult.Error(DecodeError.BAD_VERSION, "bad version: " + version + " (expected: 2 or 3)");
        }
        if (version == 2 && ipv6) {
            return new DecodeResult.Error(DecodeError.BAD_VERSION, "bad version: 2 (expected: 3 over IPv6)");
        }
        if (type != VrrpAdvert.TYPE_ADVERTISEMENT) {
            return new DecodeResult.Error(DecodeError.BAD_TYPE, "bad type: " + type + " (expected: 1)");
        }
        int count = msg[offset + 3] & 0xff;
        int addressLength = ipv6 ? 16 : 4;
        int expected = HEADER_LENGTH + count * addressLength + (version == 2 ? VrrpAdvert.AUTH_DATA_LENGTH : 0);
        if (length < expected) {
            return new DecodeResult.Error(DecodeError.TRUNCATED, "truncated advert: " + length + " bytes for "
                    + count + (ipv6 ? " IPv6" : " IPv4") + " addresses (expected: " + expected + ")");
        }
        if (length > expected) {
            return new DecodeResult.Error(DecodeError.BAD_LENGTH, "bad length: " + length + " bytes for "
                    + count + (ipv6 ? " IPv6" : " IPv4") + " addresses (expected: " + expected + ")");
        }
        int interval = version == 2 ? msg[offset + 5] & 0xff
                : ((msg[offset + 4] & 0x0f) << 8) | (msg[offset + 5] & 0xff);
        if (interval == 0) {
            return new DecodeResult.Error(DecodeError.BAD_ADVERT_INT,
                    "bad advert interval: 0 (expected: > 0)");
        }
        int received = ((msg[offset + 6] & 0xff) << 8) | (msg[offset + 7] & 0xff);
        // Summed with a correct checksum in place, the folded complement is zero (RFC 1071 §1).
        if (checksum(version, msg, offset, length, src, dst, mode, false) != 0) {
            return new DecodeResult.Error(DecodeError.BAD_CHECKSUM, String.format("bad checksum: 0x%04x (expected: 0x%04x)",
                    received, checksum(version, msg, offset, length, src, dst, mode, true)));
        }
        List<InetAddress> addresses = new ArrayList<>(count);
        int p = offset + HEADER_LENGTH;
        try {
            for (int i = 0; i < count; i++) {
                byte[] raw = new byte[addressLength];
                System.arraycopy(msg, p, raw, 0, addressLength);
                addresses.add(InetAddress.getByAddress(raw));
                p += addressLength;
            }
        } catch (UnknownHostException e) {
            throw new AssertionError("raw address of length " + addressLength, e);
        }
        byte[] authData;
        int authType;
        if (version == 2) {
            authType = msg[offset + 4] & 0xff;
            authData = new byte[VrrpAdvert.AUTH_DATA_LENGTH];
            System.arraycopy(msg, p, authData, 0, VrrpAdvert.AUTH_DATA_LENGTH);
        } else {
            authType = 0;
            authData = new byte[0];
        }
        return new DecodeResult.Ok(new VrrpAdvert(version, type, msg[offset + 1] & 0xff, msg[offset + 2] & 0xff,
                addresses, interval, authType, authData, received));
    }

    /**
     * The folded one's complement checksum over the message, plus the pseudo-header when the version,
     * family and mode call for it. With {@code skipField} the checksum field counts as zero (the value
     * to send); without it, a message whose checksum is correct gives 0.
     */
    static int checksum(int version, byte[] msg, int offset, int length, InetAddress src, InetAddress dst,
                        ChecksumMode mode, boolean skipField) {
        long sum = skipField
                ? sum(msg, offset + HEADER_LENGTH, length - HEADER_LENGTH, sum(msg, offset, 6, 0))
                : sum(msg, offset, length, 0);
        if (version == 3) {
            if (src instanceof Inet6Address) {
                // RFC 8200 §8.1: source, destination, 32-bit upper-layer length, 3 zero bytes, next header.
                sum = addAddress(sum, src);
                sum = addAddress(sum, dst);
                sum += (length >>> 16) + (length & 0xffff) + IPPROTO_VRRP;
            } else if (mode == ChecksumMode.PSEUDO_HEADER) {
                // RFC 5798 §5.2.8 with the IPv4 pseudo-header of RFC 768: source, destination, zero,
                // protocol, length.
                sum = addAddress(sum, src);
                sum = addAddress(sum, dst);
                sum += IPPROTO_VRRP + length;
            }
        }
        return fold(sum);
    }

    /** The 16-bit word sum of an address, for {@link #checksumWithSums}. */
    static long addressSum(InetAddress address) {
        return addAddress(0, address);
    }

    /**
     * As {@link #checksum} over a message whose checksum field is in place (0 when correct), with the
     * address sums of source and destination already computed, so a receiver can cache them.
     */
    static int verifySum(int version, byte[] msg, int offset, int length, boolean ipv6, long srcSum, long dstSum,
                         ChecksumMode mode) {
        long sum = sum(msg, offset, length, 0);
        if (version == 3 && (ipv6 || mode == ChecksumMode.PSEUDO_HEADER)) {
            sum += srcSum + dstSum + (ipv6 ? (length >>> 16) + (length & 0xffff) + IPPROTO_VRRP : IPPROTO_VRRP + length);
        }
        return fold(sum);
    }

    private static long addAddress(long sum, InetAddress address) {
        Objects.requireNonNull(address, "address");
        byte[] raw = address.getAddress();
        return sum(raw, 0, raw.length, sum);
    }

    private static long sum(byte[] b, int offset, int length, long sum) {
        int end = offset + length - 1;
        int i = offset;
        for (; i < end; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if (i == end) {
            sum += (b[i] & 0xff) << 8;
        }
        return sum;
    }

    private static int fold(long sum) {
        while (sum >>> 16 != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /**
     * Compares two addresses as unsigned integers (RFC 5798 §6.4.3 tie-break on the primary
     * address); an IPv4 address sorts before any IPv6 address.
     */
    public static int compareAddresses(InetAddress a, InetAddress b) {
        byte[] x = a.getAddress();
        byte[] y = b.getAddress();
        if (x.length != y.length) {
            return Integer.compare(x.length, y.length);
        }
        return java.util.Arrays.compareUnsigned(x, y);
    }

}
