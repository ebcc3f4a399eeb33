package dev.vigil.daemon.forward;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An address as {@code inet_ntop(3)} (glibc) writes it, the form ipvsadm and keepalived print:
 * IPv4 dotted; IPv6 in the canonical text of RFC 5952 §4 (lowercase hexadecimal without leading
 * zeros, the longest run of two or more zero groups, the first of equal runs, shortened to
 * {@code ::}), with an IPv4-compatible or IPv4-mapped address ending in dotted IPv4 and no scope.
 * Java's own {@link InetAddress#getHostAddress()} writes every IPv6 group ({@code 2001:db8:0:0:0:0:0:1}).
 */
final class AddressText {

    private AddressText() {
    }

    /** The text of {@code address}. */
    static String of(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return dotted(b, 0);
        }
        int[] words = new int[8];
        for (int i = 0; i < 8; i++) {
            words[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // The longest run of zero groups; a single zero group stays as it is (RFC 5952 §4.2.2).
        int best = -1;
        int bestLength = 0;
        for (int i = 0; i < 8; ) {
            if (words[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && words[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                best = i;
                bestLength = j - i;
            }
            i = j;
        }
        if (bestLength < 2) {
            best = -1;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (i > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            // ::a.b.c.d and ::ffff:a.b.c.d keep their IPv4 part dotted, as glibc writes them.
            if (i == 6 && best == 0 && (bestLength == 6 || bestLength == 5 && words[5] == 0xffff)) {
                out.append(dotted(b, 12));
                break;
            }
            out.append(Integer.toHexString(words[i]));
        }
        return out.toString();
    }

    private static String dotted(byte[] b, int at) {
        return (b[at] & 0xff) + "." + (b[at + 1] & 0xff) + "." + (b[at + 2] & 0xff) + "." + (b[at + 3] & 0xff);
    }
}
