package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A whole keepalived configuration.
 *
 * @param globalDefs          {@code global_defs}
 * @param staticIpaddresses   {@code static_ipaddress} entries, dev resolved to {@code default_interface}
 * @param staticRoutes        {@code static_routes} lines
 * @param staticRules         {@code static_rules} lines
 * @param vrrpScripts         {@code vrrp_script} blocks
 * @param trackFiles          {@code track_file} / {@code vrrp_track_file} blocks
 * @param syncGroups          {@code vrrp_sync_group} blocks
 * @param vrrpInstances       {@code vrrp_instance} blocks
 * @param virtualServerGroups {@code virtual_server_group} blocks
 * @param virtualServers      {@code virtual_server} blocks
 * @param notifiers           Vigil's {@code vigil_notifier} blocks, in file order
 * @param otherBlocks         top-level statements accepted but not modelled ({@code bfd_instance}, ...)
 * @param sourceFiles         every file read, in order
 */
public record KeepalivedConfig(GlobalDefs globalDefs, List<VirtualIp> staticIpaddresses,
                               List<RouteSpec> staticRoutes, List<RouteSpec> staticRules,
                               List<VrrpScript> vrrpScripts, List<TrackFile> trackFiles,
                               List<VrrpSyncGroup> syncGroups, List<VrrpInstance> vrrpInstances,
                               List<VirtualServerGroup> virtualServerGroups, List<VirtualServer> virtualServers,
                               List<NotifierBlock> notifiers, List<ConfigNode> otherBlocks, List<Path> sourceFiles) {
    public KeepalivedConfig {
        staticIpaddresses = List.copyOf(staticIpaddresses);
        staticRoutes = List.copyOf(staticRoutes);
        staticRules = List.copyOf(staticRules);
        vrrpScripts = List.copyOf(vrrpScripts);
        trackFiles = List.copyOf(trackFiles);
        syncGroups = List.copyOf(syncGroups);
        vrrpInstances = List.copyOf(vrrpInstances);
        virtualServerGroups = List.copyOf(virtualServerGroups);
        virtualServers = List.copyOf(virtualServers);
        notifiers = List.copyOf(notifiers);
        otherBlocks = List.copyOf(otherBlocks);
        sourceFiles = List.copyOf(sourceFiles);
    }

    /** The instance called {@code name}. */
    public Optional<VrrpInstance> instance(String name) {
        return vrrpInstances.stream().filter(i -> i.name().equals(name)).findFirst();
    }

    /** The script called {@code name}. */
    public Optional<VrrpScript> script(String name) {
        return vrrpScripts.stream().filter(i -> i.name().equals(name)).findFirst();
    }
}
