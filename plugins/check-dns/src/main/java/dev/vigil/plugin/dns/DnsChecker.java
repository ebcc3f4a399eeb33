package dev.vigil.plugin.dns;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import io.netty.handler.codec.dns.DnsRecordType;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code DNS_CHECK} (keepalived's check_dns.c): a real server is up when it answers a UDP query
 * for {@code type} and {@code name}, recursion desired, with a response of the same id whose rcode
 * is NOERROR. What the answer holds does not matter: an empty answer (NODATA) passes, as in
 * keepalived.
 *
 * <p>Keywords of its own:
 * <ul>
 *   <li>{@code type A|NS|CNAME|SOA|MX|TXT|AAAA}, any case (default {@code SOA});</li>
 *   <li>{@code name NAME} (default {@code .}, the root), a domain name of printable ASCII labels
 *       of 1 to 63 bytes, at most 253 characters without the final dot (RFC 1035 §2.3.4).</li>
 * </ul>
 * {@code retry} defaults to 3 and {@code delay_before_retry} to {@code delay_loop} for this
 * checker, as in keepalived; the host applies both.
 */
@Extension
public final class DnsChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "DNS_CHECK";

    /** keepalived's {@code DNS_DEFAULT_TYPE}. */
    static final DnsRecordType DEFAULT_TYPE = DnsRecordType.SOA;

    /** keepalived's {@code DNS_DEFAULT_NAME}: the root. */
    static final String DEFAULT_NAME = ".";

    /** The query types keepalived offers, by their names. */
    static final Map<String, DnsRecordType> TYPES = Map.of("A", DnsRecordType.A, "NS", DnsRecordType.NS,
            "CNAME", DnsRecordType.CNAME, "SOA", DnsRecordType.SOA, "MX", DnsRecordType.MX, "TXT", DnsRecordType.TXT,
            "AAAA", DnsRecordType.AAAA);

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    /** {@code type} must be one of the seven, {@code name} a well-formed domain name; each takes one word. */
    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (ConfigLine line : block.lines()) {
            switch (line.keyword()) {
                case "type" -> {
                    if (line.arguments().size() != 1) {
                        problems.add(ConfigProblem.error(line.locationOf(1),
                                "type takes one query type (expected: A, NS, CNAME, SOA, MX, TXT or AAAA)"));
                    } else if (type(line.arguments().get(0)) == null) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "type \"" + line.arguments().get(0)
                                + "\" (expected: A, NS, CNAME, SOA, MX, TXT or AAAA)"));
                    }
                }
                case "name" -> {
                    if (line.arguments().size() != 1) {
                        problems.add(ConfigProblem.error(line.locationOf(1), "name takes one domain name (expected: name NAME)"));
                    } else {
                        String why = nameProblem(line.arguments().get(0));
                        if (why != null) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "name \"" + line.arguments().get(0)
                                    + "\": " + why));
                        }
                    }
                }
                default -> {
                    // shared options: the host's
                }
            }
        }
        return problems;
    }

    @Override
    public Probe create(CheckContext context) {
        ConfigBlock block = context.config();
        DnsRecordType type = block.last("type").flatMap(l -> l.argument(0)).map(DnsChecker::type).orElse(DEFAULT_TYPE);
        String name = block.last("name").flatMap(l -> l.argument(0)).orElse(DEFAULT_NAME);
        String why = nameProblem(name);
        if (why != null) {
            throw new IllegalArgumentException("name \"" + name + "\": " + why);
        }
        return new DnsProbe(context, type, name);
    }

    /** The query type named {@code s} (any case), or {@code null}. */
    static DnsRecordType type(String s) {
        return TYPES.get(s.toUpperCase(Locale.ROOT));
    }

    /**
     * What is wrong with {@code name} as a query name, or {@code null} when it is fine. RFC 1035
     * §2.3.4: labels of 63 octets or less, names of 255 octets or less on the wire (253 characters
     * written with dots); §3.1: no empty label but the root's.
     */
    static String nameProblem(String name) {
        if (name.equals(".")) {
            return null;
        }
        String body = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (body.isEmpty()) {
            return "empty (expected: a domain name, or . for the root)";
        }
        if (body.length() > 253) {
            return body.length() + " characters (expected: at most 253)";
        }
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "character " + (i + 1) + " is not printable ASCII (expected: letters, digits, - and _, labels joined by dots)";
            }
        }
        for (String label : body.split("\\.", -1)) {
            if (label.isEmpty()) {
                return "an empty label (expected: no two dots in a row, no leading dot)";
            }
            if (label.length() > 63) {
                return "label \"" + label + "\" has " + label.length() + " characters (expected: at most 63)";
            }
        }
        return null;
    }
}
