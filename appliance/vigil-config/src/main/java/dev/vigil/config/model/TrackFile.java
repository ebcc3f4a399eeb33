package dev.vigil.config.model;

import dev.vigil.config.SourceRef;

/**
 * A {@code track_file} (or deprecated {@code vrrp_track_file}).
 *
 * @param name          the tracker name
 * @param file          {@code file} path
 * @param weight        {@code weight} (1)
 * @param reverse       {@code weight ... reverse}
 * @param initFile      whether {@code init_file} was given
 * @param initValue     the {@code init_file} value (0)
 * @param initOverwrite {@code init_file ... overwrite}
 * @param ref           where the block starts
 */
public record TrackFile(String name, String file, int weight, boolean reverse, boolean initFile, int initValue,
                        boolean initOverwrite, SourceRef ref) {
}
