package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code FILE_CHECK}: a value read from a {@code track_file}.
 *
 * @param common    shared options
 * @param trackFile {@code track_file} name
 * @param dynamic   {@code dynamic}
 * @param weight    {@code weight} (0)
 * @param reverse   {@code weight ... reverse}
 * @param raw       the block as written
 */
public record FileCheck(CheckerCommon common, String trackFile, boolean dynamic, int weight, boolean reverse,
                        ConfigNode raw) implements Checker {
}
