package dev.vigil.config.model;

/**
 * What the forwarder removes at shutdown ({@code global_defs lvs_flush_on_stop [VS]}, keepalived's
 * {@code check/ipwrapper.c: clear_services}). Nothing is removed when the daemon runs with
 * {@code --dont-release-ipvs}, whatever this says.
 */
public enum LvsFlushOnStop {
    /**
     * Not given: the virtual servers are removed, with {@code omega} running the live real servers'
     * {@code notify_down} and the virtual server's quorum-down notification (keepalived removes the
     * real servers one by one, then the virtual server).
     */
    NONE,
    /**
     * {@code lvs_flush_on_stop}: the whole table is flushed at once (IPVS: every service, those of
     * other tools included). Only the virtual servers' {@code omega} notifications run.
     */
    FULL,
    /**
     * {@code lvs_flush_on_stop VS}: each configured virtual server is removed whole, real servers
     * with it; nothing else is touched. Only the virtual servers' {@code omega} notifications run.
     */
    VS
}
