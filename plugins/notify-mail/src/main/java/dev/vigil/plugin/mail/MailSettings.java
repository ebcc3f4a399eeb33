package dev.vigil.plugin.mail;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.Location;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The settings of one {@code mail} notifier, read from its block: keepalived's keywords, with
 * keepalived's defaults, then Vigil's own for TLS and authentication.
 *
 * <pre>
 * smtp_server HOST [PORT]            the relay; PORT defaults to 25
 * smtp_helo_name NAME                what EHLO/HELO says; default: this machine's host name
 * smtp_connect_timeout SECONDS       per connection attempt and per reply; default 30
 * notification_email_from ADDR       the sender; default keepalived@HOSTNAME
 * notification_email ADDR...         the recipients, on the line or one per line of a { } block
 * starttls no|yes|required           no (default, as keepalived); yes: when offered; required: fail without
 * smtp_user USER                     AUTH PLAIN or LOGIN, whichever the server offers
 * smtp_password PASSWORD
 * smtp_auth_cleartext yes|no         allow AUTH without TLS; default no
 * tls_verify yes|no                  verify the server's certificate and name; default yes
 * tls_ca FILE                        trust these PEM certificates instead of the JDK's
 * </pre>
 *
 * The host's own keywords ({@code type}, {@code events}, {@code timeout}) are left to it. A
 * repeated single-valued keyword takes its last value, as in keepalived; recipients add up.
 *
 * @param host           the SMTP server's address or name, without brackets
 * @param port           its port
 * @param heloName       the EHLO/HELO argument
 * @param connectTimeout the bound of a connection attempt and of each wait for a reply
 * @param from           the envelope sender and {@code From:}
 * @param recipients     the envelope recipients and {@code To:}, in order, at least one
 * @param startTls       whether STARTTLS is used
 * @param user           the AUTH user, or {@code null} for no AUTH
 * @param password       the AUTH password, or {@code null}
 * @param authCleartext  whether AUTH may happen without TLS
 * @param tlsVerify      whether the server's certificate chain and name are verified
 * @param tlsCa          the PEM file of trusted certificates, or {@code null} for the JDK's trust store
 */
public record MailSettings(String host, int port, String heloName, Duration connectTimeout, Address from,
                           List<Address> recipients, StartTls startTls, String user, String password,
                           boolean authCleartext, boolean tlsVerify, Path tlsCa) {

    /** The {@code starttls} choices. */
    public enum StartTls {
        /** Never, as keepalived. */
        NO,
        /** When the server offers it (RFC 3207); otherwise in the clear. */
        YES,
        /** Always: a server that does not offer it fails the delivery before the envelope is sent. */
        REQUIRED
    }

    /** keepalived's {@code smtp_connect_timeout} default. */
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
    static final int DEFAULT_PORT = 25;
    /** The keywords of the host's, in every notifier block. */
    static final Set<String> HOST_KEYWORDS = Set.of("type", "events", "timeout");
    static final List<String> KEYWORDS = List.of("smtp_server", "smtp_helo_name", "smtp_connect_timeout",
            "notification_email_from", "notification_email", "starttls", "smtp_user", "smtp_password",
            "smtp_auth_cleartext", "tls_verify", "tls_ca");
    private static final Pattern HOST_NAME =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*\\.?");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?");
    /** An EHLO argument: a domain or an address literal (RFC 5321 §4.1.1.1), one word of printable ASCII. */
    private static final Pattern HELO = Pattern.compile("[!-~]+");

    public MailSettings {
        recipients = List.copyOf(recipients);
    }

    /** The settings with the password masked: a record's own toString would print it. */
    @Override
    public String toString() {
        return "MailSettings[server=" + server() + ", helo=" + heloName + ", connectTimeout=" + connectTimeout + ", from=" + from
                + ", recipients=" + recipients + ", starttls=" + startTls + ", user=" + user
                + ", password=" + (password == null ? null : "***") + ", authCleartext=" + authCleartext
                + ", tlsVerify=" + tlsVerify + ", tlsCa=" + tlsCa + "]";
    }

    /** Whether AUTH is configured. */
    public boolean authenticates() {
        return user != null;
    }

    /** The relay as log lines and errors name it: {@code 10.0.0.1:25}, {@code [::1]:587}. */
    public String server() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * Reads {@code block}, adding every problem found to {@code problems}, each at the word it is
     * about. The result is meaningful only when no {@link ConfigProblem.Severity#ERROR} was added.
     *
     * @param hostName this machine's host name, for the defaults of {@code smtp_helo_name} and
     *                 {@code notification_email_from}
     */
    public static MailSettings read(ConfigBlock block, String hostName, List<ConfigProblem> problems) {
        String host = null;
        int port = DEFAULT_PORT;
        String helo = hostName;
        Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        Address from = null;
        List<Address> recipients = new ArrayList<>();
        StartTls startTls = StartTls.NO;
        ConfigLine startTlsLine = null;
        String user = null;
        ConfigLine userLine = null;
        String password = null;
        ConfigLine passwordLine = null;
        boolean cleartext = false;
        boolean verify = true;
        ConfigLine verifyLine = null;
        Path ca = null;
        ConfigLine caLine = null;
        for (ConfigLine line : block.lines()) {
            switch (line.keyword()) {
                case "smtp_server" -> {
                    if (line.arguments().isEmpty() || line.arguments().size() > 2) {
                        problems.add(ConfigProblem.error(line.locationOf(line.arguments().isEmpty() ? 0 : 2),
                                "smtp_server takes an address and an optional port (expected: smtp_server HOST [PORT])"));
                        continue;
                    }
                    String h = hostOf(line.arguments().get(0));
                    if (h == null) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "smtp_server \"" + line.arguments().get(0)
                                + "\" (expected: an IPv4 or IPv6 address or a host name)"));
                        continue;
                    }
                    host = h;
                    port = DEFAULT_PORT;
                    if (line.arguments().size() == 2) {
                        Integer p = intIn(line.arguments().get(1), 1, 65535);
                        if (p == null) {
                            problems.add(ConfigProblem.error(line.locationOf(1), "smtp_server port \""
                                    + line.arguments().get(1) + "\" (expected: 1-65535)"));
                        } else {
                            port = p;
                        }
                    }
                }
                case "smtp_helo_name" -> {
                    if (one(line, "smtp_helo_name NAME", problems)) {
                        String name = line.arguments().get(0);
                        if (HELO.matcher(name).matches()) {
                            helo = name;
                        } else {
                            problems.add(ConfigProblem.error(line.locationOf(0), "smtp_helo_name \"" + name
                                    + "\" (expected: a domain or address literal, one word of printable ASCII)"));
                        }
                    }
                }
                case "smtp_connect_timeout" -> {
                    if (one(line, "smtp_connect_timeout SECONDS", problems)) {
                        Duration d = seconds(line.arguments().get(0));
                        if (d == null) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "smtp_connect_timeout \""
                                    + line.arguments().get(0) + "\" (expected: seconds, more than 0 and at most 3600)"));
                        } else {
                            connectTimeout = d;
                        }
                    }
                }
                case "notification_email_from" -> {
                    if (line.arguments().isEmpty()) {
                        problems.add(ConfigProblem.error(line.location(),
                                "notification_email_from takes an address (expected: notification_email_from ADDR)"));
                        continue;
                    }
                    Address a = address(String.join(" ", line.arguments()), line.locationOf(0), problems);
                    if (a != null) {
                        from = a;
                    }
                }
                case "notification_email" -> {
                    for (int i = 0; i < line.arguments().size(); i++) {
                        Address a = address(line.arguments().get(i), line.locationOf(i), problems);
                        if (a != null) {
                            recipients.add(a);
                        }
                    }
                    // keepalived's form: one address per line of the block; an unquoted "Name <a@b>"
                    // arrives as a keyword with arguments, and is one address again here.
                    for (ConfigLine child : line.children()) {
                        List<String> words = new ArrayList<>();
                        words.add(child.keyword());
                        words.addAll(child.arguments());
                        Address a = address(String.join(" ", words), child.location(), problems);
                        if (a != null) {
                            recipients.add(a);
                        }
                        if (!child.children().isEmpty()) {
                            problems.add(ConfigProblem.error(child.location(), "a recipient of notification_email opens a block"
                                    + " (expected: one address per line)"));
                        }
                    }
                    if (line.arguments().isEmpty() && line.children().isEmpty()) {
                        problems.add(ConfigProblem.warning(line.location(), "notification_email names no recipient"));
                    }
                }
                case "starttls" -> {
                    if (one(line, "starttls no|yes|required", problems)) {
                        String v = line.arguments().get(0).toLowerCase(Locale.ROOT);
                        StartTls s = switch (v) {
                            case "required", "require" -> StartTls.REQUIRED;
                            default -> {
                                Boolean b = bool(v);
                                yield b == null ? null : b ? StartTls.YES : StartTls.NO;
                            }
                        };
                        if (s == null) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "starttls \"" + line.arguments().get(0)
                                    + "\" (expected: no, yes or required)"));
                        } else {
                            startTls = s;
                            startTlsLine = line;
                        }
                    }
                }
                case "smtp_user" -> {
                    if (one(line, "smtp_user USER", problems)) {
                        String u = line.arguments().get(0);
                        if (u.isEmpty() || u.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "smtp_user is empty or holds a control character"));
                        } else {
                            user = u;
                            userLine = line;
                        }
                    }
                }
                case "smtp_password" -> {
                    if (one(line, "smtp_password PASSWORD", problems)) {
                        String p = line.arguments().get(0);
                        if (p.isEmpty() || p.chars().anyMatch(c -> c == 0)) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "smtp_password is empty or holds a NUL"));
                        } else {
                            password = p;
                            passwordLine = line;
                        }
                    }
                }
                case "smtp_auth_cleartext" -> {
                    Boolean b = boolLine(line, problems);
                    if (b != null) {
                        cleartext = b;
                    }
                }
                case "tls_verify" -> {
                    Boolean b = boolLine(line, problems);
                    if (b != null) {
                        verify = b;
                        verifyLine = line;
                    }
                }
                case "tls_ca" -> {
                    if (one(line, "tls_ca FILE", problems)) {
                        String f = line.arguments().get(0);
                        if (f.isEmpty()) {
                            problems.add(ConfigProblem.error(line.locationOf(0), "tls_ca names no file"));
                        } else {
                            // Relative to the file that names it, as keepalived's include.
                            Path p = Path.of(f);
                            Path dir = Path.of(line.location().file()).getParent();
                            ca = p.isAbsolute() || dir == null ? p : dir.resolve(p).normalize();
                            caLine = line;
                        }
                    }
                }
                default -> {
                    if (!HOST_KEYWORDS.contains(line.keyword())) {
                        problems.add(ConfigProblem.warning(line.location(), "unknown keyword \"" + line.keyword()
                                + "\" in a mail notifier is ignored (expected: " + String.join(", ", KEYWORDS) + ")"));
                    }
                }
            }
        }
        if (host == null && block.lines("smtp_server").isEmpty()) {
            problems.add(ConfigProblem.error(block.location(), "a mail notifier needs smtp_server HOST [PORT]"));
        }
        if (recipients.isEmpty() && block.lines("notification_email").stream().allMatch(l -> l.arguments().isEmpty()
                && l.children().isEmpty())) {
            problems.add(ConfigProblem.error(block.location(),
                    "a mail notifier needs at least one recipient (expected: notification_email { ADDR ... })"));
        }
        if (userLine != null && passwordLine == null) {
            problems.add(ConfigProblem.error(userLine.location(), "smtp_user without smtp_password"));
        }
        if (passwordLine != null && userLine == null) {
            problems.add(ConfigProblem.error(passwordLine.location(), "smtp_password without smtp_user"));
        }
        if (userLine != null && startTls == StartTls.NO && !cleartext) {
            problems.add(ConfigProblem.error(userLine.location(), "smtp_user would send the password in the clear"
                    + " (expected: starttls yes or required, or smtp_auth_cleartext yes to allow it)"));
        }
        if (startTls == StartTls.NO) {
            for (ConfigLine l : new ConfigLine[]{verifyLine, caLine}) {
                if (l != null) {
                    problems.add(ConfigProblem.warning(l.location(), l.keyword() + " has no effect with "
                            + (startTlsLine == null ? "starttls no (the default)" : "starttls no")));
                }
            }
        }
        if (caLine != null && !verify) {
            problems.add(ConfigProblem.warning(caLine.location(), "tls_ca has no effect with tls_verify no"));
        }
        if (from == null) {
            from = new Address(null, "keepalived@" + hostName);
        }
        return new MailSettings(host, port, helo, connectTimeout, from, recipients, startTls, user, password,
                cleartext, verify, ca);
    }

    /** A relay address without brackets, or {@code null} when it is none. */
    static String hostOf(String text) {
        String h = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        var v4 = IPV4.matcher(h);
        if (v4.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(v4.group(i)) > 255) {
                    return null;
                }
            }
            return h;
        }
        if (IPV6.matcher(h).matches()) {
            return h;
        }
        return HOST_NAME.matcher(h).matches() && h.length() <= 253 && !h.chars().allMatch(c -> c == '.' || Character.isDigit(c))
                ? h : null;
    }

    private static Address address(String text, Location at, List<ConfigProblem> problems) {
        try {
            return Address.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(ConfigProblem.error(at, "\"" + text + "\" is not a mail address: " + e.getMessage()
                    + " (expected: local@domain or \"Name <local@domain>\")"));
            return null;
        }
    }

    private static boolean one(ConfigLine line, String usage, List<ConfigProblem> problems) {
        if (line.arguments().size() == 1) {
            return true;
        }
        problems.add(ConfigProblem.error(line.locationOf(line.arguments().isEmpty() ? 0 : 1),
                line.keyword() + " takes one argument (expected: " + usage + ")"));
        return false;
    }

    private static Boolean boolLine(ConfigLine line, List<ConfigProblem> problems) {
        if (!one(line, line.keyword() + " yes|no", problems)) {
            return null;
        }
        Boolean b = bool(line.arguments().get(0));
        if (b == null) {
            problems.add(ConfigProblem.error(line.locationOf(0), line.keyword() + " \"" + line.arguments().get(0)
                    + "\" (expected: yes or no)"));
        }
        return b;
    }

    /** keepalived's booleans: yes/no, true/false, on/off, any case. */
    static Boolean bool(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "yes", "true", "on" -> Boolean.TRUE;
            case "no", "false", "off" -> Boolean.FALSE;
            default -> null;
        };
    }

    private static Integer intIn(String text, int min, int max) {
        if (!text.matches("\\d{1,6}")) {
            return null;
        }
        int v = Integer.parseInt(text);
        return v < min || v > max ? null : v;
    }

    /** Seconds, decimals allowed down to the millisecond, in (0, 3600]; {@code null} otherwise. */
    static Duration seconds(String text) {
        if (!text.matches("\\d{1,4}(\\.\\d{1,3})?")) {
            return null;
        }
        long ms = new BigDecimal(text).movePointRight(3).longValueExact();
        return ms <= 0 || ms > 3_600_000 ? null : Duration.ofMillis(ms);
    }

    /** The first problem that is an error, if any. */
    static Optional<ConfigProblem> firstError(List<ConfigProblem> problems) {
        return problems.stream().filter(p -> p.severity() == ConfigProblem.Severity.ERROR).findFirst();
    }
}
