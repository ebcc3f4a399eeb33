package dev.vigil.kernel;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * One received protocol-112 packet, filled in place by {@link VrrpChannel#receive} and reused for
 * the next one, so the steady receive path allocates nothing. Owned by one thread (the engine's).
 */
public final class PacketBuffer {

    /** Largest payload kept; an IPv4 datagram cannot carry more. */
    public static final int MAX_PAYLOAD = 65_535;

    private final byte[] payload = new byte[MAX_PAYLOAD];
    private final byte[] source = new byte[16];
    private final byte[] destination = new byte[16];
    private int length;
    private int addressLength;
    private int ttl;
    private long ageNanos;

    /** The VRRP message (without IP header) in {@code payload()[0 .. length())}. */
    public byte[] payload() {
        return payload;
    }

    public int length() {
        return length;
    }

    /** Source address bytes in {@code source()[0 .. addressLength())}. */
    public byte[] source() {
        return source;
    }

    /** Destination address bytes (multicast group or our unicast address). */
    public byte[] destination() {
        return destination;
    }

    /** 4 for IPv4, 16 for IPv6. */
    public int addressLength() {
        return addressLength;
    }

    /** IPv4 TTL or IPv6 hop limit as received. */
    public int ttl() {
        return ttl;
    }

    /**
     * How long before {@link VrrpChannel#receive} returned the kernel had received the packet (its
     * receive time stamp), or 0 when the channel has no time stamp.
     */
    public long ageNanos() {
        return ageNanos;
    }

    /** Sets the IP fields; the payload is written into {@link #payload()} by the caller. */
    public void set(int length, int ttl, long ageNanos) {
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0.." + MAX_PAYLOAD + ")");
        }
        this.length = length;
        this.ttl = ttl;
        this.ageNanos = Math.max(0, ageNanos);
    }

    /** Sets the address length (4 or 16); the bytes go into {@link #source()} and {@link #destination()}. */
    public void addressLength(int addressLength) {
        if (addressLength != 4 && addressLength != 16) {
            throw new IllegalArgumentException("addressLength: " + addressLength + " (expected: 4 or 16)");
        }
        this.addressLength = addressLength;
    }

    /** Fills this buffer with a copy of {@code packet} (no time stamp). */
    public void fill(ReceivedPacket packet) {
        byte[] src = packet.source().getAddress();
        byte[] dst = packet.destination().getAddress();
        if (src.length != dst.length) {
            throw new IllegalArgumentException("source and destination of different families: " + packet);
        }
        addressLength(src.length);
        System.arraycopy(src, 0, source, 0, src.length);
        System.arraycopy(dst, 0, destination, 0, dst.length);
        System.arraycopy(packet.payload(), 0, payload, 0, packet.payload().length);
        set(packet.payload().length, packet.ttl(), 0);
    }

    /** An immutable copy, for tests and logs. */
    public ReceivedPacket copy(String ifname) {
        return new ReceivedPacket(ifname, address(source), address(destination), ttl, Arrays.copyOf(payload, length));
    }

    @Override
    public String toString() {
        return "PacketBuffer[length=" + length + ", addressLength=" + addressLength + ", ttl=" + ttl
                + ", ageNanos=" + ageNanos + "]";
    }

    private InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(Arrays.copyOf(raw, addressLength));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
