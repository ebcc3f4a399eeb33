package dev.vigil.plugin.smtp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code SMTP_CHECK} (keepalived's check_smtp.c): a real server is up when its SMTP service greets
 * with 220, answers {@code HELO helo_name} with 250 and then answers {@code QUIT}.
 *
 * <p>Keywords of its own:
 * <ul>
 *   <li>{@code helo_name NAME}: the domain sent with {@code HELO} (default
 *       {@code smtpchecker.keepalived.org}); one word, printable ASCII, since it goes on the command
 *       line as written (RFC 5321 §4.1.1.1);</li>
 *   <li>{@code host { connect_ip; connect_port; bindto; bind_port; connect_timeout }}, repeatable:
 *       keepalived's deprecated list of hosts, each checked in its turn, all of which must pass.
 *       An option a host leaves out is the checker's. Vigil probes the hosts at the same time,
 *       each within its own {@code connect_timeout} capped at the checker's, so one probe still
 *       ends within the checker's {@code connect_timeout}. Without {@code host} blocks the checker's
 *       own target is the one host.</li>
 * </ul>
 */
@Extension
public final class SmtpChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "SMTP_CHECK";

    /** keepalived's {@code SMTP_DEFAULT_HELO}. */
    static final String DEFAULT_HELO = "smtpchecker.keepalived.org";

    /** The options a {@code host} block sets for its host. */
    static final Set<String> HOST_OPTIONS = Set.of("connect_ip", "connect_port", "bindto", "bind_port", "connect_timeout");

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    /**
     * {@code helo_name} must be one printable word; a {@code host} block is warned about (keepalived
     * deprecates it), as is an option in it that is the checker's rather than the host's. The values
     * of the shared options ({@code connect_ip}, ports, timeouts) are checked by the host.
     */
    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (ConfigLine line : block.lines()) {
            switch (line.keyword()) {
                case "helo_name" -> {
                    if (line.arguments().size() != 1) {
                        problems.add(ConfigProblem.error(line.locationOf(line.arguments().size() > 1 ? 1 : 0),
                                "helo_name takes one name (expected: helo_name NAME)"));
                    } else if (!heloName(line.arguments().get(0))) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "helo_name \"" + line.arguments().get(0)
                                + "\" (expected: a domain or address literal of printable ASCII without spaces)"));
                    }
                }
                case "host" -> {
                    problems.add(ConfigProblem.warning(line.location(), "host blocks are deprecated (keepalived): "
                            + "every host must pass for the checker to pass; prefer one SMTP_CHECK per host"));
                    for (ConfigLine option : line.children()) {
                        if (!HOST_OPTIONS.contains(option.keyword())) {
                            problems.add(ConfigProblem.warning(option.location(), option.keyword()
                                    + " has no effect inside host (expected one of connect_ip, connect_port, bindto, "
                                    + "bind_port, connect_timeout; set it in the SMTP_CHECK block)"));
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
        String helo = block.last("helo_name").flatMap(l -> l.argument(0)).orElse(DEFAULT_HELO);
        CheckTarget base = context.target();
        long checkerMillis = Math.max(1, context.connectTimeout().toMillis());
        List<SmtpProbe.Host> hosts = new ArrayList<>();
        for (ConfigLine h : block.lines("host")) {
            InetAddress ip = h.child("connect_ip").flatMap(l -> l.argument(0)).map(SmtpChecker::address)
                    .orElse(base.address().getAddress());
            int port = h.child("connect_port").flatMap(l -> l.argument(0)).map(Integer::parseInt)
                    .orElse(base.address().getPort());
            InetAddress bindIp = h.child("bindto").flatMap(l -> l.argument(0)).map(SmtpChecker::address)
                    .orElse(base.bindAddress() != null ? base.bindAddress().getAddress() : null);
            Integer bindPort = h.child("bind_port").flatMap(l -> l.argument(0)).map(Integer::parseInt)
                    .orElse(base.bindAddress() != null ? base.bindAddress().getPort() : null);
            InetSocketAddress bind = null;
            if (bindIp != null || bindPort != null) {
                bind = new InetSocketAddress(bindIp != null ? bindIp : wildcard(ip), bindPort != null ? bindPort : 0);
            }
            long millis = h.child("connect_timeout").flatMap(l -> l.argument(0))
                    .map(s -> (long) Math.ceil(Double.parseDouble(s) * 1000)).orElse(checkerMillis);
            hosts.add(new SmtpProbe.Host(new InetSocketAddress(ip, port), bind, Math.max(1, Math.min(millis, checkerMillis))));
        }
        if (hosts.isEmpty()) {
            hosts.add(new SmtpProbe.Host(base.address(), base.bindAddress(), checkerMillis));
        }
        return new SmtpProbe(context, helo, hosts);
    }

    /** RFC 5321 §4.1.1.1: {@code HELO SP Domain CRLF}; no space or control character may reach the wire. */
    static boolean heloName(String s) {
        if (s.isEmpty() || s.length() > 255) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress address(String literal) {
        try {
            // The host has checked the literal; getByName does no lookup for one.
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("connect_ip/bindto: " + literal + " (expected: an IP address)", e);
        }
    }

    private static InetAddress wildcard(InetAddress like) {
        try {
            return InetAddress.getByAddress(new byte[like.getAddress().length]);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
