package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code TCP_CHECK}: a connect within {@code connect_timeout} succeeds.
 *
 * @param common shared options
 * @param raw    the block as written
 */
public record TcpCheck(CheckerCommon common, ConfigNode raw) implements Checker {
}
