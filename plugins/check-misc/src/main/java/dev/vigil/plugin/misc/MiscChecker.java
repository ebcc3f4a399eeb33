package dev.vigil.plugin.misc;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code MISC_CHECK} (keepalived's check_misc.c): a script decides. Exit status 0 is up, anything
 * else down; with {@code misc_dynamic}, exit status 2 to 255 is up too and sets the real server's
 * weight to the status minus 2 (0 to 253), and 1 is down. A script still running after
 * {@code misc_timeout} fails the probe; it and every process of its process group get
 * {@code SIGTERM}, then {@code SIGKILL}.
 *
 * <p>Keywords: {@code misc_path} (the command line: one quoted word split as a shell would split
 * it, without expansions, or several plain words), {@code misc_timeout} (seconds; when absent the
 * host's timeout for the block, which is {@code delay_loop}), {@code misc_dynamic}, and
 * {@code user USER [GROUP]} (the script runs as that user, through {@code runuser}).
 */
@Extension
public final class MiscChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "MISC_CHECK";

    /** keepalived's upper bound for {@code misc_timeout}, in seconds. */
    static final double MAX_TIMEOUT_SECONDS = 2_147_483;

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        Optional<ConfigLine> path = block.last("misc_path");
        if (path.isEmpty()) {
            problems.add(ConfigProblem.error(block.location(), "MISC_CHECK has no misc_path"));
        } else {
            try {
                if (command(path.get()).isEmpty()) {
                    problems.add(ConfigProblem.error(path.get().locationOf(0), "misc_path names no program"));
                }
            } catch (IllegalArgumentException e) {
                problems.add(ConfigProblem.error(path.get().locationOf(0), "misc_path: " + e.getMessage()));
            }
        }
        block.last("misc_timeout").ifPresent(l -> {
            try {
                timeout(l);
            } catch (IllegalArgumentException e) {
                problems.add(ConfigProblem.error(l.locationOf(0), e.getMessage()));
            }
        });
        block.last("user").ifPresent(l -> {
            if (l.arguments().isEmpty()) {
                problems.add(ConfigProblem.error(l.location(), "user needs a user name"));
            } else if (l.arguments().size() > 2) {
                problems.add(ConfigProblem.error(l.locationOf(2), "user takes a user and an optional group, not "
                        + l.arguments().size() + " words"));
            }
        });
        return problems;
    }

    @Override
    public Probe create(CheckContext context) {
        ConfigBlock block = context.config();
        List<String> command = command(block.last("misc_path")
                .orElseThrow(() -> new IllegalArgumentException("MISC_CHECK has no misc_path")));
        Duration timeout = block.last("misc_timeout").map(MiscChecker::timeout).orElse(context.connectTimeout());
        boolean dynamic = block.last("misc_dynamic").isPresent();
        List<String> user = block.last("user").map(ConfigLine::arguments).orElse(List.of());
        return new MiscProbe(context, command, user, timeout, dynamic);
    }

    /** {@code misc_timeout} in seconds (fractions allowed), positive and at most keepalived's limit. */
    static Duration timeout(ConfigLine line) {
        String text = line.argument(0).orElseThrow(() -> new IllegalArgumentException("misc_timeout needs a number of seconds"));
        double seconds;
        try {
            seconds = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("misc_timeout \"" + text + "\" is not a number of seconds");
        }
        if (!(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS) {
            throw new IllegalArgumentException("misc_timeout " + text + " (expected: more than 0, at most "
                    + (long) MAX_TIMEOUT_SECONDS + " seconds)");
        }
        return Duration.ofNanos(Math.max(1_000, Math.round(seconds * 1e9)));
    }

    /**
     * The program and its arguments. The words of the line are joined again (a quoted
     * {@code misc_path "/bin/check -p 80"} is one word, a plain one several) and split the way a
     * shell splits words: blanks separate, single quotes keep everything, double quotes keep all
     * but a backslash before {@code "} or {@code \}, and a backslash outside quotes keeps the next
     * character. Nothing is expanded: the program is run directly, not through a shell.
     *
     * @throws IllegalArgumentException on an unterminated quote
     */
    static List<String> command(ConfigLine line) {
        return split(String.join(" ", line.arguments()));
    }

    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\'') {
                int end = text.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated ' at character " + (i + 1));
                }
                word.append(text, i + 1, end);
                i = end;
                inWord = true;
            } else if (c == '"') {
                int j = i + 1;
                while (j < text.length() && text.charAt(j) != '"') {
                    char d = text.charAt(j);
                    if (d == '\\' && j + 1 < text.length() && (text.charAt(j + 1) == '"' || text.charAt(j + 1) == '\\')) {
                        j++;
                        d = text.charAt(j);
                    }
                    word.append(d);
                    j++;
                }
                if (j >= text.length()) {
                    throw new IllegalArgumentException("unterminated \" at character " + (i + 1));
                }
                i = j;
                inWord = true;
            } else if (c == '\\' && i + 1 < text.length()) {
                word.append(text.charAt(++i));
                inWord = true;
            } else if (c == ' ' || c == '\t') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
