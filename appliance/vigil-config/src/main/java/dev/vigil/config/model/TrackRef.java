package dev.vigil.config.model;

import dev.vigil.config.SourceRef;

/**
 * A reference from an instance or group to a tracker defined elsewhere ({@code track_script},
 * {@code track_file}, {@code track_process}, {@code track_bfd}).
 *
 * @param name    the tracker's name
 * @param weight  weight override, or {@code null} to use the tracker's own
 * @param reverse whether {@code reverse} was given
 * @param ref     where the entry is
 */
public record TrackRef(String name, Integer weight, boolean reverse, SourceRef ref) {
}
