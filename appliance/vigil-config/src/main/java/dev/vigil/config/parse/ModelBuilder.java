package dev.vigil.config.parse;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.Diagnostics;
import dev.vigil.config.LoadOptions;
import dev.vigil.config.SourceRef;
import dev.vigil.config.Token;
import dev.vigil.config.model.Authentication;
import dev.vigil.config.model.ForwarderBackend;
import dev.vigil.config.model.GlobalDefs;
import dev.vigil.config.model.NotifierBlock;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.LvsFlushOnStop;
import dev.vigil.config.model.NotifyFifo;
import dev.vigil.config.model.RouteSpec;
import dev.vigil.config.model.TrackFile;
import dev.vigil.config.model.TrackInterface;
import dev.vigil.config.model.TrackRef;
import dev.vigil.config.model.UnicastPeer;
import dev.vigil.config.model.VirtualIp;
import dev.vigil.config.model.VrrpInstance;
import dev.vigil.config.model.VrrpScript;
import dev.vigil.config.model.VrrpSyncGroup;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the typed model from the statement tree: one handler per keyword and block, unknown keywords
 * reported with the nearest known one, defaults and global fallbacks applied once everything is read.
 */
public final class ModelBuilder {
    private static final InetAddress MCAST4 = literal("224.0.0.18");
    private static final InetAddress MCAST6 = literal("ff02::12");

    private final LoadOptions options;
    private final Diagnostics d;
    private final Args a;
    private final LvsBuilder lvs;

    private ConfigNode globalNode;
    private final List<ConfigNode> instanceNodes = new ArrayList<>();
    private final List<ConfigNode> syncGroupNodes = new ArrayList<>();
    private final List<VirtualIp> staticDrafts = new ArrayList<>();
    private final List<RouteSpec> staticRoutes = new ArrayList<>();
    private final List<RouteSpec> staticRules = new ArrayList<>();
    private final Map<String, VrrpScript> scripts = new LinkedHashMap<>();
    private final Map<String, TrackFile> trackFiles = new LinkedHashMap<>();
    private final List<ConfigNode> other = new ArrayList<>();
    private final Map<String, NotifierBlock> notifiers = new LinkedHashMap<>();

    /** A builder for one load. */
    public ModelBuilder(LoadOptions options, Diagnostics diags) {
        this.options = options;
        this.d = diags;
        this.a = new Args(diags);
        this.lvs = new LvsBuilder(diags, a, this);
    }

    /** Builds the configuration from the top-level statements. */
    public KeepalivedConfig build(List<ConfigNode> top, List<Path> files) {
        for (ConfigNode n : top) {
            switch (n.name()) {
                case "global_defs" -> {
                    if (block(n)) {
                        if (globalNode != null) {
                            globalNode = merge(globalNode, n);
                        } else {
                            globalNode = n;
                        }
                    }
                }
                case "vrrp_instance" -> {
                    if (block(n) && named(n)) {
                        instanceNodes.add(n);
                    }
                }
                case "vrrp_sync_group" -> {
                    if (block(n) && named(n)) {
                        syncGroupNodes.add(n);
                    }
                }
                case "vrrp_script" -> {
                    if (block(n) && named(n)) {
                        script(n);
                    }
                }
                case "track_file", "vrrp_track_file" -> {
                    if (block(n) && named(n)) {
                        trackFile(n);
                    }
                }
                case "static_ipaddress" -> {
                    if (block(n)) {
                        for (ConfigNode c : n.children()) {
                            VirtualIp ip = vip(c);
                            if (ip != null) {
                                staticDrafts.add(ip);
                            }
                        }
                    }
                }
                case "static_routes" -> {
                    if (block(n)) {
                        n.children().forEach(c -> staticRoutes.add(route(c)));
                    }
                }
                case "static_rules" -> {
                    if (block(n)) {
                        n.children().forEach(c -> staticRules.add(route(c)));
                    }
                }
                case "virtual_server_group" -> {
                    if (block(n) && named(n)) {
                        lvs.group(n);
                    }
                }
                case "virtual_server" -> {
                    if (block(n)) {
                        lvs.virtualServer(n);
                    }
                }
                case "vigil_notifier" -> {
                    if (block(n) && named(n)) {
                        notifier(n);
                    }
                }
                default -> {
                    if (Keywords.TOP.contains(n.name())) {
                        other.add(n);
                    } else {
                        unknown(n, "top level", Keywords.TOP);
                    }
                }
            }
        }
        GlobalDefs g = globalDefs(globalNode);
        List<VirtualIp> statics = staticDrafts.stream()
                .map(v -> v.dev() != null ? v : new VirtualIp(v.address(), v.prefixLength(), g.defaultInterface(),
                        v.label(), v.broadcast(), v.scope(), v.peer(), v.flags(), v.ref()))
                .toList();
        List<VrrpInstance> instances = instances(g);
        List<VrrpSyncGroup> groups = syncGroups(instances);
        var vs = lvs.finish(trackFiles.keySet());
        if (instances.isEmpty() && vs.servers().isEmpty() && !files.isEmpty() && d.all().stream()
                .noneMatch(x -> x.severity() == dev.vigil.config.Severity.ERROR)) {
            d.warning(new SourceRef(files.get(0), 1, 1), "no vrrp_instance or virtual_server is defined");
        }
        return new KeepalivedConfig(g, statics, staticRoutes, staticRules, List.copyOf(scripts.values()),
                List.copyOf(trackFiles.values()), groups, instances, vs.groups(), vs.servers(),
                List.copyOf(notifiers.values()), other, files);
    }

    // ---------------------------------------------------------------- shared helpers

    boolean block(ConfigNode n) {
        if (!n.hasBlock()) {
            d.error(n.ref(), "\"" + n.name() + "\" needs a { } block");
            return false;
        }
        return true;
    }

    private boolean named(ConfigNode n) {
        if (n.args().isEmpty()) {
            d.error(n.ref(), "\"" + n.name() + "\" needs a name");
            return false;
        }
        return true;
    }

    void unknown(ConfigNode n, String where, Set<String> known) {
        String near = Suggest.nearest(n.name(), known);
        d.warning(n.ref(), "unknown keyword \"" + n.name() + "\" in " + where
                + (near != null ? " (did you mean \"" + near + "\"?)" : ""));
    }

    void noBlock(ConfigNode n) {
        if (n.hasBlock()) {
            d.warning(n.openBrace(), "\"" + n.name() + "\" does not take a { } block; block ignored");
        }
    }

    private static ConfigNode merge(ConfigNode first, ConfigNode second) {
        List<ConfigNode> all = new ArrayList<>(first.children());
        all.addAll(second.children());
        return new ConfigNode(first.keyword(), first.args(), all, first.openBrace());
    }

    static String where(SourceRef ref) {
        return ref.file().getFileName() + ":" + ref.line();
    }

    private static InetAddress literal(String s) {
        return Args.parseIp(s);
    }

    RouteSpec route(ConfigNode c) {
        List<String> words = new ArrayList<>(c.words().stream().map(Token::text).toList());
        return new RouteSpec(words, c.ref());
    }

    // ---------------------------------------------------------------- vigil_notifier

    /**
     * {@code vigil_notifier NAME { type T ... }}: the name is unique, {@code type} is given exactly
     * once with one word. The other lines are the notifier's, checked by the daemon and the plugin.
     */
    private void notifier(ConfigNode n) {
        String name = n.args().get(0).text();
        if (n.args().size() > 1) {
            d.warning(n.args().get(1).ref(), "\"vigil_notifier\" takes one name; \"" + n.args().get(1).text()
                    + "\" ignored");
        }
        NotifierBlock earlier = notifiers.get(name);
        if (earlier != null) {
            d.error(n.args().get(0).ref(), "vigil_notifier " + name + " is already defined at " + where(earlier.ref()));
            return;
        }
        ConfigNode typeLine = null;
        for (ConfigNode c : n.children()) {
            if (!c.name().equals("type")) {
                continue;
            }
            if (typeLine != null) {
                d.error(c.ref(), "\"type\" is given twice in vigil_notifier " + name + " (first at "
                        + where(typeLine.ref()) + ")");
                return;
            }
            typeLine = c;
        }
        if (typeLine == null) {
            d.error(n.ref(), "vigil_notifier " + name + " needs a \"type\" line (e.g. type webhook)");
            return;
        }
        if (typeLine.args().size() != 1) {
            d.error(typeLine.ref(), "\"type\" expects one word, the notifier type (e.g. type webhook), got "
                    + typeLine.args().size());
            return;
        }
        noBlock(typeLine);
        notifiers.put(name, new NotifierBlock(name, typeLine.args().get(0).text(), n));
    }

    // ---------------------------------------------------------------- global_defs

    private GlobalDefs globalDefs(ConfigNode n) {
        String host = options.hostname();
        String routerId = host;
        List<String> emails = new ArrayList<>();
        String emailFrom = "keepalived@" + host;
        String smtpServer = null;
        int smtpPort = 25;
        String helo = host;
        Duration smtpTimeout = Duration.ofSeconds(30);
        Boolean smtpAlert = null;
        Boolean smtpAlertVrrp = null;
        Boolean smtpAlertChecker = null;
        InetAddress g4 = MCAST4;
        InetAddress g6 = MCAST6;
        String defaultIf = "eth0";
        int version = 2;
        boolean strict = false;
        boolean skipCheck = false;
        boolean checkUnicastSrc = false;
        int garpRepeat = 5;
        Duration garpDelay = Duration.ofSeconds(5);
        Duration garpRefresh = Duration.ZERO;
        int garpRefreshRepeat = 1;
        Integer lowerRepeat = null;
        Duration lowerDelay = null;
        Duration garpInterval = Duration.ZERO;
        Duration gnaInterval = Duration.ZERO;
        boolean minGarp = false;
        int downTimer = 3;
        Boolean lowerNoAdvert = null;
        boolean higherSend = false;
        boolean ownerIgnore = false;
        String scriptUser = null;
        String scriptGroup = null;
        boolean scriptSecurity = false;
        NotifyFifo fifo = null;
        NotifyFifo vrrpFifo = null;
        NotifyFifo lvsFifo = null;
        String fifoScript = null;
        String vrrpFifoScript = null;
        String lvsFifoScript = null;
        Duration startupDelay = Duration.ZERO;
        boolean dynamicIfs = false;
        boolean lvsFlush = false;
        LvsFlushOnStop flushOnStop = LvsFlushOnStop.NONE;
        ForwarderBackend forwarder = ForwarderBackend.AUTO;
        Map<String, List<String>> rest = new LinkedHashMap<>();
        for (ConfigNode c : n == null ? List.<ConfigNode>of() : n.children()) {
            if (!c.name().equals("notification_email")) {
                noBlock(c);
            }
            switch (c.name()) {
                case "router_id", "lvs_id" -> routerId = str(c, routerId);
                case "notification_email" -> {
                    emails.addAll(c.argTexts());
                    for (ConfigNode e : c.children()) {
                        e.words().forEach(t -> emails.add(t.text()));
                    }
                }
                case "notification_email_from" -> emailFrom = a.command(c) == null ? emailFrom : a.command(c);
                case "smtp_server" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        smtpServer = t.text();
                        if (c.args().size() > 1) {
                            Integer p = a.integer(c, 1, 1, 65535);
                            smtpPort = p == null ? smtpPort : p;
                        }
                    }
                }
                case "smtp_helo_name" -> helo = str(c, helo);
                case "smtp_connect_timeout" -> smtpTimeout = or(secs(c, 1, 2_147_483), smtpTimeout);
                case "smtp_alert" -> smtpAlert = or(a.bool(c, 0), smtpAlert);
                case "smtp_alert_vrrp" -> smtpAlertVrrp = or(a.bool(c, 0), smtpAlertVrrp);
                case "smtp_alert_checker" -> smtpAlertChecker = or(a.bool(c, 0), smtpAlertChecker);
                case "vrrp_mcast_group4" -> {
                    InetAddress ip = a.ip(c, 0);
                    if (ip != null && (!(Args.isV4(ip)) || !ip.isMulticastAddress())) {
                        d.error(c.args().get(0).ref(), "vrrp_mcast_group4 " + c.args().get(0).text()
                                + " is not an IPv4 multicast address");
                    } else if (ip != null) {
                        g4 = ip;
                    }
                }
                case "vrrp_mcast_group6" -> {
                    InetAddress ip = a.ip(c, 0);
                    if (ip != null && (!(ip instanceof Inet6Address) || !ip.isMulticastAddress())) {
                        d.error(c.args().get(0).ref(), "vrrp_mcast_group6 " + c.args().get(0).text()
                                + " is not an IPv6 multicast address");
                    } else if (ip != null) {
                        g6 = ip;
                    }
                }
                case "default_interface" -> defaultIf = str(c, defaultIf);
                case "vrrp_version" -> version = or(a.integer(c, 0, 2, 3), version);
                case "vrrp_strict" -> strict = true;
                case "vrrp_skip_check_adv_addr" -> skipCheck = or(a.bool(c, 0), skipCheck);
                case "vrrp_check_unicast_src" -> checkUnicastSrc = true;
                case "vrrp_garp_master_repeat" -> garpRepeat = or(a.integer(c, 0, 0, 255), garpRepeat);
                case "vrrp_garp_master_delay" -> garpDelay = or(secs(c, 0, 255), garpDelay);
                case "vrrp_garp_master_refresh" -> garpRefresh = or(secs(c, 0, 2_147_483), garpRefresh);
                case "vrrp_garp_master_refresh_repeat" ->
                        garpRefreshRepeat = or(a.integer(c, 0, 1, 255), garpRefreshRepeat);
                case "vrrp_garp_lower_prio_repeat" -> lowerRepeat = or(a.integer(c, 0, 0, 255), lowerRepeat);
                case "vrrp_garp_lower_prio_delay" -> lowerDelay = or(secs(c, 0, 255), lowerDelay);
                case "vrrp_garp_interval" -> garpInterval = or(secs(c, 0, 1), garpInterval);
                case "vrrp_gna_interval" -> gnaInterval = or(secs(c, 0, 1), gnaInterval);
                case "vrrp_min_garp" -> minGarp = or(a.bool(c, 0), minGarp);
                case "vrrp_down_timer_adverts" -> downTimer = or(a.integer(c, 0, 1, 100), downTimer);
                case "vrrp_lower_prio_no_advert" -> lowerNoAdvert = or(a.bool(c, 0), lowerNoAdvert);
                case "vrrp_higher_prio_send_advert" -> higherSend = or(a.bool(c, 0), higherSend);
                case "vrrp_owner_ignore_adverts" -> ownerIgnore = or(a.bool(c, 0), ownerIgnore);
                case "script_user" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        String[] ug = userGroup(c.args());
                        scriptUser = ug[0];
                        scriptGroup = ug[1];
                    }
                }
                case "enable_script_security" -> scriptSecurity = true;
                case "notify_fifo" -> fifo = fifo(c);
                case "vrrp_notify_fifo" -> vrrpFifo = fifo(c);
                case "lvs_notify_fifo" -> lvsFifo = fifo(c);
                case "notify_fifo_script" -> fifoScript = a.command(c);
                case "vrrp_notify_fifo_script" -> vrrpFifoScript = a.command(c);
                case "lvs_notify_fifo_script" -> lvsFifoScript = a.command(c);
                case "vrrp_startup_delay" -> startupDelay = or(secs(c, 0, 86_400), startupDelay);
                case "dynamic_interfaces" -> dynamicIfs = true;
                case "lvs_flush" -> lvsFlush = true;
                case "lvs_flush_on_stop" -> flushOnStop = or(flushOnStop(c), flushOnStop);
                case "vigil_forwarder" -> forwarder = or(forwarderBackend(c), forwarder);
                case "vigil_plugins_dir" -> pluginsDir(c, rest);
                case "vigil_plugin_call_memory" -> callMemory(c, rest);
                case "vigil_policy_store" -> policyStore(c, rest);
                default -> {
                    if (Keywords.GLOBAL.contains(c.name())) {
                        rest.put(c.name(), c.argTexts());
                    } else {
                        unknown(c, "global_defs", Keywords.GLOBAL);
                    }
                }
            }
        }
        fifo = withScript(fifo, fifoScript);
        vrrpFifo = withScript(vrrpFifo, vrrpFifoScript);
        lvsFifo = withScript(lvsFifo, lvsFifoScript);
        return new GlobalDefs(routerId, emails, emailFrom, smtpServer, smtpPort, helo, smtpTimeout, smtpAlert,
                smtpAlertVrrp, smtpAlertChecker, g4, g6, defaultIf, version, strict, skipCheck, checkUnicastSrc,
                garpRepeat, garpDelay, garpRefresh, garpRefreshRepeat, lowerRepeat == null ? garpRepeat : lowerRepeat,
                lowerDelay == null ? garpDelay : lowerDelay, garpInterval, gnaInterval, minGarp, downTimer,
                lowerNoAdvert == null ? strict : lowerNoAdvert, higherSend, ownerIgnore, scriptUser, scriptGroup,
                scriptSecurity, fifo, vrrpFifo, lvsFifo, startupDelay, dynamicIfs, lvsFlush, flushOnStop, forwarder, rest,
                n == null ? null : n.ref());
    }

    private ForwarderBackend forwarderBackend(ConfigNode c) {
        Token t = a.need(c, 0);
        if (t == null) {
            return null;
        }
        return switch (t.text()) {
            case "auto" -> ForwarderBackend.AUTO;
            case "ipvs" -> ForwarderBackend.IPVS;
            case "nftables" -> ForwarderBackend.NFTABLES;
            default -> {
                d.error(t.ref(), "invalid vigil_forwarder \"" + t.text() + "\" (expected ipvs, nftables or auto)");
                yield null;
            }
        };
    }

    /** {@code lvs_flush_on_stop} alone flushes everything; {@code lvs_flush_on_stop VS} the virtual servers. */
    private LvsFlushOnStop flushOnStop(ConfigNode c) {
        if (c.args().isEmpty()) {
            return LvsFlushOnStop.FULL;
        }
        Token t = c.args().get(0);
        if (t.text().equals("VS")) {
            return LvsFlushOnStop.VS;
        }
        // keepalived reports it and runs on without flushing.
        d.warning(t.ref(), "unknown lvs_flush_on_stop type \"" + t.text() + "\" (expected VS, or nothing); "
                + "ignored: nothing is flushed at stop");
        return null;
    }

    /**
     * {@code vigil_plugins_dir PATH}: kept in {@code other} as one absolute path, a relative one
     * taken from the directory of the file that names it; it must be a directory, since the
     * checker keywords of the configuration are the ones its plugins provide.
     */
    private void pluginsDir(ConfigNode c, Map<String, List<String>> rest) {
        Token t = a.need(c, 0);
        if (t == null) {
            return;
        }
        Path dir = Path.of(t.text());
        if (!dir.isAbsolute()) {
            Path parent = t.ref().file().toAbsolutePath().getParent();
            dir = (parent != null ? parent.resolve(dir) : dir.toAbsolutePath()).normalize();
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            d.error(t.ref(), "vigil_plugins_dir " + t.text() + ": no such directory"
                    + (dir.toString().equals(t.text()) ? "" : " (" + dir + ")"));
            return;
        }
        rest.put(c.name(), List.of(dir.toString()));
    }

    /**
     * {@code vigil_policy_store PATH|off}: the SQLite file of the failover policies, kept in
     * {@code other} as one absolute path (a relative one taken from the directory of the file that
     * names it), or {@code off}, which runs the daemon without policies. The file need not exist
     * yet (the daemon creates it and its directories), but it cannot be a directory.
     */
    private void policyStore(ConfigNode c, Map<String, List<String>> rest) {
        Token t = a.need(c, 0);
        if (t == null) {
            return;
        }
        if (t.text().equals("off")) {
            rest.put(c.name(), List.of("off"));
            return;
        }
        Path file = Path.of(t.text());
        if (!file.isAbsolute()) {
            Path parent = t.ref().file().toAbsolutePath().getParent();
            file = (parent != null ? parent.resolve(file) : file.toAbsolutePath()).normalize();
        }
        if (java.nio.file.Files.isDirectory(file)) {
            d.error(t.ref(), "vigil_policy_store " + t.text() + ": is a directory"
                    + (file.toString().equals(t.text()) ? "" : " (" + file + ")")
                    + "; expected the store's file, e.g. /var/lib/vigil/policies.db, or off");
            return;
        }
        rest.put(c.name(), List.of(file.toString()));
    }

    /**
     * {@code vigil_plugin_call_memory SIZE}: what one call into a checker plugin may allocate, a
     * count of bytes with an optional binary suffix ({@code 64M}, {@code 512K}, {@code 1G}), at
     * least one MiB; kept in {@code other} as the count of bytes.
     */
    private void callMemory(ConfigNode c, Map<String, List<String>> rest) {
        Token t = a.need(c, 0);
        if (t == null) {
            return;
        }
        long bytes = size(t.text());
        if (bytes < 1L << 20) {
            d.error(t.ref(), "invalid vigil_plugin_call_memory \"" + t.text() + "\" (expected: a size of at least 1M, "
                    + "in bytes or with a K, M or G suffix, e.g. 64M)");
            return;
        }
        rest.put(c.name(), List.of(Long.toString(bytes)));
    }

    /** {@code 64M} as bytes (K, M, G are powers of 1024; a trailing {@code B} or {@code iB} is allowed); -1 when not a size. */
    static long size(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,12})(?:([KMGkmg])(?:i?[Bb])?)?").matcher(text);
        if (!m.matches()) {
            return -1;
        }
        long n = Long.parseLong(m.group(1));
        int shift = m.group(2) == null ? 0 : switch (Character.toUpperCase(m.group(2).charAt(0))) {
            case 'K' -> 10;
            case 'M' -> 20;
            default -> 30;
        };
        return n > (Long.MAX_VALUE >> shift) ? -1 : n << shift;
    }

    private static NotifyFifo withScript(NotifyFifo f, String script) {
        return f == null ? null : new NotifyFifo(f.path(), f.user(), f.group(), script, f.ref());
    }

    private NotifyFifo fifo(ConfigNode c) {
        Token t = a.need(c, 0);
        if (t == null) {
            return null;
        }
        String user = c.args().size() > 1 ? c.args().get(1).text() : null;
        String group = c.args().size() > 2 ? c.args().get(2).text() : null;
        return new NotifyFifo(t.text(), user, group, null, c.ref());
    }

    static String[] userGroup(List<Token> args) {
        String user = args.get(0).text();
        String group = null;
        if (user.contains(":")) {
            group = user.substring(user.indexOf(':') + 1);
            user = user.substring(0, user.indexOf(':'));
        } else if (args.size() > 1) {
            group = args.get(1).text().startsWith(":") ? args.get(1).text().substring(1) : args.get(1).text();
        }
        return new String[] {user, group == null || group.isEmpty() ? null : group};
    }

    private String str(ConfigNode c, String dflt) {
        Token t = a.need(c, 0);
        return t == null ? dflt : t.text();
    }

    Duration secs(ConfigNode c, double min, double max) {
        return a.seconds(c, 0, min, max);
    }

    static <T> T or(T v, T dflt) {
        return v != null ? v : dflt;
    }

    // ---------------------------------------------------------------- vrrp_script / track_file

    private void script(ConfigNode n) {
        String name = n.args().get(0).text();
        String script = null;
        Duration interval = Duration.ofSeconds(1);
        Duration timeout = null;
        int weight = 0;
        boolean reverse = false;
        int rise = 1;
        int fall = 1;
        String user = null;
        String group = null;
        boolean initFail = false;
        for (ConfigNode c : n.children()) {
            noBlock(c);
            switch (c.name()) {
                case "script" -> script = a.command(c);
                case "interval" -> interval = or(secs(c, 0.000001, 2_147_483), interval);
                case "timeout" -> timeout = or(secs(c, 0.000001, 2_147_483), timeout);
                case "weight" -> {
                    weight = or(a.integer(c, 0, -253, 253), weight);
                    reverse = c.args().size() > 1 && c.args().get(1).text().equals("reverse");
                }
                case "rise" -> rise = or(a.integer(c, 0, 1, Integer.MAX_VALUE), rise);
                case "fall" -> fall = or(a.integer(c, 0, 1, Integer.MAX_VALUE), fall);
                case "user" -> {
                    if (a.need(c, 0) != null) {
                        String[] ug = userGroup(c.args());
                        user = ug[0];
                        group = ug[1];
                    }
                }
                case "init_fail" -> initFail = true;
                default -> unknown(c, "vrrp_script", Keywords.SCRIPT);
            }
        }
        if (script == null) {
            d.error(n.ref(), "vrrp_script \"" + name + "\" has no script");
            return;
        }
        if (scripts.containsKey(name)) {
            d.error(n.ref(), "duplicate vrrp_script \"" + name + "\" (first defined at "
                    + where(scripts.get(name).ref()) + ")");
            return;
        }
        scripts.put(name, new VrrpScript(name, script, interval, timeout == null ? interval : timeout, weight,
                reverse, rise, fall, user, group, initFail, n.ref()));
    }

    private void trackFile(ConfigNode n) {
        String name = n.args().get(0).text();
        String file = null;
        int weight = 1;
        boolean reverse = false;
        boolean init = false;
        int initValue = 0;
        boolean overwrite = false;
        for (ConfigNode c : n.children()) {
            noBlock(c);
            switch (c.name()) {
                case "file" -> file = str(c, null);
                case "weight" -> {
                    weight = or(a.integer(c, 0, -254, 254), weight);
                    reverse = c.args().size() > 1 && c.args().get(1).text().equals("reverse");
                }
                case "init_file" -> {
                    init = true;
                    for (Token t : c.args()) {
                        if (t.text().equals("overwrite")) {
                            overwrite = true;
                        } else {
                            initValue = or(a.integer("init_file", t, Integer.MIN_VALUE, Integer.MAX_VALUE), 0);
                        }
                    }
                }
                default -> unknown(c, "track_file", Keywords.TRACK_FILE);
            }
        }
        if (file == null) {
            d.error(n.ref(), "track_file \"" + name + "\" has no file");
            return;
        }
        if (trackFiles.containsKey(name)) {
            d.error(n.ref(), "duplicate track_file \"" + name + "\" (first defined at "
                    + where(trackFiles.get(name).ref()) + ")");
            return;
        }
        trackFiles.put(name, new TrackFile(name, file, weight, reverse, init, initValue, overwrite, n.ref()));
    }

    // ---------------------------------------------------------------- addresses

    /** Parses {@code IP[/M] [brd IP|+|-] [dev IF] [scope S] [label L] [peer IP] [flags...]}. */
    VirtualIp vip(ConfigNode c) {
        List<Token> w = c.words();
        Token first = w.get(0);
        String text = first.text();
        int prefix = -1;
        String addrText = text;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            addrText = text.substring(0, slash);
        }
        InetAddress addr = Args.parseIp(addrText);
        if (addr == null) {
            d.error(first.ref(), "invalid IP address \"" + text + "\"");
            return null;
        }
        int max = Args.isV4(addr) ? 32 : 128;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            try {
                prefix = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                prefix = -2;
            }
            if (prefix < 0 || prefix > max) {
                d.error(first.ref(), "invalid prefix length \"" + p + "\" in \"" + text + "\" (0.." + max + ")");
                return null;
            }
        } else {
            prefix = max;
        }
        String dev = null;
        String label = null;
        InetAddress brd = null;
        String scope = null;
        InetAddress peer = null;
        Set<String> flags = new HashSet<>();
        for (int i = 1; i < w.size(); i++) {
            Token t = w.get(i);
            String k = t.text();
            Token v = i + 1 < w.size() ? w.get(i + 1) : null;
            switch (k) {
                case "dev", "label", "scope", "brd", "broadcast", "peer", "preferred_lft" -> {
                    if (v == null) {
                        d.error(t.ref(), "missing argument for \"" + k + "\"");
                        continue;
                    }
                    i++;
                    switch (k) {
                        case "dev" -> dev = v.text();
                        case "label" -> label = v.text();
                        case "scope" -> scope = v.text();
                        case "peer" -> peer = a.ip(v);
                        case "preferred_lft" -> flags.add("preferred_lft=" + v.text());
                        default -> {
                            if (v.text().equals("+") && Args.isV4(addr)) {
                                brd = broadcast(addr, prefix);
                            } else if (!v.text().equals("-") && !v.text().equals("+")) {
                                brd = a.ip(v);
                            }
                        }
                    }
                }
                case "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac" ->
                        flags.add(k);
                default -> d.warning(t.ref(), "unknown address option \"" + k + "\"");
            }
        }
        if (c.hasBlock()) {
            d.warning(c.openBrace(), "an address does not take a { } block; block ignored");
        }
        return new VirtualIp(addr, prefix, dev, label, brd, scope, peer, flags, first.ref());
    }

    private static InetAddress broadcast(InetAddress addr, int prefix) {
        byte[] b = addr.getAddress();
        int v = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        int bc = v | ~mask;
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (bc >>> 24), (byte) (bc >>> 16), (byte) (bc >>> 8),
                    (byte) bc});
        } catch (UnknownHostException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- vrrp_instance

    private static final class Draft {
        ConfigNode node;
        String name;
        VrrpInstance.State state;
        String iface;
        Integer vrid;
        Token vridToken;
        Integer priority;
        BigDecimal advert;
        Token advertToken;
        Integer version;
        Authentication auth = Authentication.NONE;
        List<VirtualIp> vips = new ArrayList<>();
        List<VirtualIp> evips = new ArrayList<>();
        List<RouteSpec> routes = new ArrayList<>();
        List<RouteSpec> rules = new ArrayList<>();
        InetAddress mcastSrc;
        InetAddress unicastSrc;
        List<UnicastPeer> peers = new ArrayList<>();
        boolean nopreempt;
        Token nopreemptToken;
        Duration preemptDelay;
        Boolean accept;
        Duration garpMasterDelay;
        Integer garpMasterRepeat;
        Duration garpMasterRefresh;
        Integer garpMasterRefreshRepeat;
        Duration garpLowerDelay;
        Integer garpLowerRepeat;
        List<TrackInterface> trackIfs = new ArrayList<>();
        List<TrackRef> trackScripts = new ArrayList<>();
        List<TrackRef> trackFiles = new ArrayList<>();
        String notify;
        String notifyMaster;
        String notifyBackup;
        String notifyFault;
        String notifyStop;
        Boolean smtpAlert;
        boolean useVmac;
        String vmacName;
        boolean dontTrackPrimary;
        Integer downTimer;
        Boolean lowerNoAdvert;
        Boolean higherSend;
        Boolean strict;
        Map<String, List<String>> other = new LinkedHashMap<>();
    }

    private List<VrrpInstance> instances(GlobalDefs g) {
        Map<String, Draft> byName = new LinkedHashMap<>();
        for (ConfigNode n : instanceNodes) {
            Draft dr = instanceDraft(n);
            Draft prev = byName.get(dr.name);
            if (prev != null) {
                d.error(n.ref(), "duplicate vrrp_instance \"" + dr.name + "\" (first defined at "
                        + where(prev.node.ref()) + ")");
                continue;
            }
            byName.put(dr.name, dr);
        }
        List<VrrpInstance> out = new ArrayList<>();
        Map<String, VrrpInstance> vridOwners = new HashMap<>();
        for (Draft dr : byName.values()) {
            VrrpInstance vi = finish(dr, g);
            if (vi == null) {
                continue;
            }
            if (vi.interfaceName() != null && !vi.isUnicast()) {
                String fam = vi.isIpv6() ? "IPv6" : "IPv4";
                String key = vi.interfaceName() + "/" + fam + "/" + vi.virtualRouterId();
                VrrpInstance owner = vridOwners.putIfAbsent(key, vi);
                if (owner != null) {
                    d.error(dr.vridToken.ref(), "virtual_router_id " + vi.virtualRouterId() + " on "
                            + vi.interfaceName() + " (" + fam + ") is already used by vrrp_instance \""
                            + owner.name() + "\"");
                }
            }
            out.add(vi);
        }
        return out;
    }

    private Draft instanceDraft(ConfigNode n) {
        Draft dr = new Draft();
        dr.node = n;
        dr.name = n.args().get(0).text();
        for (ConfigNode c : n.children()) {
            switch (c.name()) {
                case "authentication", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes",
                     "virtual_rules", "unicast_peer", "track_interface", "track_script", "track_file",
                     "track_process", "track_bfd", "auth_hmac" -> {
                    if (!block(c)) {
                        continue;
                    }
                }
                default -> noBlock(c);
            }
            switch (c.name()) {
                case "state" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        switch (t.text()) {
                            case "MASTER" -> dr.state = VrrpInstance.State.MASTER;
                            case "BACKUP" -> dr.state = VrrpInstance.State.BACKUP;
                            default -> d.error(t.ref(), "invalid state \"" + t.text() + "\" (expected MASTER or BACKUP)");
                        }
                    }
                }
                case "interface", "vrf" -> dr.iface = str(c, dr.iface);
                case "virtual_router_id" -> {
                    dr.vridToken = a.need(c, 0);
                    if (dr.vridToken != null) {
                        dr.vrid = a.integer(c.name(), dr.vridToken, 1, 255);
                        if (dr.vrid == null) {
                            dr.vridToken = null;
                            dr.vrid = -1;
                        }
                    }
                }
                case "priority" -> dr.priority = or(a.integer(c, 0, 1, 255), dr.priority);
                case "advert_int" -> {
                    dr.advert = a.decimal(c, 0);
                    dr.advertToken = dr.advert == null ? null : c.args().get(0);
                }
                case "version" -> dr.version = or(a.integer(c, 0, 2, 3), dr.version);
                case "authentication" -> dr.auth = auth(c);
                case "virtual_ipaddress" -> addresses(c, dr.vips, true);
                case "virtual_ipaddress_excluded" -> addresses(c, dr.evips, false);
                case "virtual_routes" -> c.children().forEach(r -> dr.routes.add(route(r)));
                case "virtual_rules" -> c.children().forEach(r -> dr.rules.add(route(r)));
                case "mcast_src_ip" -> dr.mcastSrc = a.ip(c, 0);
                case "unicast_src_ip" -> dr.unicastSrc = a.ip(c, 0);
                case "unicast_peer" -> {
                    for (ConfigNode p : c.children()) {
                        UnicastPeer up = peer(p);
                        if (up != null) {
                            dr.peers.add(up);
                        }
                    }
                }
                case "nopreempt" -> {
                    dr.nopreempt = true;
                    dr.nopreemptToken = c.keyword();
                }
                case "preempt" -> dr.nopreempt = false;
                case "preempt_delay" -> dr.preemptDelay = secs(c, 0, 1000);
                case "accept" -> dr.accept = true;
                case "no_accept" -> dr.accept = false;
                case "garp_master_delay" -> dr.garpMasterDelay = secs(c, 0, 255);
                case "garp_master_repeat" -> dr.garpMasterRepeat = a.integer(c, 0, 0, 255);
                case "garp_master_refresh" -> dr.garpMasterRefresh = secs(c, 0, 2_147_483);
                case "garp_master_refresh_repeat" -> dr.garpMasterRefreshRepeat = a.integer(c, 0, 1, 255);
                case "garp_lower_prio_delay" -> dr.garpLowerDelay = secs(c, 0, 255);
                case "garp_lower_prio_repeat" -> dr.garpLowerRepeat = a.integer(c, 0, 0, 255);
                case "track_interface" -> {
                    for (ConfigNode t : c.children()) {
                        TrackRef r = trackRef(t, -253, 253);
                        dr.trackIfs.add(new TrackInterface(r.name(), r.weight() == null ? 0 : r.weight(),
                                r.reverse(), r.ref()));
                    }
                }
                case "track_script" -> c.children().forEach(t -> dr.trackScripts.add(trackRef(t, -253, 253)));
                case "track_file" -> c.children().forEach(t -> dr.trackFiles.add(trackRef(t, -254, 254)));
                case "notify" -> dr.notify = a.command(c);
                case "notify_master" -> dr.notifyMaster = a.command(c);
                case "notify_backup" -> dr.notifyBackup = a.command(c);
                case "notify_fault" -> dr.notifyFault = a.command(c);
                case "notify_stop" -> dr.notifyStop = a.command(c);
                case "smtp_alert" -> dr.smtpAlert = a.bool(c, 0);
                case "use_vmac" -> {
                    dr.useVmac = true;
                    if (!c.args().isEmpty() && !c.args().get(0).text().contains(":")) {
                        dr.vmacName = c.args().get(0).text();
                    }
                }
                case "dont_track_primary" -> dr.dontTrackPrimary = true;
                case "down_timer_adverts" -> dr.downTimer = a.integer(c, 0, 1, 100);
                case "lower_prio_no_advert" -> dr.lowerNoAdvert = a.bool(c, 0);
                case "higher_prio_send_advert" -> dr.higherSend = a.bool(c, 0);
                case "strict_mode" -> dr.strict = a.bool(c, 0);
                case "native_ipv6" -> d.warning(c.ref(), "\"native_ipv6\" is deprecated; the address family "
                        + "comes from the virtual addresses");
                default -> {
                    if (Keywords.INSTANCE.contains(c.name())) {
                        dr.other.put(c.name(), c.argTexts());
                    } else {
                        unknown(c, "vrrp_instance", Keywords.INSTANCE);
                    }
                }
            }
        }
        return dr;
    }

    private Authentication auth(ConfigNode n) {
        Authentication.Type type = null;
        String pass = null;
        for (ConfigNode c : n.children()) {
            noBlock(c);
            switch (c.name()) {
                case "auth_type" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        switch (t.text()) {
                            case "PASS" -> type = Authentication.Type.PASS;
                            case "AH" -> type = Authentication.Type.AH;
                            default -> d.error(t.ref(), "invalid auth_type \"" + t.text() + "\" (expected PASS or AH)");
                        }
                    }
                }
                case "auth_pass" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        pass = t.text();
                        // RFC 3768 §5.3.6.1: the authentication data field is 8 octets
                        if (pass.length() > 8) {
                            pass = pass.substring(0, 8);
                            d.warning(t.ref(), "auth_pass is longer than 8 characters, only \"" + pass
                                    + "\" is used");
                        }
                    }
                }
                default -> unknown(c, "authentication", Keywords.AUTH);
            }
        }
        if (type == null) {
            if (pass != null) {
                d.error(n.ref(), "authentication has auth_pass but no auth_type");
            }
            return Authentication.NONE;
        }
        if (pass == null) {
            d.error(n.ref(), "authentication has auth_type but no auth_pass");
            return Authentication.NONE;
        }
        return new Authentication(type, pass, n.ref());
    }

    private void addresses(ConfigNode c, List<VirtualIp> out, boolean sameFamily) {
        for (ConfigNode line : c.children()) {
            VirtualIp ip = vip(line);
            if (ip == null) {
                continue;
            }
            if (sameFamily && !out.isEmpty() && out.get(0).isIpv6() != ip.isIpv6()) {
                d.error(ip.ref(), "virtual_ipaddress mixes address families (" + line.name()
                        + " is " + (ip.isIpv6() ? "IPv6" : "IPv4") + ", the first address is "
                        + (out.get(0).isIpv6() ? "IPv6" : "IPv4") + ")");
                continue;
            }
            out.add(ip);
        }
    }

    private UnicastPeer peer(ConfigNode p) {
        InetAddress ip = a.ip(p.keyword());
        if (ip == null) {
            return null;
        }
        Integer min = null;
        Integer max = null;
        List<Token> args = p.args();
        for (int i = 0; i < args.size(); i++) {
            String k = args.get(i).text();
            if ((k.equals("min_ttl") || k.equals("max_ttl")) && i + 1 < args.size()) {
                Integer v = a.integer(k, args.get(++i), 0, 255);
                if (k.equals("min_ttl")) {
                    min = v;
                } else {
                    max = v;
                }
            } else {
                d.warning(args.get(i).ref(), "unknown unicast_peer option \"" + k + "\"");
            }
        }
        return new UnicastPeer(ip, min, max, p.ref());
    }

    TrackRef trackRef(ConfigNode t, int min, int max) {
        Integer weight = null;
        boolean reverse = false;
        List<Token> args = t.args();
        for (int i = 0; i < args.size(); i++) {
            String k = args.get(i).text();
            if (k.equals("weight")) {
                if (i + 1 < args.size()) {
                    weight = a.integer("weight", args.get(++i), min, max);
                } else {
                    d.error(args.get(i).ref(), "missing argument for \"weight\"");
                }
            } else if (k.equals("reverse")) {
                reverse = true;
            } else if (!k.equals("noreverse")) {
                d.warning(args.get(i).ref(), "unknown option \"" + k + "\" for tracked \"" + t.name() + "\"");
            }
        }
        return new TrackRef(t.name(), weight, reverse, t.ref());
    }

    private VrrpInstance finish(Draft dr, GlobalDefs g) {
        ConfigNode n = dr.node;
        boolean ok = true;
        if (dr.vrid == null) {
            d.error(n.ref(), "vrrp_instance \"" + dr.name + "\" has no virtual_router_id");
            ok = false;
        } else if (dr.vrid < 0) {
            ok = false;
        }
        if (dr.iface == null && dr.peers.isEmpty()) {
            d.error(n.ref(), "vrrp_instance \"" + dr.name + "\" has no interface");
            ok = false;
        }
        if (!ok) {
            return null;
        }
        boolean strict = or(dr.strict, g.vrrpStrict());
        boolean ipv6 = !dr.vips.isEmpty() && dr.vips.get(0).isIpv6();
        int version = dr.version != null ? dr.version : ipv6 ? 3 : g.vrrpVersion();
        if (dr.vips.isEmpty()) {
            d.warning(n.ref(), "vrrp_instance \"" + dr.name + "\" has no virtual_ipaddress");
        }
        VrrpInstance.State state = dr.state == null ? VrrpInstance.State.BACKUP : dr.state;
        int priority = dr.priority != null ? dr.priority : state == VrrpInstance.State.MASTER ? 255 : 100;
        if (dr.priority != null && dr.priority == 255 && dr.state == null) {
            state = VrrpInstance.State.MASTER;
        }
        Duration advert = advert(dr, version);
        Authentication auth = dr.auth;
        if (auth.type() != Authentication.Type.NONE && version == 3) {
            // RFC 5798 §9: VRRPv3 has no authentication
            d.warning(auth.ref(), "authentication is not supported by VRRPv3 and is ignored");
            auth = Authentication.NONE;
        } else if (auth.type() != Authentication.Type.NONE && strict) {
            d.error(auth.ref(), "authentication is not allowed with vrrp_strict");
            auth = Authentication.NONE;
        }
        boolean preempt = !dr.nopreempt;
        if (dr.nopreempt && state == VrrpInstance.State.MASTER) {
            d.warning(dr.nopreemptToken.ref(), "nopreempt does not work with state MASTER; preempting");
            preempt = true;
        }
        boolean accept = dr.accept != null ? dr.accept : !strict || priority == 255;
        boolean smtp = dr.smtpAlert != null ? dr.smtpAlert
                : g.smtpAlertVrrp() != null ? g.smtpAlertVrrp() : g.smtpAlert() != null && g.smtpAlert();
        List<TrackRef> scriptsTracked = new ArrayList<>();
        for (TrackRef t : dr.trackScripts) {
            if (!scripts.containsKey(t.name())) {
                d.error(t.ref(), "unknown vrrp_script \"" + t.name() + "\" in track_script");
            } else {
                scriptsTracked.add(t);
            }
        }
        List<TrackRef> filesTracked = new ArrayList<>();
        for (TrackRef t : dr.trackFiles) {
            if (!trackFiles.containsKey(t.name())) {
                d.error(t.ref(), "unknown track_file \"" + t.name() + "\" in track_file");
            } else {
                filesTracked.add(t);
            }
        }
        String vmac = dr.useVmac ? (dr.vmacName != null ? dr.vmacName : "vrrp." + dr.vrid) : null;
        return new VrrpInstance(dr.name, state, dr.iface, dr.vrid, priority, advert, version, auth, dr.vips,
                dr.evips, dr.routes, dr.rules, dr.mcastSrc, dr.unicastSrc, dr.peers, preempt,
                or(dr.preemptDelay, Duration.ZERO), accept, or(dr.garpMasterDelay, g.vrrpGarpMasterDelay()),
                or(dr.garpMasterRepeat, g.vrrpGarpMasterRepeat()), or(dr.garpMasterRefresh, g.vrrpGarpMasterRefresh()),
                or(dr.garpMasterRefreshRepeat, g.vrrpGarpMasterRefreshRepeat()),
                or(dr.garpLowerDelay, g.vrrpGarpLowerPrioDelay()), or(dr.garpLowerRepeat, g.vrrpGarpLowerPrioRepeat()),
                dr.trackIfs, scriptsTracked, filesTracked, dr.notify, dr.notifyMaster, dr.notifyBackup,
                dr.notifyFault, dr.notifyStop, smtp, dr.useVmac, vmac, dr.dontTrackPrimary,
                or(dr.downTimer, g.vrrpDownTimerAdverts()), or(dr.lowerNoAdvert, g.vrrpLowerPrioNoAdvert() || strict),
                or(dr.higherSend, g.vrrpHigherPrioSendAdvert()), strict, dr.other, n.ref());
    }

    private Duration advert(Draft dr, int version) {
        if (dr.advert == null) {
            return Duration.ofSeconds(1);
        }
        BigDecimal v = dr.advert;
        Token t = dr.advertToken;
        if (version == 2) {
            // RFC 3768 §5.3.7: Adver Int is an 8-bit count of whole seconds
            BigDecimal r = v.setScale(0, RoundingMode.HALF_UP);
            if (r.compareTo(BigDecimal.ONE) < 0 || r.compareTo(BigDecimal.valueOf(255)) > 0) {
                d.error(t.ref(), "advert_int " + t.text() + " out of range for VRRPv2 (1..255 seconds)");
                return Duration.ofSeconds(1);
            }
            if (v.compareTo(r) != 0) {
                d.warning(t.ref(), "advert_int " + t.text() + " is not a whole number of seconds for VRRPv2, "
                        + "rounded to " + r.toPlainString());
            }
            return Duration.ofSeconds(r.longValue());
        }
        // RFC 5798 §5.2.7: Max Adver Int is a 12-bit count of centiseconds
        BigDecimal cs = v.movePointRight(2).setScale(0, RoundingMode.HALF_UP);
        if (cs.compareTo(BigDecimal.ONE) < 0 || cs.compareTo(BigDecimal.valueOf(4095)) > 0) {
            d.error(t.ref(), "advert_int " + t.text() + " out of range for VRRPv3 (0.01..40.95 seconds)");
            return Duration.ofSeconds(1);
        }
        if (v.movePointRight(2).compareTo(cs) != 0) {
            d.warning(t.ref(), "advert_int " + t.text() + " is not a multiple of 0.01 seconds for VRRPv3, "
                    + "rounded to " + cs.movePointLeft(2).toPlainString());
        }
        return Duration.ofMillis(cs.longValue() * 10);
    }

    // ---------------------------------------------------------------- vrrp_sync_group

    private List<VrrpSyncGroup> syncGroups(List<VrrpInstance> instances) {
        Set<String> known = new HashSet<>();
        instances.forEach(i -> known.add(i.name()));
        Set<String> allInstanceNames = new HashSet<>();
        instanceNodes.forEach(n -> allInstanceNames.add(n.args().get(0).text()));
        Map<String, String> memberOf = new HashMap<>();
        Map<String, VrrpSyncGroup> out = new LinkedHashMap<>();
        for (ConfigNode n : syncGroupNodes) {
            String name = n.args().get(0).text();
            if (out.containsKey(name)) {
                d.error(n.ref(), "duplicate vrrp_sync_group \"" + name + "\" (first defined at "
                        + where(out.get(name).ref()) + ")");
                continue;
            }
            List<String> members = new ArrayList<>();
            List<TrackInterface> tifs = new ArrayList<>();
            List<TrackRef> tscripts = new ArrayList<>();
            List<TrackRef> tfiles = new ArrayList<>();
            String notify = null;
            String nm = null;
            String nb = null;
            String nf = null;
            String ns = null;
            boolean smtp = false;
            boolean globalTracking = false;
            boolean weight = false;
            for (ConfigNode c : n.children()) {
                switch (c.name()) {
                    case "group" -> {
                        if (!block(c)) {
                            continue;
                        }
                        for (ConfigNode m : c.children()) {
                            for (Token t : m.words()) {
                                String inst = t.text();
                                if (!allInstanceNames.contains(inst)) {
                                    d.error(t.ref(), "vrrp_sync_group \"" + name + "\" names unknown vrrp_instance \""
                                            + inst + "\"");
                                } else if (memberOf.containsKey(inst)) {
                                    d.error(t.ref(), "vrrp_instance \"" + inst + "\" is already in vrrp_sync_group \""
                                            + memberOf.get(inst) + "\"");
                                } else if (known.contains(inst)) {
                                    memberOf.put(inst, name);
                                    members.add(inst);
                                }
                            }
                        }
                    }
                    case "track_interface" -> {
                        if (block(c)) {
                            for (ConfigNode t : c.children()) {
                                TrackRef r = trackRef(t, -253, 253);
                                tifs.add(new TrackInterface(r.name(), r.weight() == null ? 0 : r.weight(), r.reverse(),
                                        r.ref()));
                            }
                        }
                    }
                    case "track_script" -> {
                        if (block(c)) {
                            for (ConfigNode t : c.children()) {
                                TrackRef r = trackRef(t, -253, 253);
                                if (!scripts.containsKey(r.name())) {
                                    d.error(r.ref(), "unknown vrrp_script \"" + r.name() + "\" in track_script");
                                } else {
                                    tscripts.add(r);
                                }
                            }
                        }
                    }
                    case "track_file" -> {
                        if (block(c)) {
                            for (ConfigNode t : c.children()) {
                                TrackRef r = trackRef(t, -254, 254);
                                if (!trackFiles.containsKey(r.name())) {
                                    d.error(r.ref(), "unknown track_file \"" + r.name() + "\" in track_file");
                                } else {
                                    tfiles.add(r);
                                }
                            }
                        }
                    }
                    case "notify" -> notify = a.command(c);
                    case "notify_master" -> nm = a.command(c);
                    case "notify_backup" -> nb = a.command(c);
                    case "notify_fault" -> nf = a.command(c);
                    case "notify_stop" -> ns = a.command(c);
                    case "smtp_alert" -> smtp = or(a.bool(c, 0), false);
                    case "global_tracking" -> {
                        globalTracking = true;
                        d.warning(c.ref(), "\"global_tracking\" is deprecated; use group-level track_* blocks");
                    }
                    case "sync_group_tracking_weight" -> weight = true;
                    default -> {
                        if (!Keywords.SYNC_GROUP.contains(c.name())) {
                            unknown(c, "vrrp_sync_group", Keywords.SYNC_GROUP);
                        }
                    }
                }
            }
            if (members.size() == 1) {
                d.warning(n.ref(), "vrrp_sync_group \"" + name + "\" has only one member");
            } else if (members.isEmpty()) {
                d.warning(n.ref(), "vrrp_sync_group \"" + name + "\" has no members");
                continue;
            }
            out.put(name, new VrrpSyncGroup(name, members, tifs, tscripts, tfiles, notify, nm, nb, nf, ns, smtp,
                    globalTracking, weight, n.ref()));
        }
        return List.copyOf(out.values());
    }
}
