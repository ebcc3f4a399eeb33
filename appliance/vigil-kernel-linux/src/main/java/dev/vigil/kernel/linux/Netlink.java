package dev.vigil.kernel.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Netlink message codec: a builder for requests (header, fixed family header, attributes,
 * nested attributes) and parsers for replies. All multi-byte fields are host order, as netlink
 * requires; addresses inside attributes are network order and are passed as raw bytes.
 * Parsed messages own copies of their bytes, never views of the receive buffer.
 */
public final class Netlink {
    /** Size of {@code struct nlmsghdr}. */
    public static final int HEADER_LENGTH = 16;

    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLMSG_OVERRUN = 4;

    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    public static final int NLM_F_ACK = 0x4;
    public static final int NLM_F_DUMP_INTR = 0x10;
    public static final int NLM_F_DUMP = 0x300;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;
    /** On an NLMSG_ERROR: the echoed request was capped to its header. */
    public static final int NLM_F_CAPPED = 0x100;
    /** On an NLMSG_ERROR: extended-ACK attributes follow the echoed request. */
    public static final int NLM_F_ACK_TLVS = 0x200;

    public static final int NLA_F_NESTED = 0x8000;
    public static final int NLA_TYPE_MASK = 0x3fff;
    public static final int NLMSGERR_ATTR_MSG = 1;

    private Netlink() {
    }

    /** Rounds up to the 4-byte netlink alignment. */
    public static int align(int length) {
        return (length + 3) & ~3;
    }

    /**
     * One netlink message.
     *
     * @param payload the bytes after the 16-byte header (family header plus attributes), a copy
     */
    public record Message(int type, int flags, int seq, int pid, byte[] payload) {

        /** The payload as a host-order buffer. */
        public ByteBuffer body() {
            return ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder());
        }

        /** Attributes starting {@code offset} bytes into the payload (after the family header). */
        public Attributes attributes(int offset) {
            return Attributes.parse(payload, offset, payload.length);
        }

        /** Whether this is the error/ACK message. */
        public boolean isError() {
            return type == NLMSG_ERROR;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && m.type == type && m.flags == flags && m.seq == seq && m.pid == pid
                    && Arrays.equals(m.payload, payload);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * type + seq) + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Message[type=" + type + ", flags=0x" + Integer.toHexString(flags) + ", seq=" + seq
                    + ", length=" + payload.length + "]";
        }
    }

    /**
     * The content of an {@code NLMSG_ERROR} message (RFC 3549 §2.3.2.2).
     *
     * @param errno   0 for an acknowledgement, else the positive errno
     * @param extack  the kernel's extended-ACK text, or {@code null}
     * @param seq     sequence number of the request it answers
     */
    public record ErrorReply(int errno, String extack, int seq) {

        /** Decodes an NLMSG_ERROR message: {@code int error}, the echoed header, optional TLVs. */
        public static ErrorReply of(Message message) {
            byte[] p = message.payload();
            if (p.length < 4 + HEADER_LENGTH) {
                throw new IllegalArgumentException("netlink error message: " + p.length
                        + " bytes (expected: >= " + (4 + HEADER_LENGTH) + ")");
            }
            ByteBuffer b = message.body();
            int error = b.getInt(0);
            int echoedLength = b.getInt(4);
            String extack = null;
            if ((message.flags() & NLM_F_ACK_TLVS) != 0) {
                int tlvStart = 4 + ((message.flags() & NLM_F_CAPPED) != 0 ? HEADER_LENGTH : align(echoedLength));
                if (tlvStart <= p.length) {
                    extack = Attributes.parse(p, tlvStart, p.length).string(NLMSGERR_ATTR_MSG);
                }
            }
            return new ErrorReply(-error, extack, message.seq());
        }
    }

    /** One attribute: type without flag bits, whether NLA_F_NESTED was set, and a copy of the value. */
    public record Attribute(int type, boolean nested, byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Attribute a && a.type == type && a.nested == nested && Arrays.equals(a.value, value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Attribute[type=" + type + (nested ? ", nested" : "") + ", length=" + value.length + "]";
        }
    }

    /** A parsed attribute list, in wire order. Lookups return the first attribute of a type. */
    public static final class Attributes {
        private final List<Attribute> list;

        private Attributes(List<Attribute> list) {
            this.list = List.copyOf(list);
        }

        /** Parses {@code data[offset, end)} as a sequence of attributes. */
        public static Attributes parse(byte[] data, int offset, int end) {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
            List<Attribute> out = new ArrayList<>();
            int at = offset;
            while (at + 4 <= end) {
                int length = Short.toUnsignedInt(b.getShort(at));
                int rawType = Short.toUnsignedInt(b.getShort(at + 2));
                if (length < 4 || at + length > end) {
                    throw new IllegalArgumentException("netlink attribute at " + at + ": length " + length
                            + " (expected: 4.." + (end - at) + ")");
                }
                out.add(new Attribute(rawType & NLA_TYPE_MASK, (rawType & NLA_F_NESTED) != 0,
                        Arrays.copyOfRange(data, at + 4, at + length)));
                at += align(length);
            }
            return new Attributes(out);
        }

        public List<Attribute> all() {
            return list;
        }

        /** The value of the first attribute of {@code type}, or {@code null}. */
        public byte[] bytes(int type) {
            for (Attribute a : list) {
                if (a.type() == type) {
                    return a.value();
                }
            }
            return null;
        }

        public boolean has(int type) {
            return bytes(type) != null;
        }

        /** A NUL-terminated string attribute, or {@code null}. */
        public String string(int type) {
            byte[] v = bytes(type);
            if (v == null) {
                return null;
            }
            int n = 0;
            while (n < v.length && v[n] != 0) {
                n++;
            }
            return new String(v, 0, n, StandardCharsets.UTF_8);
        }

        /** A host-order u32 attribute, or {@code fallback} when absent. */
        public int u32(int type, int fallback) {
            byte[] v = bytes(type);
            if (v == null) {
                return fallback;
            }
            if (v.length < 4) {
                throw new IllegalArgumentException("netlink attribute " + type + ": " + v.length
                        + " bytes (expected: 4)");
            }
            return ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getInt(0);
        }

        /** The attributes nested inside attribute {@code type}, or an empty list. */
        public Attributes nested(int type) {
            byte[] v = bytes(type);
            return v == null ? new Attributes(List.of()) : parse(v, 0, v.length);
        }
    }

    /**
     * Builds one request: the 16-byte header, a fixed family header written with the
     * {@code u8/u16/u32/bytes} methods, then attributes. The length field is filled in by
     * {@link #build(int)}.
     */
    public static final class Builder {
        private ByteBuffer buf = ByteBuffer.allocate(256).order(ByteOrder.nativeOrder());
        private final Deque<Integer> nests = new ArrayDeque<>();
        private final int type;
        private final int flags;

        public Builder(int type, int flags) {
            this.type = type;
            this.flags = flags;
            buf.position(HEADER_LENGTH);
        }

        public int type() {
            return type;
        }

        public int flags() {
            return flags;
        }

        private void ensure(int more) {
            if (buf.remaining() < more) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + more))
                        .order(ByteOrder.nativeOrder());
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        public Builder u8(int value) {
            ensure(1);
            buf.put((byte) value);
            return this;
        }

        public Builder u16(int value) {
            ensure(2);
            buf.putShort((short) value);
            return this;
        }

        public Builder u32(int value) {
            ensure(4);
            buf.putInt(value);
            return this;
        }

        public Builder bytes(byte[] value) {
            ensure(value.length);
            buf.put(value);
            return this;
        }

        private void pad() {
            int padded = align(buf.position());
            ensure(padded - buf.position());
            while (buf.position() < padded) {
                buf.put((byte) 0);
            }
        }

        /** An attribute holding {@code value}; {@code nla_len} excludes the padding that follows. */
        public Builder attribute(int type, byte[] value) {
            pad();
            ensure(4 + value.length + 3);
            buf.putShort((short) (4 + value.length));
            buf.putShort((short) type);
            buf.put(value);
            pad();
            return this;
        }

        public Builder attributeU32(int type, int value) {
            byte[] v = new byte[4];
            ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).putInt(value);
            return attribute(type, v);
        }

        /** A NUL-terminated string attribute. */
        public Builder attributeString(int type, String value) {
            byte[] s = value.getBytes(StandardCharsets.UTF_8);
            return attribute(type, Arrays.copyOf(s, s.length + 1));
        }

        /** Opens a nested attribute ({@code NLA_F_NESTED} set); close it with {@link #endNested()}. */
        public Builder beginNested(int type) {
            pad();
            ensure(4);
            nests.push(buf.position());
            buf.putShort((short) 0);
            buf.putShort((short) (type | NLA_F_NESTED));
            return this;
        }

        /** Back-patches the length of the innermost open nested attribute. */
        public Builder endNested() {
            if (nests.isEmpty()) {
                throw new IllegalStateException("endNested without beginNested");
            }
            int start = nests.pop();
            buf.putShort(start, (short) (buf.position() - start));
            pad();
            return this;
        }

        /** The finished message bytes with sequence number {@code seq} and port id 0. */
        public byte[] build(int seq) {
            if (!nests.isEmpty()) {
                throw new IllegalStateException(nests.size() + " nested attribute(s) not closed");
            }
            pad();
            int length = buf.position();
            buf.putInt(0, length);
            buf.putShort(4, (short) type);
            buf.putShort(6, (short) flags);
            buf.putInt(8, seq);
            buf.putInt(12, 0);
            return Arrays.copyOf(buf.array(), length);
        }
    }

    /**
     * Splits {@code length} bytes of a receive buffer into messages, copying each payload out so
     * the buffer can be reused.
     */
    public static List<Message> parse(ByteBuffer buffer, int length) {
        ByteBuffer b = buffer.duplicate().order(ByteOrder.nativeOrder());
        List<Message> out = new ArrayList<>();
        int at = 0;
        while (at + HEADER_LENGTH <= length) {
            int messageLength = b.getInt(at);
            if (messageLength < HEADER_LENGTH || messageLength > length - at) {
                throw new IllegalArgumentException("netlink message at " + at + ": length " + messageLength
                        + " (expected: " + HEADER_LENGTH + ".." + (length - at) + ")");
            }
            byte[] payload = new byte[messageLength - HEADER_LENGTH];
            b.get(at + HEADER_LENGTH, payload);
            out.add(new Message(Short.toUnsignedInt(b.getShort(at + 4)), Short.toUnsignedInt(b.getShort(at + 6)),
                    b.getInt(at + 8), b.getInt(at + 12), payload));
            at += align(messageLength);
        }
        if (at < length && length - at < HEADER_LENGTH) {
            throw new IllegalArgumentException("netlink message at " + at + ": " + (length - at)
                    + " trailing bytes (expected: 0 or >= " + HEADER_LENGTH + ")");
        }
        return out;
    }
}
