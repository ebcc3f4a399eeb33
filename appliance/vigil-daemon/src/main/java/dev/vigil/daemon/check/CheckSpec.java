package dev.vigil.daemon.check;

import dev.vigil.api.CheckTarget;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.Inherited;

import java.util.Objects;

/**
 * One checker of one real server, as the engine runs it.
 *
 * @param key         unique and stable across reloads: the real server's name, the keyword and
 *                    its occurrence ({@code [10.0.0.2]:80 of [10.0.0.1]:tcp:80 TCP_CHECK#1})
 * @param realServer  the real server's name ({@code ServiceMapper.realServerName})
 * @param keyword     the checker keyword
 * @param pluginId    the plugin that provides it
 * @param location    where the block is, {@code file:line:col}
 * @param target      what it probes
 * @param block       the block as written
 * @param timing      when it probes and how results become a state
 * @param fingerprint the block and its resolved options without locations: a reload keeps the
 *                    checker (and its state) when this is unchanged
 * @param inherited   what the block inherits from its real server and virtual server, for the plugin
 */
public record CheckSpec(String key, String realServer, String keyword, String pluginId, String location,
                        CheckTarget target, ConfigBlock block, CheckTiming timing, String fingerprint,
                        Inherited inherited) {

    public CheckSpec {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(realServer, "realServer");
        Objects.requireNonNull(keyword, "keyword");
        Objects.requireNonNull(pluginId, "pluginId");
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(inherited, "inherited");
    }

    /** A checker that inherits nothing. */
    public CheckSpec(String key, String realServer, String keyword, String pluginId, String location,
                     CheckTarget target, ConfigBlock block, CheckTiming timing, String fingerprint) {
        this(key, realServer, keyword, pluginId, location, target, block, timing, fingerprint, Inherited.NONE);
    }
}
