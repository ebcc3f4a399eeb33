package dev.vigil.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The block that configures one checker, exactly as written in keepalived.conf: a plugin reads
 * its own keywords here ({@code url}, {@code helo_name}, or a third party's {@code redis_password}).
 * The options every checker shares ({@code connect_timeout}, {@code retry}, {@code delay_loop},
 * {@code connect_ip}, ...) are resolved by the host and also appear in the {@link CheckContext}
 * and {@link CheckTarget}; they are included here as lines too, as written.
 *
 * @param keyword  the block keyword, e.g. {@code TCP_CHECK} or {@code REDIS_CHECK}
 * @param location where the keyword is
 * @param lines    the statements of the block, in order
 */
public record ConfigBlock(String keyword, Location location, List<ConfigLine> lines) {

    public ConfigBlock {
        Objects.requireNonNull(keyword, "keyword");
        Objects.requireNonNull(location, "location");
        lines = List.copyOf(lines);
    }

    /** The first statement with {@code keyword}; keepalived lets a repeated option's last value win, see {@link #last}. */
    public Optional<ConfigLine> line(String keyword) {
        return lines.stream().filter(l -> l.keyword().equals(keyword)).findFirst();
    }

    /** The last statement with {@code keyword} (the one in force when an option is repeated). */
    public Optional<ConfigLine> last(String keyword) {
        ConfigLine found = null;
        for (ConfigLine l : lines) {
            if (l.keyword().equals(keyword)) {
                found = l;
            }
        }
        return Optional.ofNullable(found);
    }

    /** Every statement with {@code keyword}, in order ({@code url} blocks, for instance). */
    public List<ConfigLine> lines(String keyword) {
        return lines.stream().filter(l -> l.keyword().equals(keyword)).toList();
    }
}
