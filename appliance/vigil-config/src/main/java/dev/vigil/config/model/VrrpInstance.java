package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code vrrp_instance}, with effective values (instance setting, else the global one, else keepalived's
 * default).
 *
 * @param name                   the instance name
 * @param initialState           {@code state}: MASTER or BACKUP (255 implies MASTER)
 * @param interfaceName          {@code interface}, or {@code null} (allowed in unicast mode)
 * @param virtualRouterId        {@code virtual_router_id} 1..255
 * @param priority               {@code priority}; 100, or 255 for {@code state MASTER} without priority
 * @param advertInterval         {@code advert_int} (1 s)
 * @param version                VRRP version: {@code version}, else 3 for IPv6, else {@code vrrp_version}
 * @param authentication         {@code authentication}
 * @param virtualIpaddresses     {@code virtual_ipaddress}
 * @param virtualIpaddressExcluded {@code virtual_ipaddress_excluded}
 * @param virtualRoutes          {@code virtual_routes}
 * @param virtualRules           {@code virtual_rules}
 * @param mcastSrcIp             {@code mcast_src_ip} or {@code null}
 * @param unicastSrcIp           {@code unicast_src_ip} or {@code null}
 * @param unicastPeers           {@code unicast_peer}
 * @param preempt                false with {@code nopreempt}
 * @param preemptDelay           {@code preempt_delay} (0)
 * @param accept                 Accept_Mode (RFC 5798 §6.1): true unless {@code no_accept}; with strict,
 *                               only for priority 255 unless set
 * @param garpMasterDelay        {@code garp_master_delay}
 * @param garpMasterRepeat       {@code garp_master_repeat}
 * @param garpMasterRefresh      {@code garp_master_refresh}
 * @param garpMasterRefreshRepeat {@code garp_master_refresh_repeat}
 * @param garpLowerPrioDelay     {@code garp_lower_prio_delay}
 * @param garpLowerPrioRepeat    {@code garp_lower_prio_repeat}
 * @param trackInterfaces        {@code track_interface}
 * @param trackScripts           {@code track_script}
 * @param trackFiles             {@code track_file}
 * @param notifyScript               {@code notify} command or {@code null}
 * @param notifyMaster           {@code notify_master} command or {@code null}
 * @param notifyBackup           {@code notify_backup} command or {@code null}
 * @param notifyFault            {@code notify_fault} command or {@code null}
 * @param notifyStop             {@code notify_stop} command or {@code null}
 * @param smtpAlert              {@code smtp_alert}, else global {@code smtp_alert_vrrp}/{@code smtp_alert}
 * @param useVmac                {@code use_vmac} given
 * @param vmacName               the VMAC interface name ({@code vrrp.<VRID>} by default) or {@code null}
 * @param dontTrackPrimary       {@code dont_track_primary}
 * @param downTimerAdverts       {@code down_timer_adverts} (3)
 * @param lowerPrioNoAdvert      {@code lower_prio_no_advert}
 * @param higherPrioSendAdvert   {@code higher_prio_send_advert}
 * @param strict                 {@code strict_mode}, else {@code vrrp_strict}
 * @param other                  other recognised keywords, by name, with their words
 * @param ref                    where the block starts
 */
public record VrrpInstance(String name, State initialState, String interfaceName, int virtualRouterId,
                           int priority, Duration advertInterval, int version, Authentication authentication,
                           List<VirtualIp> virtualIpaddresses, List<VirtualIp> virtualIpaddressExcluded,
                           List<RouteSpec> virtualRoutes, List<RouteSpec> virtualRules,
                           InetAddress mcastSrcIp, InetAddress unicastSrcIp, List<UnicastPeer> unicastPeers,
                           boolean preempt, Duration preemptDelay, boolean accept,
                           Duration garpMasterDelay, int garpMasterRepeat, Duration garpMasterRefresh,
                           int garpMasterRefreshRepeat, Duration garpLowerPrioDelay, int garpLowerPrioRepeat,
                           List<TrackInterface> trackInterfaces, List<TrackRef> trackScripts,
                           List<TrackRef> trackFiles, String notifyScript, String notifyMaster, String notifyBackup,
                           String notifyFault, String notifyStop, boolean smtpAlert, boolean useVmac,
                           String vmacName, boolean dontTrackPrimary, int downTimerAdverts,
                           boolean lowerPrioNoAdvert, boolean higherPrioSendAdvert, boolean strict,
                           Map<String, List<String>> other, SourceRef ref) {
    /** Initial state wish. */
    public enum State { MASTER, BACKUP }

    public VrrpInstance {
        virtualIpaddresses = List.copyOf(virtualIpaddresses);
        virtualIpaddressExcluded = List.copyOf(virtualIpaddressExcluded);
        virtualRoutes = List.copyOf(virtualRoutes);
        virtualRules = List.copyOf(virtualRules);
        unicastPeers = List.copyOf(unicastPeers);
        trackInterfaces = List.copyOf(trackInterfaces);
        trackScripts = List.copyOf(trackScripts);
        trackFiles = List.copyOf(trackFiles);
        other = Map.copyOf(other);
    }

    /** Whether adverts are sent unicast. */
    public boolean isUnicast() {
        return !unicastPeers.isEmpty();
    }

    /** Whether the advertised addresses are IPv6. */
    public boolean isIpv6() {
        return !virtualIpaddresses.isEmpty() && virtualIpaddresses.get(0).isIpv6();
    }
}
