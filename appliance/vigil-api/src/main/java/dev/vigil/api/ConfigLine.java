package dev.vigil.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One statement of a configuration block as written: its keyword, its arguments (quotes removed,
 * parameters substituted), each with its {@link Location}, and the statements of its own
 * {@code { ... }} block if it opens one ({@code url { path / }} inside {@code HTTP_GET}).
 *
 * @param keyword           the first word
 * @param location          where the keyword is
 * @param arguments         the other words on the line
 * @param argumentLocations where each argument is; same size as {@code arguments}
 * @param children          the statements of its block; empty when it opens none
 */
public record ConfigLine(String keyword, Location location, List<String> arguments, List<Location> argumentLocations,
                         List<ConfigLine> children) {

    public ConfigLine {
        Objects.requireNonNull(keyword, "keyword");
        Objects.requireNonNull(location, "location");
        arguments = List.copyOf(arguments);
        argumentLocations = List.copyOf(argumentLocations);
        children = List.copyOf(children);
        if (arguments.size() != argumentLocations.size()) {
            throw new IllegalArgumentException("argumentLocations: " + argumentLocations.size()
                    + " (expected: one per argument, " + arguments.size() + ")");
        }
    }

    /** The argument at {@code index} (0 is the first after the keyword), if written. */
    public Optional<String> argument(int index) {
        return index >= 0 && index < arguments.size() ? Optional.of(arguments.get(index)) : Optional.empty();
    }

    /** Where argument {@code index} is, or the keyword's location when it is missing: the place to complain about it. */
    public Location locationOf(int index) {
        return index >= 0 && index < argumentLocations.size() ? argumentLocations.get(index) : location;
    }

    /** The first statement of this line's block with {@code keyword}. */
    public Optional<ConfigLine> child(String keyword) {
        return children.stream().filter(c -> c.keyword.equals(keyword)).findFirst();
    }
}
