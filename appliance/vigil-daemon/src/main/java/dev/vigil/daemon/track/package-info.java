/**
 * Trackers for VRRP instances: {@code vrrp_script} probes, {@code track_interface} link states and
 * {@code track_file} values, folded per instance into a priority delta and a set of faults
 * ({@link dev.vigil.daemon.track.TrackerManager}), plus the script-running pieces shared with notifications
 * (command-line splitting, process groups, identity switching).
 */
package dev.vigil.daemon.track;
