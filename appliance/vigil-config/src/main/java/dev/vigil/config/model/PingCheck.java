package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code PING_CHECK}: ICMP echo.
 *
 * @param common shared options
 * @param raw    the block as written
 */
public record PingCheck(CheckerCommon common, ConfigNode raw) implements Checker {
}
