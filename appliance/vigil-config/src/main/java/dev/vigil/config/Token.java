package dev.vigil.config;

import java.util.Objects;

/**
 * A word of the configuration after comments, conditionals, parameters and quotes were processed.
 *
 * @param text   the word (quotes removed, escapes decoded)
 * @param ref    where the word starts in its file
 * @param quoted whether any part of the word was quoted
 */
public record Token(String text, SourceRef ref, boolean quoted) {
    public Token {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(ref, "ref");
    }

    /** Whether this is an unquoted opening brace. */
    public boolean isOpen() {
        return !quoted && text.equals("{");
    }

    /** Whether this is an unquoted closing brace. */
    public boolean isClose() {
        return !quoted && text.equals("}");
    }

    @Override
    public String toString() {
        return text;
    }
}
