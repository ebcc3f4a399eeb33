package dev.vigil.plugin.webhook;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import org.pf4j.Extension;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code webhook} notifier: every event POSTed as a JSON object to one or more URLs, signed
 * with HMAC-SHA256 when a secret is set, retried with a doubling back-off within the host's
 * delivery timeout.
 *
 * <pre>
 * vigil_notifier ops-hook {
 *     type webhook
 *     url http://10.9.0.100:8080/hook        (one or more; each gets every event)
 *     secret s3cret                          (optional: X-Vigil-Signature)
 *     timeout 10                             (the host's: the whole delivery, retries included)
 *     retries 3                              (optional: attempts after the first, 0 to 10)
 *     retry_delay 1                          (optional: seconds before the first retry, then doubling)
 *     header Authorization "Bearer abc"      (optional, repeatable: sent with every POST)
 * }
 * </pre>
 *
 * <p>One keyword per line, as keepalived writes its blocks; a repeated {@code secret},
 * {@code retries} or {@code retry_delay} takes its last value, as keepalived's options do. The
 * block is Vigil's own, so an unknown keyword is an error rather than keepalived's ignored
 * warning: a misspelt {@code secret} would otherwise send unsigned events without a word.
 * The body, the signature and the delivery rules are {@link WebhookPayload}'s and
 * {@link WebhookSink}'s.
 */
@Extension
public final class WebhookNotifier implements Notifier {

    static final String TYPE = "webhook";
    /** The keywords the host reads and checks itself (type, events filter, delivery timeout). */
    static final Set<String> HOST_KEYWORDS = Set.of("type", "events", "timeout");
    static final int DEFAULT_RETRIES = 3;
    static final int MAX_RETRIES = 10;
    static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY_DELAY = Duration.ofHours(1);
    /** The headers a {@code header} line may not set: the notifier's own. */
    static final Set<String> OWN_HEADERS = Set.of("content-type", "user-agent", WebhookPayload.SIGNATURE_HEADER.toLowerCase(Locale.ROOT));
    private static final Pattern WHOLE = Pattern.compile("[0-9]{1,9}");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,9}(\\.[0-9]{1,9})?");
    /** RFC 9110 §5.6.2: a field name is a token of tchars. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    @Override
    public Set<String> types() {
        return Set.of(TYPE);
    }

    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        boolean url = false;
        for (ConfigLine line : block.lines()) {
            if (HOST_KEYWORDS.contains(line.keyword())) {
                continue;
            }
            if (!line.children().isEmpty()) {
                problems.add(ConfigProblem.error(line.location(), line.keyword() + " opens a block (expected: one keyword per line, "
                        + line.keyword() + " VALUE)"));
                continue;
            }
            switch (line.keyword()) {
                case "url" -> {
                    url = true;
                    if (oneArgument(line, "url http://HOST[:PORT]/PATH", problems)) {
                        String problem = urlProblem(line.arguments().get(0));
                        if (problem != null) {
                            problems.add(ConfigProblem.error(line.locationOf(0), problem));
                        }
                    }
                }
                case "secret" -> {
                    if (oneArgument(line, "secret TEXT", problems) && line.arguments().get(0).isEmpty()) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "secret is empty (expected: the key the receiver verifies X-Vigil-Signature with)"));
                    }
                }
                case "retries" -> {
                    if (oneArgument(line, "retries N", problems) && retries(line.arguments().get(0)) < 0) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "retries \"" + line.arguments().get(0)
                                + "\" (expected: a whole number from 0 to " + MAX_RETRIES + ")"));
                    }
                }
                case "retry_delay" -> {
                    if (oneArgument(line, "retry_delay SECONDS", problems) && seconds(line.arguments().get(0)) == null) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "retry_delay \"" + line.arguments().get(0)
                                + "\" (expected: seconds, more than 0 and at most 3600, such as 1 or 0.5)"));
                    }
                }
                case "header" -> headerProblems(line, problems);
                default -> problems.add(ConfigProblem.error(line.location(), "unknown keyword \"" + line.keyword()
                        + "\" in a webhook notifier (expected: url, secret, retries, retry_delay, header, or the host's type, events, timeout)"));
            }
        }
        if (!url) {
            problems.add(ConfigProblem.error(block.location(), "a webhook notifier needs a url (expected: url http://HOST[:PORT]/PATH, one line per URL)"));
        }
        return problems;
    }

    @Override
    public Sink create(NotifierContext context) {
        List<ConfigProblem> problems = validate(context.config()).stream()
                .filter(p -> p.severity() == ConfigProblem.Severity.ERROR).toList();
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.get(0).location() + ": " + problems.get(0).message());
        }
        return new WebhookSink(context, WebhookSink.Settings.of(context.config()));
    }

    /** Exactly one argument; otherwise an error at the word that is wrong (or at the keyword when none is). */
    private static boolean oneArgument(ConfigLine line, String usage, List<ConfigProblem> problems) {
        if (line.arguments().size() == 1) {
            return true;
        }
        problems.add(ConfigProblem.error(line.locationOf(line.arguments().isEmpty() ? 0 : 1), line.keyword()
                + (line.arguments().isEmpty() ? " needs a value" : " takes one value") + " (expected: " + usage + ")"));
        return false;
    }

    /** What is wrong with a {@code url} value, or {@code null} when the HTTP client can POST to it. */
    static String urlProblem(String text) {
        if (!text.contains("://")) {
            return "url \"" + text + "\" has no scheme (expected: http://HOST[:PORT]/PATH or https://...)";
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return "url \"" + text + "\" is not a URL: " + e.getReason() + " at character " + (e.getIndex() + 1)
                    + " (expected: http://HOST[:PORT]/PATH or https://...)";
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            return "url \"" + text + "\" " + (scheme == null ? "has no scheme" : "has scheme " + uri.getScheme())
                    + " (expected: http://HOST[:PORT]/PATH or https://...)";
        }
        if (uri.getHost() == null) {
            return "url \"" + text + "\" has no host, or one that is not a valid host name (expected: http://HOST[:PORT]/PATH)";
        }
        if (uri.getRawUserInfo() != null) {
            return "url \"" + text + "\" carries credentials, which are not sent (expected: a header line for them, "
                    + "such as header Authorization \"Basic ...\")";
        }
        try {
            HttpRequest.newBuilder(uri);
        } catch (IllegalArgumentException e) {
            return "url \"" + text + "\" is refused by the HTTP client: " + e.getMessage();
        }
        return null;
    }

    /** {@code header NAME VALUE...}: the words after the name, joined by single spaces, are the value. */
    private static void headerProblems(ConfigLine line, List<ConfigProblem> problems) {
        if (line.arguments().size() < 2) {
            problems.add(ConfigProblem.error(line.locationOf(line.arguments().size()), "header needs a name and a value"
                    + " (expected: header NAME VALUE, such as header Authorization \"Bearer TOKEN\")"));
            return;
        }
        String name = line.arguments().get(0);
        if (!TOKEN.matcher(name).matches()) {
            problems.add(ConfigProblem.error(line.locationOf(0), "header name \"" + name
                    + "\" is not an HTTP field name (expected: letters, digits and !#$%&'*+-.^_`|~, RFC 9110 section 5.6.2)"));
            return;
        }
        if (OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
            problems.add(ConfigProblem.error(line.locationOf(0), "header " + name
                    + " is set by the webhook notifier itself (expected: another header)"));
            return;
        }
        String value = headerValue(line);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                problems.add(ConfigProblem.error(line.locationOf(1), "header " + name
                        + " value contains a control character (expected: printable characters, RFC 9110 section 5.5)"));
                return;
            }
        }
        try {
            HttpRequest.newBuilder().header(name, value);
        } catch (IllegalArgumentException e) {
            problems.add(ConfigProblem.error(line.locationOf(0), "header " + name + " cannot be set: the HTTP client refuses it ("
                    + e.getMessage() + ")"));
        }
    }

    static String headerValue(ConfigLine line) {
        return String.join(" ", line.arguments().subList(1, line.arguments().size()));
    }

    /** {@code retries}: 0 to {@link #MAX_RETRIES}, or -1 when not such a number. */
    static int retries(String text) {
        if (!WHOLE.matcher(text).matches()) {
            return -1;
        }
        int n = Integer.parseInt(text);
        return n <= MAX_RETRIES ? n : -1;
    }

    /** Seconds as written ({@code 1}, {@code 0.25}): more than 0, at most {@link #MAX_RETRY_DELAY}; {@code null} otherwise. */
    static Duration seconds(String text) {
        if (!DECIMAL.matcher(text).matches()) {
            return null;
        }
        BigDecimal nanos = new BigDecimal(text).movePointRight(9);
        if (nanos.signum() <= 0 || nanos.compareTo(BigDecimal.valueOf(MAX_RETRY_DELAY.toNanos())) > 0) {
            return null;
        }
        return Duration.ofNanos(nanos.longValue());
    }
}
