package dev.vigil.api;

import java.util.List;
import java.util.Optional;

/**
 * The keepalived.conf block that configured a plugin instance, as written: its keyword and its
 * lines, each with its location so that a plugin can report {@code file:line:col} errors.
 */
public interface ConfigBlock {

    /** The block keyword, e.g. {@code HTTP_GET} or a third party's {@code REDIS_CHECK}. */
    String keyword();

    /** Location of the keyword as {@code file:line:col}. */
    String location();

    /** Lines of the block in order; nested blocks appear as lines with children. */
    List<Line> lines();

    /** The first line with this keyword, if any. */
    default Optional<Line> line(String keyword) {
        return lines().stream().filter(l -> l.keyword().equals(keyword)).findFirst();
    }

    /** One configuration line: keyword, arguments, nested lines, location. */
    interface Line {
        String keyword();

        List<String> arguments();

        List<Line> children();

        String location();
    }
}
