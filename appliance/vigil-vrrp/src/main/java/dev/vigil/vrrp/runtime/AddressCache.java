package dev.vigil.vrrp.runtime;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The {@link InetAddress} of raw address bytes, remembered: adverts keep coming from the same few
 * peers to the same group, so after the first packet from each the receive path allocates no
 * address. Holds {@value #SIZE} addresses, replaced round-robin. Engine thread only.
 */
final class AddressCache {
    static final int SIZE = 16;

    private final byte[][] raw = new byte[SIZE][];
    private final InetAddress[] addresses = new InetAddress[SIZE];
    private int next;

    /** The address of {@code bytes[0 .. length)} (4 or 16 bytes). */
    InetAddress of(byte[] bytes, int length) {
        for (int i = 0; i < SIZE; i++) {
            byte[] r = raw[i];
            if (r != null && r.length == length && Arrays.equals(r, 0, length, bytes, 0, length)) {
                return addresses[i];
            }
        }
        byte[] copy = Arrays.copyOf(bytes, length);
        InetAddress a;
        try {
            a = InetAddress.getByAddress(copy);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of " + length + " bytes (expected: 4 or 16)", e);
        }
        raw[next] = copy;
        addresses[next] = a;
        next = (next + 1) % SIZE;
        return a;
    }
}
