package dev.vigil.plugin.http;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.Location;
import dev.vigil.api.http.HttpGet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An {@code HTTP_GET} or {@code SSL_GET} block read into what the probe needs, with every problem
 * found on the way, each at the word it is about. Read once by {@code validate} (which reports the
 * problems) and once by {@code create} (which only runs blocks that had no error).
 *
 * @param ssl         {@code SSL_GET}
 * @param protocol    {@code http_protocol} (keepalived's default 1.0)
 * @param virtualhost the block's {@code virtualhost}, or {@code null}
 * @param sni         whether to send a server name: {@code enable_sni}, or a {@code sni_name} given
 * @param sniName     {@code sni_name}, or {@code null} (then the virtualhost is the name)
 * @param urls        the {@code url} blocks, in order
 * @param problems    what is wrong, empty when the block can run
 */
record HttpConfig(boolean ssl, HttpGet.Protocol protocol, String virtualhost, boolean sni, String sniName,
                  List<Url> urls, List<ConfigProblem> problems) {

    /**
     * One {@code url} block.
     *
     * @param path        {@code path}
     * @param digest      {@code digest}: MD5 of the body, 32 lower-case hex digits, or {@code null}
     * @param codes       the accepted status codes, {@code codes[c - 100]} for code {@code c}
     * @param codesText   how the accepted codes read in a result, e.g. {@code 200-299} or {@code 200, 301-302}
     * @param virtualhost the url's {@code virtualhost}, or {@code null}
     */
    record Url(String path, String digest, boolean[] codes, String codesText, String virtualhost) {

        /** Whether the url accepts status {@code code}. */
        boolean accepts(int code) {
            return code >= MIN_CODE && code <= MAX_CODE && codes[code - MIN_CODE];
        }
    }

    /** keepalived's status code bounds (HTTP_STATUS_CODE_MIN/MAX). */
    static final int MIN_CODE = 100;
    static final int MAX_CODE = 999;

    /** Reads {@code block}; never throws, whatever was written. */
    static HttpConfig read(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        boolean ssl = block.keyword().equals(HttpChecker.SSL_GET);
        HttpGet.Protocol protocol = HttpGet.Protocol.HTTP_1_0;
        String virtualhost = null;
        boolean enableSni = false;
        String sniName = null;
        List<Url> urls = new ArrayList<>();
        for (ConfigLine line : block.lines()) {
            switch (line.keyword()) {
                case "url" -> {
                    Url u = url(line, problems);
                    if (u != null) {
                        urls.add(u);
                    }
                }
                case "http_protocol" -> {
                    String w = needArgument(line, problems);
                    if (w != null) {
                        var p = HttpGet.Protocol.parse(w);
                        if (p.isPresent()) {
                            protocol = p.get();
                        } else {
                            problems.add(ConfigProblem.error(line.locationOf(0),
                                    "invalid http_protocol \"" + w + "\" (expected 1.0, 1.0C, 1.0c or 1.1)"));
                        }
                    }
                }
                case "virtualhost" -> {
                    String w = needArgument(line, problems);
                    if (w != null) {
                        virtualhost = w;
                    }
                }
                case "enable_sni" -> enableSni = bool(line, problems);
                case "sni_name" -> {
                    String w = needArgument(line, problems);
                    if (w != null) {
                        sniName = w;
                    }
                }
                case "fast_recovery" -> problems.add(ConfigProblem.warning(line.location(),
                        "fast_recovery is not supported: a failed real server is probed every delay_before_retry, then every delay_loop"));
                default -> {
                    // The shared options (connect_timeout, retry, delay_loop, ...) are the host's;
                    // tls_compliant needs nothing here (the JDK's TLS engine closes the session properly).
                }
            }
        }
        if (block.lines("url").isEmpty()) {
            problems.add(ConfigProblem.error(block.location(), block.keyword() + " has no url"));
        }
        if (!ssl && (enableSni || sniName != null)) {
            Location at = block.last(enableSni ? "enable_sni" : "sni_name").map(ConfigLine::location).orElse(block.location());
            problems.add(ConfigProblem.warning(at, "server names (SNI) are sent over TLS only: ignored for HTTP_GET"));
        }
        return new HttpConfig(ssl, protocol, virtualhost, enableSni || sniName != null, sniName, List.copyOf(urls),
                List.copyOf(problems));
    }

    /** Whether the block has an error (warnings let it run). */
    boolean hasErrors() {
        return problems.stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
    }

    /**
     * The {@code Host} header's name for {@code url}, in keepalived's order (check_http.c): its own
     * virtualhost, else the block's, else {@code inherited} (the real server's, else the virtual
     * server's), else none (then the address is sent).
     */
    String hostFor(Url url, String inherited) {
        return url.virtualhost() != null ? url.virtualhost() : virtualhost != null ? virtualhost : inherited;
    }

    /**
     * The server name to send for {@code url}, or {@code null}: only with {@code enable_sni} or
     * {@code sni_name}, as keepalived does; {@code sni_name}, else the {@link #hostFor host}.
     */
    String serverNameFor(Url url, String inherited) {
        if (!ssl || !sni) {
            return null;
        }
        return sniName != null ? sniName : hostFor(url, inherited);
    }

    private static Url url(ConfigLine line, List<ConfigProblem> problems) {
        if (line.children().isEmpty()) {
            problems.add(ConfigProblem.error(line.location(), "url has no path (expected url { path /... })"));
            return null;
        }
        String path = null;
        String digest = null;
        boolean[] codes = new boolean[MAX_CODE - MIN_CODE + 1];
        List<String> codeWords = new ArrayList<>();
        String virtualhost = null;
        boolean ok = true;
        for (ConfigLine c : line.children()) {
            switch (c.keyword()) {
                case "path" -> {
                    String w = needArgument(c, problems);
                    if (w == null) {
                        ok = false;
                    } else if (!w.startsWith("/") && !w.startsWith("http://") && !w.startsWith("https://")) {
                        problems.add(ConfigProblem.error(c.locationOf(0), "invalid path \"" + w + "\" (expected an absolute path such as /health)"));
                        ok = false;
                    } else if (w.chars().anyMatch(ch -> ch <= ' ' || ch == 0x7f)) {
                        problems.add(ConfigProblem.error(c.locationOf(0), "invalid path \"" + w + "\" (spaces and control characters must be percent-encoded)"));
                        ok = false;
                    } else {
                        path = w;
                    }
                }
                case "digest" -> {
                    String w = needArgument(c, problems);
                    if (w == null) {
                        ok = false;
                    } else if (digest != null) {
                        problems.add(ConfigProblem.error(c.location(), "digest given twice in one url"));
                        ok = false;
                    } else if (!w.matches("[0-9A-Fa-f]{32}")) {
                        problems.add(ConfigProblem.error(c.locationOf(0), "invalid digest \"" + w + "\" (expected 32 hex digits of MD5)"));
                        ok = false;
                    } else {
                        digest = w.toLowerCase(Locale.ROOT);
                    }
                }
                case "status_code" -> {
                    if (c.arguments().isEmpty()) {
                        problems.add(ConfigProblem.error(c.location(), "status_code needs a code or a range (e.g. 200 or 200-299)"));
                        ok = false;
                    }
                    for (int i = 0; i < c.arguments().size(); i++) {
                        String w = c.arguments().get(i);
                        int[] range = range(w);
                        if (range == null) {
                            problems.add(ConfigProblem.error(c.locationOf(i), "invalid status_code \"" + w
                                    + "\" (expected a code or a range of codes within " + MIN_CODE + "-" + MAX_CODE + ", e.g. 200 or 200-299)"));
                            ok = false;
                            continue;
                        }
                        for (int code = range[0]; code <= range[1]; code++) {
                            codes[code - MIN_CODE] = true;
                        }
                        codeWords.add(w);
                    }
                }
                case "virtualhost" -> {
                    String w = needArgument(c, problems);
                    if (w != null) {
                        virtualhost = w;
                    }
                }
                case "regex", "regex_no_match", "regex_options", "regex_stack", "regex_min_offset", "regex_max_offset" -> {
                    problems.add(ConfigProblem.error(c.location(), c.keyword()
                            + " is not supported by Vigil's " + "HTTP_GET/SSL_GET (status_code and digest are)"));
                    ok = false;
                }
                default -> {
                    problems.add(ConfigProblem.warning(c.location(), "unknown keyword \"" + c.keyword()
                            + "\" in url (expected path, digest, status_code or virtualhost); ignored"));
                }
            }
        }
        if (path == null) {
            if (ok) {
                problems.add(ConfigProblem.error(line.location(), "url has no path"));
            }
            return null;
        }
        if (codeWords.isEmpty()) {
            // keepalived's default when no status_code is given: any 2xx.
            for (int code = 200; code <= 299; code++) {
                codes[code - MIN_CODE] = true;
            }
            codeWords.add("200-299");
        }
        return ok ? new Url(path, digest, codes, String.join(", ", codeWords), virtualhost) : null;
    }

    /** {@code 200} or {@code 200-299} within 100-999, low end first; {@code null} otherwise. */
    static int[] range(String w) {
        if (!w.matches("\\d{1,4}(-\\d{1,4})?")) {
            return null;
        }
        int dash = w.indexOf('-');
        int from = Integer.parseInt(dash < 0 ? w : w.substring(0, dash));
        int to = dash < 0 ? from : Integer.parseInt(w.substring(dash + 1));
        if (from < MIN_CODE || to > MAX_CODE || from > to) {
            return null;
        }
        return new int[] {from, to};
    }

    private static String needArgument(ConfigLine line, List<ConfigProblem> problems) {
        if (line.arguments().isEmpty() || line.arguments().get(0).isEmpty()) {
            problems.add(ConfigProblem.error(line.location(), line.keyword() + " needs a value"));
            return null;
        }
        return line.arguments().get(0);
    }

    /** keepalived's optional boolean: none means on; {@code true}/{@code on}/{@code yes}, {@code false}/{@code off}/{@code no}. */
    private static boolean bool(ConfigLine line, List<ConfigProblem> problems) {
        if (line.arguments().isEmpty()) {
            return true;
        }
        String w = line.arguments().get(0).toLowerCase(Locale.ROOT);
        return switch (w) {
            case "true", "on", "yes" -> true;
            case "false", "off", "no" -> false;
            default -> {
                problems.add(ConfigProblem.error(line.locationOf(0), "invalid " + line.keyword() + " \"" + line.arguments().get(0)
                        + "\" (expected on or off)"));
                yield false;
            }
        };
    }
}
