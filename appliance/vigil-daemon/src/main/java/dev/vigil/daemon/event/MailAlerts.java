package dev.vigil.daemon.event;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.Location;
import dev.vigil.api.NotifierEvent;
import dev.vigil.config.SourceRef;
import dev.vigil.config.model.Checker;
import dev.vigil.config.model.GlobalDefs;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VrrpInstance;
import dev.vigil.config.model.VrrpSyncGroup;
import dev.vigil.config.ConfigNode;
import dev.vigil.daemon.forward.ServiceMapper;
import dev.vigil.daemon.plugin.ConfigBlocks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * keepalived's mail alerts as a notifier: with {@code smtp_server} in {@code global_defs}, an
 * implicit notifier of type {@code mail} named {@value #NAME}, whose block holds keepalived's mail
 * keywords ({@code smtp_server HOST PORT}, {@code smtp_helo_name}, {@code smtp_connect_timeout},
 * {@code notification_email_from}, {@code notification_email} with the recipients as arguments)
 * and whose events follow keepalived's {@code smtp_alert} rules:
 * <ul>
 *   <li>{@code vrrp.instance}: the instance's {@code smtp_alert}, else {@code smtp_alert_vrrp}, else
 *       {@code smtp_alert}, else off;</li>
 *   <li>{@code vrrp.group}: the group's {@code smtp_alert}, else the same global defaults;</li>
 *   <li>with {@code no_email_faults}, no mail for a transition to FAULT;</li>
 *   <li>{@code real_server.up}/{@code down}: the real server's {@code smtp_alert}, else one of its
 *       checkers', else the virtual server's, else {@code smtp_alert_checker}, else
 *       {@code smtp_alert}, else on;</li>
 *   <li>{@code quorum.up}/{@code down}: the virtual server's {@code smtp_alert}, else
 *       {@code smtp_alert_checker}, else {@code smtp_alert}, else on;</li>
 *   <li>trackers, policy actions and the daemon's life cycle: no mail (keepalived sends none).</li>
 * </ul>
 * Its delivery timeout is {@code smtp_connect_timeout}.
 */
public final class MailAlerts {

    /** The implicit notifier's name. */
    public static final String NAME = "smtp_alert";
    /** The type it needs. */
    public static final String TYPE = "mail";

    private MailAlerts() {
    }

    /** Whether the configuration asks for mail ({@code smtp_server} is set). */
    public static boolean wanted(KeepalivedConfig config) {
        return config.globalDefs().smtpServer() != null;
    }

    /** The block the {@code mail} plugin reads, every line located at {@code global_defs}. */
    public static ConfigBlock block(KeepalivedConfig config) {
        GlobalDefs g = config.globalDefs();
        SourceRef ref = g.ref() != null ? g.ref()
                : new SourceRef(config.sourceFiles().isEmpty() ? java.nio.file.Path.of("keepalived.conf")
                        : config.sourceFiles().getFirst(), 1, 1);
        Location at = ConfigBlocks.location(ref);
        List<ConfigLine> lines = new ArrayList<>();
        lines.add(line(at, "type", TYPE));
        lines.add(line(at, "smtp_server", g.smtpServer(), Integer.toString(g.smtpServerPort())));
        lines.add(line(at, "smtp_helo_name", g.smtpHeloName()));
        lines.add(line(at, "smtp_connect_timeout", Long.toString(Math.max(1, g.smtpConnectTimeout().toSeconds()))));
        lines.add(line(at, "notification_email_from", g.notificationEmailFrom()));
        lines.add(line(at, "notification_email", g.notificationEmail().toArray(String[]::new)));
        return new ConfigBlock("global_defs", at, lines);
    }

    private static ConfigLine line(Location at, String keyword, String... args) {
        List<Location> where = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            where.add(at);
        }
        return new ConfigLine(keyword, at, List.of(args), where, List.of());
    }

    /** keepalived's {@code smtp_alert} rules for {@code config}, as a filter. */
    public static EventFilter filter(KeepalivedConfig config) {
        GlobalDefs g = config.globalDefs();
        boolean noFaults = g.other().containsKey("no_email_faults");
        boolean vrrpDefault = g.smtpAlertVrrp() != null ? g.smtpAlertVrrp() : g.smtpAlert() != null && g.smtpAlert();
        boolean checkerDefault = g.smtpAlertChecker() != null ? g.smtpAlertChecker()
                : g.smtpAlert() == null || g.smtpAlert();
        Map<String, Boolean> instances = new HashMap<>();
        for (VrrpInstance i : config.vrrpInstances()) {
            instances.put(i.name(), i.smtpAlert());
        }
        Map<String, Boolean> groups = new HashMap<>();
        for (VrrpSyncGroup s : config.syncGroups()) {
            groups.put(s.name(), s.smtpAlert() || vrrpDefault);
        }
        Map<String, Boolean> virtuals = new HashMap<>();
        Map<String, Boolean> reals = new HashMap<>();
        for (VirtualServer vs : config.virtualServers()) {
            Boolean vsAlert = bool(vs.other().get("smtp_alert"));
            String vname = ServiceMapper.virtualName(vs);
            virtuals.put(vname, vsAlert != null ? vsAlert : checkerDefault);
            for (RealServer rs : vs.realServers()) {
                Boolean rsAlert = rs.smtpAlert();
                if (rsAlert == null) {
                    for (Checker c : rs.checkers()) {
                        Boolean ca = checkerAlert(c.raw());
                        rsAlert = rsAlert == null ? ca : ca == null ? rsAlert : (Boolean) (rsAlert || ca);
                    }
                }
                if (rsAlert == null) {
                    rsAlert = vsAlert;
                }
                reals.put(vname + " " + ServiceMapper.realServerAddress(vs, rs), rsAlert != null ? rsAlert : checkerDefault);
            }
        }
        Predicate<NotifierEvent> rule = e -> switch (e.type()) {
            case NotifierEvent.VRRP_INSTANCE -> instances.getOrDefault(e.detail("instance"), vrrpDefault)
                    && !(noFaults && "FAULT".equals(e.detail("to")));
            case NotifierEvent.VRRP_GROUP -> groups.getOrDefault(e.detail("group"), vrrpDefault)
                    && !(noFaults && "FAULT".equals(e.detail("to")));
            case NotifierEvent.REAL_SERVER_UP, NotifierEvent.REAL_SERVER_DOWN ->
                    reals.getOrDefault(e.detail("virtual_server") + " " + e.detail("real_server"), checkerDefault);
            case NotifierEvent.QUORUM_UP, NotifierEvent.QUORUM_DOWN ->
                    virtuals.getOrDefault(e.detail("virtual_server"), checkerDefault);
            default -> false;
        };
        return new EventFilter(List.of(), rule);
    }

    private static Boolean checkerAlert(ConfigNode checker) {
        for (ConfigNode c : checker.children()) {
            if (c.name().equals("smtp_alert")) {
                return bool(c.argTexts());
            }
        }
        return null;
    }

    /** keepalived's boolean: no word is true; {@code null} when not given or not a boolean. */
    private static Boolean bool(List<String> words) {
        if (words == null) {
            return null;
        }
        if (words.isEmpty()) {
            return true;
        }
        return switch (words.getFirst().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> null;
        };
    }
}
