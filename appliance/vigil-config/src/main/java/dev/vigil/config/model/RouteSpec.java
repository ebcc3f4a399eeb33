package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.util.List;

/**
 * A route or rule line ({@code ip route} / {@code ip rule} syntax), kept as its words.
 *
 * @param words the words of the line
 * @param ref   where the line starts
 */
public record RouteSpec(List<String> words, SourceRef ref) {
    public RouteSpec {
        words = List.copyOf(words);
    }
}
