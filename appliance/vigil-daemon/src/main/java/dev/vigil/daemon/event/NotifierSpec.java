package dev.vigil.daemon.event;

import dev.vigil.api.ConfigBlock;
import dev.vigil.daemon.plugin.ConfigBlocks;

import java.time.Duration;
import java.util.Objects;

/**
 * One notifier as the configuration asks for it, checked: a {@code vigil_notifier} block, or the
 * {@code smtp_alert} notifier made from keepalived's mail keywords.
 *
 * @param name    the block's name ({@code smtp_alert} for keepalived's mail)
 * @param type    the notifier type, installed
 * @param block   the block the notifier's plugin reads
 * @param timeout how long one delivery may take ({@code timeout}, default 10 s)
 * @param filter  which events it gets
 */
public record NotifierSpec(String name, String type, ConfigBlock block, Duration timeout, EventFilter filter) {

    /** The delivery timeout when a block gives none. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public NotifierSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(filter, "filter");
    }

    /**
     * What a reload compares: two specs with the same identity keep one sink (and its lane and
     * counters); the filter may still change, without a new sink. Locations do not count.
     */
    public String identity() {
        return type + " " + timeout.toMillis() + " " + ConfigBlocks.text(block);
    }
}
