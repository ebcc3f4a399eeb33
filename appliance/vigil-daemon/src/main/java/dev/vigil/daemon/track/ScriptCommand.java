package dev.vigil.daemon.track;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A configured command line split into an argument vector, plus the identity it runs as.
 *
 * <p>keepalived takes {@code script}, {@code notify*} and {@code *_fifo_script} values as one string and
 * splits it into words itself: blanks separate words, single quotes keep everything literal, double quotes
 * group words while a backslash still escapes the next character, and a backslash outside quotes escapes
 * the next character. Vigil splits the same way and runs the program directly, without a shell.
 *
 * @param argv  program and arguments, never empty
 * @param user  user to run as, or {@code null} for the daemon's own identity
 * @param group group to run as, or {@code null} for the user's primary group
 */
public record ScriptCommand(List<String> argv, String user, String group) {

    public ScriptCommand {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv: [] (expected: at least the program)");
        }
    }

    /** Splits {@code commandLine} and attaches the identity. */
    public static ScriptCommand parse(String commandLine, String user, String group) {
        return new ScriptCommand(split(commandLine), user, group);
    }

    /** This command with {@code extra} appended to the arguments. */
    public ScriptCommand withArgs(List<String> extra) {
        List<String> all = new ArrayList<>(argv);
        all.addAll(extra);
        return new ScriptCommand(all, user, group);
    }

    /** The program, for messages. */
    public String program() {
        return argv.get(0);
    }

    /**
     * Splits a command line into words as described on the type.
     *
     * @throws IllegalArgumentException on an unterminated quote or an empty line
     */
    public static List<String> split(String commandLine) {
        Objects.requireNonNull(commandLine, "commandLine");
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < commandLine.length(); i++) {
            char c = commandLine.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\\' && i + 1 < commandLine.length()) {
                word.append(commandLine.charAt(++i));
                inWord = true;
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
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
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + quote + " in command: " + commandLine);
        }
        if (inWord) {
            words.add(word.toString());
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("empty command line");
        }
        return words;
    }
}
