package dev.vigil.vrrp.runtime;

/**
 * Receives {@link RouterEvent}s on the engine thread. Must not block; the hook for notify
 * scripts, sync groups and logging.
 */
@FunctionalInterface
public interface RouterListener {

    /** A listener that ignores everything. */
    RouterListener NONE = e -> { };

    void onEvent(RouterEvent event);
}
