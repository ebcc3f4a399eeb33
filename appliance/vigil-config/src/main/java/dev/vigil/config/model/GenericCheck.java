package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * A checker block Vigil does not know itself (e.g. one a plugin provides), kept as written with the
 * shared options resolved.
 *
 * @param common shared options
 * @param raw    the block as written
 */
public record GenericCheck(CheckerCommon common, ConfigNode raw) implements Checker {
}
