package dev.vigil.plugin.udp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code UDP_CHECK} (keepalived 2.2's check_udp.c): one datagram, {@code payload}, from a socket
 * connected to the real server. Without {@code require_reply} the server is up unless an ICMP
 * port unreachable comes back within {@code connect_timeout}: on a connected UDP socket the kernel
 * reports it as a receive error, {@code ECONNREFUSED} (RFC 1122 §4.1.3.3, udp(7)). Host and
 * network unreachables are reported only to a socket with {@code IP_RECVERR}, which keepalived
 * sets and Netty's epoll transport cannot; here they go unseen.
 * With {@code require_reply} a reply must arrive within {@code connect_timeout}; when a pattern is
 * given, the reply's length must lie within {@code min_reply_length}..{@code max_reply_length}
 * (0..255) and its first octets (as many as the pattern and the reply both have) must match the
 * pattern, an {@code X} standing for any half octet. Without a pattern any reply will do, and the
 * lengths are not looked at, as in keepalived.
 *
 * Without {@code payload} the datagram is keepalived's default 32 octets.
 *
 * <p>Hex strings are written as keepalived reads them: pairs of hex digits, blanks allowed between
 * octets, a lone digit before a blank or the end being one octet ({@code 1 02} is {@code 01 02}).
 */
@Extension
public final class UdpChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "UDP_CHECK";

    /**
     * What is sent without {@code payload}: keepalived's 32 octets (layer4.c, {@code UDP_BUFSIZE}
     * filled by {@code set_buf}), so that a server sees the same probe from either. An empty
     * datagram would do for the ICMP, but Netty does not send empty ones.
     */
    static final byte[] DEFAULT_PAYLOAD = "keepalived check - keepalived ch".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        block.last("payload").ifPresent(l -> {
            if (l.arguments().isEmpty()) {
                problems.add(ConfigProblem.error(l.location(), "payload needs a hex string"));
            } else {
                hex(l, false).error().ifPresent(m -> problems.add(ConfigProblem.error(l.locationOf(0), "payload: " + m)));
            }
        });
        block.last("require_reply").filter(l -> !l.arguments().isEmpty()).ifPresent(l ->
                hex(l, true).error().ifPresent(m -> problems.add(ConfigProblem.error(l.locationOf(0), "require_reply: " + m))));
        Integer min = length(block, "min_reply_length", problems);
        Integer max = length(block, "max_reply_length", problems);
        if (min != null && max != null && min > max) {
            problems.add(ConfigProblem.warning(block.last("min_reply_length").orElseThrow().locationOf(0),
                    "min_reply_length " + min + " > max_reply_length " + max + ": every reply will fail"));
        }
        return problems;
    }

    @Override
    public Probe create(CheckContext context) {
        ConfigBlock block = context.config();
        byte[] payload = block.last("payload").map(l -> hex(l, false).value().data()).orElse(DEFAULT_PAYLOAD.clone());
        Optional<ConfigLine> reply = block.last("require_reply");
        Pattern pattern = reply.filter(l -> !l.arguments().isEmpty()).map(l -> hex(l, true).value()).orElse(null);
        int min = block.last("min_reply_length").map(l -> Integer.parseInt(l.arguments().getFirst())).orElse(0);
        int max = block.last("max_reply_length").map(l -> Integer.parseInt(l.arguments().getFirst())).orElse(255);
        return new UdpProbe(context, payload, reply.isPresent(), pattern, min, max);
    }

    private static Integer length(ConfigBlock block, String keyword, List<ConfigProblem> problems) {
        Optional<ConfigLine> line = block.last(keyword);
        if (line.isEmpty()) {
            return keyword.startsWith("min") ? 0 : 255;
        }
        String text = line.get().argument(0).orElse("");
        try {
            int n = Integer.parseInt(text);
            if (n >= 0 && n <= 65535) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        problems.add(ConfigProblem.error(line.get().locationOf(0), keyword + " \"" + text + "\" (expected: 0-65535)"));
        return null;
    }

    /**
     * Octets and the mask of their wildcard bits: a reply octet {@code r} matches {@code data[i]}
     * when {@code (r ^ data[i]) & ~mask[i]} is zero.
     */
    record Pattern(byte[] data, byte[] mask) {

        boolean matches(byte[] reply) {
            int n = Math.min(reply.length, data.length);
            for (int i = 0; i < n; i++) {
                if (((reply[i] ^ data[i]) & ~mask[i] & 0xff) != 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A parsed hex string or what is wrong with it. */
    record Hex(Pattern value, Optional<String> error) {
    }

    /** The words of {@code line} joined by blanks, as keepalived joins them, read as a hex string. */
    static Hex hex(ConfigLine line, boolean wildcards) {
        try {
            return new Hex(parseHex(String.join(" ", line.arguments()), wildcards), Optional.empty());
        } catch (IllegalArgumentException e) {
            return new Hex(null, Optional.of(e.getMessage()));
        }
    }

    static Pattern parseHex(String text, boolean wildcards) {
        byte[] data = new byte[text.length()];
        byte[] mask = new byte[text.length()];
        int n = 0;
        int i = 0;
        while (true) {
            while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                i++;
            }
            if (i >= text.length()) {
                break;
            }
            int hi = nibble(text, i++, wildcards);
            int value = Math.max(hi, 0);
            int m = hi < 0 ? 0xf : 0;
            if (i < text.length() && text.charAt(i) != ' ' && text.charAt(i) != '\t') {
                int lo = nibble(text, i++, wildcards);
                value = value << 4 | Math.max(lo, 0);
                m = m << 4 | (lo < 0 ? 0xf : 0);
            }
            data[n] = (byte) value;
            mask[n] = (byte) m;
            n++;
        }
        if (n == 0) {
            throw new IllegalArgumentException("no octets in \"" + text + "\"");
        }
        return new Pattern(java.util.Arrays.copyOf(data, n), java.util.Arrays.copyOf(mask, n));
    }

    /** The hex digit at {@code i}, or -1 for a wildcard {@code X}. */
    private static int nibble(String text, int i, boolean wildcards) {
        char c = text.charAt(i);
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
            return (c | 0x20) - 'a' + 10;
        }
        if (wildcards && (c == 'x' || c == 'X')) {
            return -1;
        }
        throw new IllegalArgumentException("\"" + c + "\" at character " + (i + 1) + " of \"" + text
                + "\" is not a hex digit" + (wildcards ? " or X" : ""));
    }
}
