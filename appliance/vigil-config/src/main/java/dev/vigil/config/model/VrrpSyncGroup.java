package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.util.List;

/**
 * A {@code vrrp_sync_group}: members move between states together.
 *
 * @param name            the group name
 * @param members         instance names from {@code group}
 * @param trackInterfaces group-level {@code track_interface}
 * @param trackScripts    group-level {@code track_script}
 * @param trackFiles      group-level {@code track_file}
 * @param notifyScript        {@code notify} or {@code null}
 * @param notifyMaster    {@code notify_master} or {@code null}
 * @param notifyBackup    {@code notify_backup} or {@code null}
 * @param notifyFault     {@code notify_fault} or {@code null}
 * @param notifyStop      {@code notify_stop} or {@code null}
 * @param smtpAlert       {@code smtp_alert}
 * @param globalTracking  {@code global_tracking} (deprecated)
 * @param syncGroupTrackingWeight {@code sync_group_tracking_weight}
 * @param ref             where the block starts
 */
public record VrrpSyncGroup(String name, List<String> members, List<TrackInterface> trackInterfaces,
                            List<TrackRef> trackScripts, List<TrackRef> trackFiles, String notifyScript,
                            String notifyMaster, String notifyBackup, String notifyFault, String notifyStop,
                            boolean smtpAlert, boolean globalTracking, boolean syncGroupTrackingWeight,
                            SourceRef ref) {
    public VrrpSyncGroup {
        members = List.copyOf(members);
        trackInterfaces = List.copyOf(trackInterfaces);
        trackScripts = List.copyOf(trackScripts);
        trackFiles = List.copyOf(trackFiles);
    }
}
