package dev.vigil.config.parse;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.Diagnostics;
import dev.vigil.config.Token;
import java.math.BigDecimal;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** Argument readers that report problems and return {@code null} instead of failing. */
final class Args {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    private final Diagnostics d;

    Args(Diagnostics d) {
        this.d = d;
    }

    Token need(ConfigNode n, int i) {
        if (i < n.args().size()) {
            return n.args().get(i);
        }
        d.error(n.ref(), "missing argument for \"" + n.name() + "\"");
        return null;
    }

    Integer integer(ConfigNode n, int i, long min, long max) {
        Token t = need(n, i);
        return t == null ? null : integer(n.name(), t, min, max);
    }

    Integer integer(String kw, Token t, long min, long max) {
        long v;
        try {
            v = Long.parseLong(t.text());
        } catch (NumberFormatException e) {
            d.error(t.ref(), "\"" + kw + "\" expected an integer, got \"" + t.text() + "\"");
            return null;
        }
        if (v < min || v > max) {
            d.error(t.ref(), "\"" + kw + "\" value " + v + " out of range " + min + ".." + max);
            return null;
        }
        return (int) v;
    }

    BigDecimal decimal(ConfigNode n, int i) {
        Token t = need(n, i);
        if (t == null) {
            return null;
        }
        try {
            BigDecimal v = new BigDecimal(t.text());
            if (v.signum() < 0) {
                d.error(t.ref(), "\"" + n.name() + "\" must not be negative, got \"" + t.text() + "\"");
                return null;
            }
            return v;
        } catch (NumberFormatException e) {
            d.error(t.ref(), "\"" + n.name() + "\" expected a number, got \"" + t.text() + "\"");
            return null;
        }
    }

    /** Seconds with up to microsecond resolution, within [min, max] seconds. */
    Duration seconds(ConfigNode n, int i, double min, double max) {
        BigDecimal v = decimal(n, i);
        if (v == null) {
            return null;
        }
        if (v.doubleValue() < min || v.doubleValue() > max) {
            d.error(n.args().get(i).ref(), "\"" + n.name() + "\" value " + v.toPlainString() + " out of range "
                    + num(min) + ".." + num(max));
            return null;
        }
        return toDuration(v);
    }

    static Duration toDuration(BigDecimal seconds) {
        return Duration.ofNanos(seconds.movePointRight(9).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** An optional boolean argument; absent means true. */
    Boolean bool(ConfigNode n, int i) {
        if (i >= n.args().size()) {
            return true;
        }
        Token t = n.args().get(i);
        return switch (t.text().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> {
                d.error(t.ref(), "\"" + n.name() + "\" expected a boolean (true/false/on/off/yes/no), got \""
                        + t.text() + "\"");
                yield null;
            }
        };
    }

    InetAddress ip(ConfigNode n, int i) {
        Token t = need(n, i);
        return t == null ? null : ip(t);
    }

    InetAddress ip(Token t) {
        InetAddress a = parseIp(t.text());
        if (a == null) {
            d.error(t.ref(), "invalid IP address \"" + t.text() + "\"");
        }
        return a;
    }

    /** Parses a literal IPv4/IPv6 address without name lookups; {@code null} when invalid. */
    static InetAddress parseIp(String s) {
        try {
            var m = IPV4.matcher(s);
            if (m.matches()) {
                byte[] b = new byte[4];
                for (int k = 0; k < 4; k++) {
                    int v = Integer.parseInt(m.group(k + 1));
                    if (v > 255) {
                        return null;
                    }
                    b[k] = (byte) v;
                }
                return InetAddress.getByAddress(b);
            }
            String core = s;
            int pct = s.indexOf('%');
            if (pct >= 0) {
                core = s.substring(0, pct);
            }
            if (core.indexOf(':') >= 0 && IPV6.matcher(core).matches()) {
                InetAddress a = InetAddress.getByName(core);
                return a;
            }
        } catch (UnknownHostException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    static boolean isV4(InetAddress a) {
        return a instanceof Inet4Address;
    }

    /** The command line of a notify/script keyword: a quoted first word alone, else all words joined. */
    static String command(List<Token> words) {
        if (words.isEmpty()) {
            return null;
        }
        if (words.get(0).quoted()) {
            return words.get(0).text();
        }
        return String.join(" ", words.stream().map(Token::text).toList());
    }

    String command(ConfigNode n) {
        if (n.args().isEmpty()) {
            d.error(n.ref(), "missing argument for \"" + n.name() + "\"");
            return null;
        }
        return command(n.args());
    }
}
