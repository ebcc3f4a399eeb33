package dev.vigil.api;

import java.util.Objects;

/**
 * Where a word of the configuration is written, so that a plugin's complaint points at the exact
 * spot: {@code /etc/keepalived/keepalived.conf:42:13}.
 *
 * @param file   the file as the host opened it (absolute for the daemon)
 * @param line   1-based line
 * @param column 1-based column of the word's first character (a tab counts as one)
 */
public record Location(String file, int line, int column) {

    public Location {
        Objects.requireNonNull(file, "file");
        if (line < 1) {
            throw new IllegalArgumentException("line: " + line + " (expected: >= 1)");
        }
        if (column < 1) {
            throw new IllegalArgumentException("column: " + column + " (expected: >= 1)");
        }
    }

    /** {@code file:line:column}, the form every Vigil diagnostic starts with. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
