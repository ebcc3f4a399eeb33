package dev.vigil.kernel.linux.nft;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes a sequence of netlink messages into one growing byte array, the way a batch goes to the
 * kernel: each message a 16-byte header ({@code nlmsghdr}, host order), a 4-byte family header and
 * attributes aligned to 4 bytes ({@code NLA_ALIGNTO}), nests flagged {@code NLA_F_NESTED}. Lengths
 * are filled in when a message or nest ends; sequence numbers are left 0 for the socket to set.
 * Thousands of messages cost one array, not an object each.
 */
final class NlWriter {
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final int NLA_F_NESTED = 0x8000;

    private byte[] b = new byte[4096];
    private int n;
    private int messageStart = -1;
    private int[] nests = new int[16];
    private int depth;
    private int[] starts = new int[64];
    private int count;

    /** Starts a message: header with {@code type} and {@code flags}, then the 4-byte family header. */
    NlWriter begin(int type, int flags, int family, int resId) {
        if (messageStart >= 0) {
            throw new IllegalStateException("message not ended");
        }
        messageStart = n;
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
        }
        starts[count++] = n;
        ensure(20);
        n += 4;
        host16(type);
        host16(flags);
        n += 8;
        b[n++] = (byte) family;
        b[n++] = 0;
        b[n++] = (byte) (resId >>> 8);
        b[n++] = (byte) resId;
        return this;
    }

    /** Ends the message: fills in its length. */
    NlWriter end() {
        if (depth != 0) {
            throw new IllegalStateException(depth + " nest(s) not closed");
        }
        putHost32(messageStart, n - messageStart);
        messageStart = -1;
        return this;
    }

    NlWriter nest(int type) {
        if (depth == nests.length) {
            nests = Arrays.copyOf(nests, depth * 2);
        }
        nests[depth++] = n;
        ensure(4);
        n += 2;
        host16(type | NLA_F_NESTED);
        return this;
    }

    NlWriter endNest() {
        int at = nests[--depth];
        putHost16(at, n - at);
        return this;
    }

    /** A big-endian 32-bit attribute, as nf_tables takes its integers. */
    NlWriter be32(int type, int v) {
        header(type, 4);
        b[n++] = (byte) (v >>> 24);
        b[n++] = (byte) (v >>> 16);
        b[n++] = (byte) (v >>> 8);
        b[n++] = (byte) v;
        return this;
    }

    /** A big-endian 64-bit attribute. */
    NlWriter be64(int type, long v) {
        header(type, 8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            b[n++] = (byte) (v >>> shift);
        }
        return this;
    }

    /** A NUL-terminated string attribute. */
    NlWriter string(int type, String s) {
        int len = s.length();
        for (int i = 0; i < len; i++) {
            if (s.charAt(i) >= 0x80) {
                byte[] u = s.getBytes(StandardCharsets.UTF_8);
                header(type, u.length + 1);
                System.arraycopy(u, 0, b, n, u.length);
                n += u.length;
                b[n++] = 0;
                return pad();
            }
        }
        header(type, len + 1);
        for (int i = 0; i < len; i++) {
            b[n++] = (byte) s.charAt(i);
        }
        b[n++] = 0;
        return pad();
    }

    NlWriter bytes(int type, byte[] v) {
        return bytes(type, v, 0, v.length);
    }

    NlWriter bytes(int type, byte[] v, int from, int length) {
        header(type, length);
        System.arraycopy(v, from, b, n, length);
        n += length;
        pad();
        return this;
    }

    /** Starts an attribute of {@code length} value bytes; the caller writes them with {@link #raw}. */
    NlWriter header(int type, int length) {
        ensure(4 + length + 3);
        host16(4 + length);
        host16(type);
        return this;
    }

    /** One value byte of the attribute {@link #header} started. */
    NlWriter raw(int v) {
        b[n++] = (byte) v;
        return this;
    }

    /** Pads to 4 bytes after an attribute written with {@link #header} and {@link #raw}. */
    NlWriter pad() {
        while ((n & 3) != 0) {
            b[n++] = 0;
        }
        return this;
    }

    /** How many messages were written. */
    int messages() {
        return count;
    }

    /** Where message {@code i} starts. */
    int start(int i) {
        return starts[i];
    }

    /** The bytes written so far. */
    byte[] array() {
        return b;
    }

    /** How many bytes were written. */
    int length() {
        return n;
    }

    private void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }

    private void host16(int v) {
        putHost16(n, v);
        n += 2;
    }

    private void putHost16(int at, int v) {
        if (LITTLE) {
            b[at] = (byte) v;
            b[at + 1] = (byte) (v >>> 8);
        } else {
            b[at] = (byte) (v >>> 8);
            b[at + 1] = (byte) v;
        }
    }

    private void putHost32(int at, int v) {
        if (LITTLE) {
            b[at] = (byte) v;
            b[at + 1] = (byte) (v >>> 8);
            b[at + 2] = (byte) (v >>> 16);
            b[at + 3] = (byte) (v >>> 24);
        } else {
            b[at] = (byte) (v >>> 24);
            b[at + 1] = (byte) (v >>> 16);
            b[at + 2] = (byte) (v >>> 8);
            b[at + 3] = (byte) v;
        }
    }
}
