package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code global_defs}, with keepalived's defaults applied.
 *
 * @param routerId                    {@code router_id}; default the host name
 * @param notificationEmail           {@code notification_email} recipients
 * @param notificationEmailFrom       {@code notification_email_from}; default {@code keepalived@<host>}
 * @param smtpServer                  {@code smtp_server} host or {@code null}
 * @param smtpServerPort              its port (25)
 * @param smtpHeloName                {@code smtp_helo_name}; default the host name
 * @param smtpConnectTimeout          {@code smtp_connect_timeout} (30 s)
 * @param smtpAlert                   {@code smtp_alert}, {@code null} when unset
 * @param smtpAlertVrrp               {@code smtp_alert_vrrp}, {@code null} when unset
 * @param smtpAlertChecker            {@code smtp_alert_checker}, {@code null} when unset
 * @param vrrpMcastGroup4             {@code vrrp_mcast_group4} (224.0.0.18)
 * @param vrrpMcastGroup6             {@code vrrp_mcast_group6} (ff02::12)
 * @param defaultInterface            {@code default_interface} (eth0)
 * @param vrrpVersion                 {@code vrrp_version} (2)
 * @param vrrpStrict                  {@code vrrp_strict}
 * @param vrrpSkipCheckAdvAddr        {@code vrrp_skip_check_adv_addr}
 * @param vrrpCheckUnicastSrc         {@code vrrp_check_unicast_src}
 * @param vrrpGarpMasterRepeat        {@code vrrp_garp_master_repeat} (5)
 * @param vrrpGarpMasterDelay         {@code vrrp_garp_master_delay} (5 s)
 * @param vrrpGarpMasterRefresh       {@code vrrp_garp_master_refresh} (0 = off)
 * @param vrrpGarpMasterRefreshRepeat {@code vrrp_garp_master_refresh_repeat} (1)
 * @param vrrpGarpLowerPrioRepeat     {@code vrrp_garp_lower_prio_repeat} (= master repeat)
 * @param vrrpGarpLowerPrioDelay      {@code vrrp_garp_lower_prio_delay} (= master delay)
 * @param vrrpGarpInterval            {@code vrrp_garp_interval} (0)
 * @param vrrpGnaInterval             {@code vrrp_gna_interval} (0)
 * @param vrrpMinGarp                 {@code vrrp_min_garp}
 * @param vrrpDownTimerAdverts        {@code vrrp_down_timer_adverts} (3)
 * @param vrrpLowerPrioNoAdvert       {@code vrrp_lower_prio_no_advert} (false, true when strict)
 * @param vrrpHigherPrioSendAdvert    {@code vrrp_higher_prio_send_advert}
 * @param vrrpOwnerIgnoreAdverts      {@code vrrp_owner_ignore_adverts}
 * @param scriptUser                  {@code script_user} user or {@code null}
 * @param scriptGroup                 {@code script_user} group or {@code null}
 * @param enableScriptSecurity        {@code enable_script_security}
 * @param notifyFifo                  {@code notify_fifo} or {@code null}
 * @param vrrpNotifyFifo              {@code vrrp_notify_fifo} or {@code null}
 * @param lvsNotifyFifo               {@code lvs_notify_fifo} or {@code null}
 * @param vrrpStartupDelay            {@code vrrp_startup_delay} (0)
 * @param dynamicInterfaces           {@code dynamic_interfaces}
 * @param lvsFlush                    {@code lvs_flush}
 * @param lvsFlushOnStop              {@code lvs_flush_on_stop [VS]} ({@link LvsFlushOnStop#NONE} when absent)
 * @param vigilForwarder              {@code vigil_forwarder} (auto)
 * @param other                       other recognised keywords, by name, with their words
 * @param ref                         where {@code global_defs} starts, or {@code null} when absent
 */
public record GlobalDefs(String routerId, List<String> notificationEmail, String notificationEmailFrom,
                         String smtpServer, int smtpServerPort, String smtpHeloName, Duration smtpConnectTimeout,
                         Boolean smtpAlert, Boolean smtpAlertVrrp, Boolean smtpAlertChecker,
                         InetAddress vrrpMcastGroup4, InetAddress vrrpMcastGroup6, String defaultInterface,
                         int vrrpVersion, boolean vrrpStrict, boolean vrrpSkipCheckAdvAddr,
                         boolean vrrpCheckUnicastSrc, int vrrpGarpMasterRepeat, Duration vrrpGarpMasterDelay,
                         Duration vrrpGarpMasterRefresh, int vrrpGarpMasterRefreshRepeat,
                         int vrrpGarpLowerPrioRepeat, Duration vrrpGarpLowerPrioDelay, Duration vrrpGarpInterval,
                         Duration vrrpGnaInterval, boolean vrrpMinGarp, int vrrpDownTimerAdverts,
                         boolean vrrpLowerPrioNoAdvert, boolean vrrpHigherPrioSendAdvert,
                         boolean vrrpOwnerIgnoreAdverts, String scriptUser, String scriptGroup,
                         boolean enableScriptSecurity, NotifyFifo notifyFifo, NotifyFifo vrrpNotifyFifo,
                         NotifyFifo lvsNotifyFifo, Duration vrrpStartupDelay, boolean dynamicInterfaces,
                         boolean lvsFlush, LvsFlushOnStop lvsFlushOnStop, ForwarderBackend vigilForwarder,
                         Map<String, List<String>> other,
                         SourceRef ref) {
    public GlobalDefs {
        notificationEmail = List.copyOf(notificationEmail);
        other = Map.copyOf(other);
    }
}
