package dev.vigil.config;

import java.util.List;
import java.util.Objects;

/**
 * One statement of the configuration: a keyword, its arguments on the same line and, when it opens one,
 * its {@code { ... }} block. Model records keep the nodes they were built from where plugins may need them
 * (checker blocks).
 *
 * @param keyword   the first word
 * @param args      the remaining words of the statement
 * @param block     the statements of the block, or {@code null} when the statement opens none
 * @param openBrace where the block's {@code {} is, or {@code null}
 */
public record ConfigNode(Token keyword, List<Token> args, List<ConfigNode> block, SourceRef openBrace) {
    public ConfigNode {
        Objects.requireNonNull(keyword, "keyword");
        args = List.copyOf(args);
        block = block == null ? null : List.copyOf(block);
    }

    /** The keyword text. */
    public String name() {
        return keyword.text();
    }

    /** Where the statement starts. */
    public SourceRef ref() {
        return keyword.ref();
    }

    /** Whether the statement opens a block. */
    public boolean hasBlock() {
        return block != null;
    }

    /** The argument texts. */
    public List<String> argTexts() {
        return args.stream().map(Token::text).toList();
    }

    /** Keyword and arguments, in order. */
    public List<Token> words() {
        var all = new java.util.ArrayList<Token>(args.size() + 1);
        all.add(keyword);
        all.addAll(args);
        return List.copyOf(all);
    }

    /** The block, or an empty list. */
    public List<ConfigNode> children() {
        return block == null ? List.of() : block;
    }

    @Override
    public String toString() {
        return String.join(" ", words().stream().map(Token::text).toList()) + (block != null ? " {...}" : "");
    }
}
