package dev.vigil.config.model;

import dev.vigil.config.SourceRef;

/**
 * A {@code track_interface} entry; weight 0 means FAULT when the interface is down.
 *
 * @param name    the interface
 * @param weight  weight -253..253 (0)
 * @param reverse whether the weight applies inverted
 * @param ref     where the entry is
 */
public record TrackInterface(String name, int weight, boolean reverse, SourceRef ref) {
}
