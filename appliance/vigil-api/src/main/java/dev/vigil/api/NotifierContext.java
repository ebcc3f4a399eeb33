package dev.vigil.api;

import java.time.Clock;
import java.time.Duration;

/**
 * What the host gives one configured notifier: its name and block, the time it may take per
 * delivery, a clock and a logger. Every method is cheap, thread-safe and non-blocking.
 */
public interface NotifierContext {

    /** The block's name: {@code ops-hook} in {@code vigil_notifier ops-hook { ... }}. */
    String name();

    /**
     * The block as written, with locations. The host's own keywords ({@code type}, {@code events},
     * {@code timeout}) are in it too; a plugin ignores them.
     */
    ConfigBlock config();

    /** The {@code router_id} events carry as their node. */
    String node();

    /** How long one {@link Notifier.Sink#deliver} may take, retries included ({@code timeout}, default 10 s). */
    Duration deliveryTimeout();

    /** The host's clock. */
    Clock clock();

    /** A logger whose lines reach the daemon's log, named after the notifier. */
    System.Logger logger();
}
