package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code BFD_CHECK}: the state of a {@code bfd_instance}.
 *
 * @param common shared options
 * @param name   {@code name} of the BFD instance
 * @param raw    the block as written
 */
public record BfdCheck(CheckerCommon common, String name, ConfigNode raw) implements Checker {
}
