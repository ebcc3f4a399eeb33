package com.example.vigil.redis;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code REDIS_CHECK}: a Redis server is up when it answers {@code PING} with {@code +PONG}. An
 * example of a checker written by a third party, against the plugin API, PF4J and Netty alone.
 *
 * <p>Keywords of its own, each at most once (the last one wins, as in keepalived):
 * <ul>
 *   <li>{@code password SECRET}: sent with {@code AUTH} before {@code PING}, for a server with
 *       {@code requirepass}; the server must answer {@code +OK};</li>
 *   <li>{@code expect REPLY}: the reply {@code PING} must get instead of {@code +PONG}, as a RESP
 *       simple string or error line ({@code +PONG}, {@code "-LOADING Redis is loading the dataset in memory"}).</li>
 * </ul>
 * Every other keyword of the block is one of the options all checkers share ({@code connect_timeout},
 * {@code connect_ip}, {@code delay_loop}, ...), which the host reads; anything else draws a warning.
 *
 * <p>Stateless, as the API asks: the block is read in {@link #create}, and each target gets a
 * {@link RedisProbe} of its own.
 */
@Extension
public final class RedisChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "REDIS_CHECK";

    /** What {@code PING} gets from a healthy server (the Redis {@code PING} command's reply). */
    static final String DEFAULT_EXPECT = "+PONG";

    /** A reply line longer than this is not a reply to {@code PING} or {@code AUTH}. */
    static final int MAX_LINE = 512;

    /** The options every checker block may hold, read by the host (keepalived's, plus rise and fall). */
    static final Set<String> SHARED = Set.of("connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "fwmark",
            "alpha", "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "warmup", "delay_loop",
            "log_all_failures", "rise", "fall");

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    /**
     * {@code password} must be one non-empty word without control characters (it goes on the wire
     * as a RESP bulk string, but a line break in it is certainly a mistake); {@code expect} one
     * RESP simple string or error line of printable ASCII. Unknown keywords are warned about.
     */
    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (ConfigLine line : block.lines()) {
            switch (line.keyword()) {
                case "password" -> {
                    if (oneArgument(line, "password SECRET", problems)) {
                        String secret = line.arguments().get(0);
                        if (secret.isEmpty()) {
                            problems.add(ConfigProblem.error(line.locationOf(0),
                                    "password is empty (expected: the server's requirepass or ACL password)"));
                        } else if (secret.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                            problems.add(ConfigProblem.error(line.locationOf(0),
                                    "password contains a control character (expected: printable characters)"));
                        }
                    }
                }
                case "expect" -> {
                    if (oneArgument(line, "expect REPLY", problems) && !replyLine(line.arguments().get(0))) {
                        problems.add(ConfigProblem.error(line.locationOf(0), "expect \"" + line.arguments().get(0)
                                + "\" (expected: a RESP simple string or error line of printable ASCII, at most "
                                + MAX_LINE + " characters, such as +PONG or \"-LOADING Redis is loading\")"));
                    }
                }
                default -> {
                    if (!SHARED.contains(line.keyword())) {
                        problems.add(ConfigProblem.warning(line.location(), "unknown keyword \"" + line.keyword()
                                + "\" in " + KEYWORD + " is ignored (expected: password, expect or an option every checker takes)"));
                    }
                }
            }
        }
        return problems;
    }

    /** Whether {@code line} has exactly one argument and no block; complains at the right word if not. */
    private static boolean oneArgument(ConfigLine line, String usage, List<ConfigProblem> problems) {
        if (!line.children().isEmpty()) {
            problems.add(ConfigProblem.error(line.location(), line.keyword() + " opens no block (expected: " + usage + ")"));
            return false;
        }
        if (line.arguments().size() != 1) {
            problems.add(ConfigProblem.error(line.locationOf(line.arguments().isEmpty() ? 0 : 1),
                    line.keyword() + " takes one " + (line.arguments().isEmpty() ? "argument, none given" : "argument")
                            + " (expected: " + usage + "; quote a value with spaces)"));
            return false;
        }
        return true;
    }

    /**
     * A RESP simple string ({@code +}) or simple error ({@code -}) line without its CRLF: printable
     * ASCII only, since such a line may hold neither CR nor LF.
     */
    static boolean replyLine(String s) {
        if (s.length() < 2 || s.length() > MAX_LINE || s.charAt(0) != '+' && s.charAt(0) != '-') {
            return false;
        }
        return s.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
    }

    @Override
    public Probe create(CheckContext context) {
        ConfigBlock block = context.config();
        byte[] password = block.last("password").flatMap(l -> l.argument(0))
                .map(p -> p.getBytes(StandardCharsets.UTF_8)).orElse(null);
        String expect = block.last("expect").flatMap(l -> l.argument(0)).orElse(DEFAULT_EXPECT);
        return new RedisProbe(context, password, expect);
    }
}
