package dev.vigil.config.parse;

import java.util.Set;

/** The keywords keepalived 2.x accepts in each block, used to recognise typos and suggest the intended word. */
public final class Keywords {
    private Keywords() {
    }

    /** Top-level statements. */
    public static final Set<String> TOP = Set.of("global_defs", "net_namespace", "net_namespace_ipvs", "instance",
            "use_pid_dir", "child_wait_time", "linkbeat_use_polling", "linkbeat_interfaces",
            "interface_up_down_delays", "track_group", "static_ipaddress", "static_routes", "static_rules",
            "track_file", "vrrp_track_file", "vrrp_track_process", "vrrp_script", "vrrp_sync_group", "garp_group",
            "vrrp_instance", "bfd_instance", "virtual_server_group", "virtual_server", "SSL",
            // Vigil's own
            "vigil_notifier");

    /** The keywords of a {@code vigil_notifier} block the host reads itself; the rest belong to the notifier. */
    public static final Set<String> NOTIFIER = Set.of("type", "events", "timeout");

    /** {@code global_defs}. */
    public static final Set<String> GLOBAL = Set.of("router_id", "lvs_id", "notification_email",
            "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout", "smtp_alert",
            "smtp_alert_vrrp", "smtp_alert_checker", "no_email_faults", "no_checker_emails",
            "checker_log_all_failures", "startup_script", "startup_script_timeout", "shutdown_script",
            "shutdown_script_timeout", "vrrp_mcast_group4", "vrrp_mcast_group6", "default_interface",
            "vrrp_version", "vrrp_strict", "vrrp_skip_check_adv_addr", "vrrp_check_unicast_src",
            "vrrp_garp_master_repeat", "vrrp_garp_master_delay", "vrrp_garp_master_refresh",
            "vrrp_garp_master_refresh_repeat", "vrrp_garp_lower_prio_repeat", "vrrp_garp_lower_prio_delay",
            "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_min_garp", "vrrp_garp_extra_if",
            "vrrp_down_timer_adverts", "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert",
            "vrrp_owner_ignore_adverts", "v3_checksum_as_v2", "vrrp_iptables", "vrrp_ipsets", "nftables",
            "nftables_priority", "nftables_counters", "nftables_ifindex", "nftables_ipvs", "nftables_ipvs_priority",
            "nftables_ipvs_start_fwmark", "disable_local_igmp", "script_user", "enable_script_security",
            "set_supplementary_groups", "use_symlink_paths", "notify_fifo", "notify_fifo_script",
            "vrrp_notify_fifo", "vrrp_notify_fifo_script", "lvs_notify_fifo", "lvs_notify_fifo_script",
            "vrrp_notify_priority_changes", "fifo_write_vrrp_states_on_reload", "lvs_sync_daemon", "lvs_timeouts",
            "lvs_flush", "lvs_flush_on_stop", "dynamic_interfaces", "vrrp_startup_delay", "vrrp_delay_after_boot",
            "max_auto_priority", "min_auto_priority_delay", "vrrp_priority", "checker_priority", "bfd_priority",
            "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "vrrp_no_swap", "checker_no_swap",
            "bfd_no_swap", "vrrp_cpu_affinity", "checker_cpu_affinity", "bfd_cpu_affinity", "vrrp_rlimit_rttime",
            "checker_rlimit_rttime", "bfd_rlimit_rttime", "vrrp_netlink_cmd_rcv_bufs",
            "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force",
            "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs",
            "process_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "vmac_prefix",
            "vmac_addr_prefix", "log_unknown_vrids", "snmp_socket", "enable_snmp_vrrp", "enable_snmp_keepalived",
            "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_traps",
            "snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval", "enable_dbus", "dbus_service_name",
            "dbus_no_interface_name", "reload_check_config", "reload_time_file", "reload_repeat", "reload_file",
            "config_save_dir", "tmp_config_directory", "include_check", "umask", "random_seed",
            "data_use_instance", "state_file_location", "stats_file_location", "json_file_location",
            "json_version", "iproute_usr_dir", "iproute_etc_dir", "process_name", "process_names",
            "vrrp_process_name", "checker_process_name", "bfd_process_name", "net_namespace",
            "linkbeat_use_polling", "instance", "use_pid_dir",
            // Vigil's own keywords
            "vigil_api", "vigil_forwarder", "vigil_plugins_dir", "vigil_plugin_call_memory",
            "vigil_policy_store");

    /** {@code vrrp_instance}. */
    public static final Set<String> INSTANCE = Set.of("state", "interface", "vrf", "virtual_router_id", "priority",
            "advert_int", "version", "authentication", "auth_hmac", "virtual_ipaddress",
            "virtual_ipaddress_excluded", "no_virtual_ipaddress", "virtual_routes", "virtual_rules",
            "promote_secondaries", "mcast_src_ip", "unicast_src_ip", "mcast_dst_ip", "track_src_ip", "unicast_peer",
            "unicast_fault_no_peer", "unicast_ttl", "check_unicast_src", "old_unicast_checksum",
            "v3_checksum_as_v2", "nopreempt", "preempt", "preempt_delay", "use_vmac", "use_vmac_addr",
            "vmac_xmit_base", "use_ipvlan", "native_ipv6", "dont_track_primary", "track_interface", "track_script",
            "track_file", "track_process", "track_bfd", "accept", "no_accept", "skip_check_adv_addr", "strict_mode",
            "debug", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify", "notify_deleted",
            "notify_master_rx_lower_pri", "notify_priority_changes", "smtp_alert", "garp_master_delay",
            "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat", "garp_lower_prio_delay",
            "garp_lower_prio_repeat", "garp_extra_if", "vmac_garp_intvl", "down_timer_adverts",
            "lower_prio_no_advert", "higher_prio_send_advert", "owner_ignore_adverts", "timer_expired_backup",
            "kernel_rx_buf_size", "linkbeat_use_polling", "lvs_sync_daemon_interface",
            // Vigil's own keywords
            "vigil_vip_backend");

    /** {@code authentication}. */
    public static final Set<String> AUTH = Set.of("auth_type", "auth_pass");

    /** {@code vrrp_sync_group}. */
    public static final Set<String> SYNC_GROUP = Set.of("group", "track_interface", "track_script", "track_file",
            "track_process", "track_bfd", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify",
            "smtp_alert", "notify_priority_changes", "global_tracking", "sync_group_tracking_weight");

    /** {@code vrrp_script}. */
    public static final Set<String> SCRIPT = Set.of("script", "interval", "timeout", "weight", "rise", "fall",
            "user", "init_fail");

    /** {@code track_file}. */
    public static final Set<String> TRACK_FILE = Set.of("file", "weight", "init_file");

    /** {@code virtual_server}. */
    public static final Set<String> VIRTUAL_SERVER = Set.of("lvs_sched", "lb_algo", "flag-1", "flag-2", "flag-3",
            "sh-port", "sh-fallback", "mh-port", "mh-fallback", "ops", "hashed", "lvs_method", "lb_kind",
            "persistence_timeout", "persistence_granularity", "persistence_engine", "protocol", "ha_suspend",
            "virtualhost", "snmp_name", "smtp_alert", "alpha", "omega", "quorum", "hysteresis", "quorum_up",
            "quorum_down", "ip_family", "sorry_server", "sorry_server_lvs_method", "sorry_server_inhibit",
            "delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup", "inhibit_on_failure",
            "real_server", "nb_get_retry");

    /** {@code real_server} (besides checker blocks). */
    public static final Set<String> REAL_SERVER = Set.of("weight", "lvs_method", "lb_kind", "uthreshold",
            "lthreshold", "notify_up", "notify_down", "inhibit_on_failure", "alpha", "retry", "delay_before_retry",
            "delay_loop", "warmup", "connect_timeout", "smtp_alert", "virtualhost", "nb_get_retry");

    /** Checker block keywords Vigil models. */
    public static final Set<String> CHECKERS = Set.of("HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK",
            "MISC_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK");

    /** Options shared by checkers. */
    public static final Set<String> CHECK_COMMON = Set.of("connect_ip", "connect_port", "bindto", "bind_port",
            "bind_if", "fwmark", "alpha", "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "warmup",
            "delay_loop", "log_all_failures",
            // Vigil's own
            "rise", "fall");

    /** Extra keywords per checker. */
    public static final java.util.Map<String, Set<String>> CHECK_SPECIFIC = java.util.Map.of(
            "HTTP_GET", Set.of("url", "http_protocol", "fast_recovery", "virtualhost"),
            "SSL_GET", Set.of("url", "http_protocol", "fast_recovery", "virtualhost", "enable_sni", "sni_name",
                    "tls_compliant"),
            "TCP_CHECK", Set.of(),
            "SMTP_CHECK", Set.of("helo_name", "host"),
            "DNS_CHECK", Set.of("type", "name"),
            "MISC_CHECK", Set.of("misc_path", "misc_timeout", "misc_dynamic", "user"),
            "UDP_CHECK", Set.of("payload", "require_reply", "min_reply_length", "max_reply_length"),
            "PING_CHECK", Set.of(),
            "FILE_CHECK", Set.of("track_file", "dynamic", "weight"),
            "BFD_CHECK", Set.of("name", "weight"));

    /** {@code url} inside HTTP_GET / SSL_GET. */
    public static final Set<String> URL = Set.of("path", "digest", "status_code", "virtualhost", "regex",
            "regex_no_match", "regex_options", "regex_stack", "regex_min_offset", "regex_max_offset");

    /** Keywords of a checker block, shared and specific. */
    public static Set<String> checker(String kind) {
        var all = new java.util.HashSet<>(CHECK_COMMON);
        all.addAll(CHECK_SPECIFIC.getOrDefault(kind, Set.of()));
        return Set.copyOf(all);
    }
}
