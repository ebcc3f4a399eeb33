package dev.vigil.config.lex;

import java.util.Arrays;

/**
 * A line of text where every character remembers the column it came from in the original file and
 * whether it is literal (produced by {@code ${_HASH}} / {@code ${_BANG}}, never a comment, quote or brace).
 */
final class SourceText {
    final String text;
    final int[] cols;
    final boolean[] literal;

    SourceText(String text, int[] cols, boolean[] literal) {
        this.text = text;
        this.cols = cols;
        this.literal = literal;
    }

    /** A physical line: column i+1 for character i. */
    static SourceText of(String line) {
        int[] cols = new int[line.length()];
        for (int i = 0; i < cols.length; i++) {
            cols[i] = i + 1;
        }
        return new SourceText(line, cols, new boolean[line.length()]);
    }

    int length() {
        return text.length();
    }

    SourceText sub(int from, int to) {
        return new SourceText(text.substring(from, to), Arrays.copyOfRange(cols, from, to),
                Arrays.copyOfRange(literal, from, to));
    }

    SourceText sub(int from) {
        return sub(from, text.length());
    }

    /** Column of character i, or the column after the last character. */
    int colAt(int i) {
        if (i < cols.length) {
            return cols[i];
        }
        return cols.length == 0 ? 1 : cols[cols.length - 1] + 1;
    }

    /** Mutable accumulator. */
    static final class Builder {
        private final StringBuilder sb = new StringBuilder();
        private int[] cols = new int[32];
        private boolean[] lit = new boolean[32];

        void append(char c, int col, boolean literal) {
            if (sb.length() == cols.length) {
                cols = Arrays.copyOf(cols, cols.length * 2);
                lit = Arrays.copyOf(lit, lit.length * 2);
            }
            cols[sb.length()] = col;
            lit[sb.length()] = literal;
            sb.append(c);
        }

        void append(SourceText t, int from, int to) {
            for (int i = from; i < to; i++) {
                append(t.text.charAt(i), t.cols[i], t.literal[i]);
            }
        }

        void append(SourceText t) {
            append(t, 0, t.length());
        }

        void appendAll(String s, int col, boolean literal) {
            for (int i = 0; i < s.length(); i++) {
                append(s.charAt(i), col, literal);
            }
        }

        int length() {
            return sb.length();
        }

        SourceText build() {
            int n = sb.length();
            return new SourceText(sb.toString(), Arrays.copyOf(cols, n), Arrays.copyOf(lit, n));
        }
    }
}
