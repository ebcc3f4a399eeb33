package dev.vigil.config.parse;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.Diagnostics;
import dev.vigil.config.Token;
import dev.vigil.config.model.BfdCheck;
import dev.vigil.config.model.Checker;
import dev.vigil.config.model.CheckerCommon;
import dev.vigil.config.model.DnsCheck;
import dev.vigil.config.model.FileCheck;
import dev.vigil.config.model.GenericCheck;
import dev.vigil.config.model.HttpCheck;
import dev.vigil.config.model.LvsMethod;
import dev.vigil.config.model.MiscCheck;
import dev.vigil.config.model.PingCheck;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.ServerAddress;
import dev.vigil.config.model.SmtpCheck;
import dev.vigil.config.model.TcpCheck;
import dev.vigil.config.model.UdpCheck;
import dev.vigil.config.model.UrlCheck;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds {@code virtual_server_group}, {@code virtual_server}, {@code real_server} and checker records. */
final class LvsBuilder {
    private static final Set<String> SCHEDULERS = Set.of("rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo",
            "ovf", "lblcr", "sed", "nq", "twos");

    private final Diagnostics d;
    private final Args a;
    private final ModelBuilder mb;
    private final Map<String, VirtualServerGroup> groups = new LinkedHashMap<>();
    private final List<VirtualServer> servers = new ArrayList<>();
    private final List<ConfigNode> fileChecks = new ArrayList<>();

    /** The LVS part of a configuration. */
    record Result(List<VirtualServerGroup> groups, List<VirtualServer> servers) {
    }

    LvsBuilder(Diagnostics d, Args a, ModelBuilder mb) {
        this.d = d;
        this.a = a;
        this.mb = mb;
    }

    /** Options a checker inherits from its real server and virtual server. */
    private record Inherited(Duration connectTimeout, Integer retry, Duration delayBeforeRetry, Duration warmup,
                             Duration delayLoop, Boolean alpha, String virtualhost) {
        Inherited over(Inherited base) {
            return new Inherited(ModelBuilder.or(connectTimeout, base.connectTimeout),
                    ModelBuilder.or(retry, base.retry), ModelBuilder.or(delayBeforeRetry, base.delayBeforeRetry),
                    ModelBuilder.or(warmup, base.warmup), ModelBuilder.or(delayLoop, base.delayLoop),
                    ModelBuilder.or(alpha, base.alpha), ModelBuilder.or(virtualhost, base.virtualhost));
        }
    }

    Result finish(Set<String> trackFiles) {
        for (ConfigNode fc : fileChecks) {
            for (ConfigNode c : fc.children()) {
                if (c.name().equals("track_file") && !c.args().isEmpty()
                        && !trackFiles.contains(c.args().get(0).text())) {
                    d.error(c.args().get(0).ref(), "unknown track_file \"" + c.args().get(0).text()
                            + "\" in FILE_CHECK");
                }
            }
        }
        List<VirtualServer> kept = new ArrayList<>();
        Map<String, VirtualServer> seen = new LinkedHashMap<>();
        for (VirtualServer vs : servers) {
            if (vs.group() != null && !groups.containsKey(vs.group())) {
                d.error(vs.ref(), "unknown virtual_server_group \"" + vs.group() + "\"");
                continue;
            }
            String key = vs.key() + "/" + vs.protocol();
            VirtualServer first = seen.putIfAbsent(key, vs);
            if (first != null) {
                d.warning(vs.ref(), "duplicate virtual_server " + vs.key() + " " + vs.protocol()
                        + " (first defined at " + ModelBuilder.where(first.ref()) + ")");
            }
            kept.add(vs);
        }
        return new Result(List.copyOf(groups.values()), kept);
    }

    // ---------------------------------------------------------------- virtual_server_group

    void group(ConfigNode n) {
        String name = n.args().get(0).text();
        List<VirtualServerGroup.Entry> entries = new ArrayList<>();
        for (ConfigNode c : n.children()) {
            mb.noBlock(c);
            if (c.name().equals("fwmark")) {
                Integer mark = a.integer(c, 0, 1, Integer.MAX_VALUE);
                String fam = c.args().size() > 1 ? c.args().get(1).text() : null;
                if (fam != null && !fam.equals("inet") && !fam.equals("inet6")) {
                    d.error(c.args().get(1).ref(), "invalid address family \"" + fam + "\" (expected inet or inet6)");
                    continue;
                }
                if (mark != null) {
                    entries.add(new VirtualServerGroup.Entry(null, null, null, null, mark, fam, c.ref()));
                }
                continue;
            }
            String text = c.name();
            Integer port = null;
            if (!c.args().isEmpty()) {
                port = a.integer("virtual_server_group", c.args().get(0), 0, 65535);
            }
            InetAddress start;
            InetAddress end;
            Integer prefix = null;
            int slash = text.indexOf('/');
            int dash = text.lastIndexOf('-');
            if (slash >= 0) {
                start = Args.parseIp(text.substring(0, slash));
                try {
                    prefix = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                end = start;
                if (start != null && (prefix < 0 || prefix > (Args.isV4(start) ? 32 : 128))) {
                    d.error(c.ref(), "invalid prefix length \"" + text.substring(slash + 1) + "\" in \"" + text + "\"");
                    continue;
                }
            } else if (dash > 0) {
                start = Args.parseIp(text.substring(0, dash));
                end = rangeEnd(start, text.substring(dash + 1));
                if (start != null && end == null) {
                    d.error(c.ref(), "invalid address range \"" + text + "\"");
                    continue;
                }
            } else {
                start = Args.parseIp(text);
                end = start;
            }
            if (start == null) {
                d.error(c.ref(), "invalid IP address \"" + text + "\"");
                continue;
            }
            entries.add(new VirtualServerGroup.Entry(start, end, prefix, port, null, null, c.ref()));
        }
        if (groups.containsKey(name)) {
            d.error(n.ref(), "duplicate virtual_server_group \"" + name + "\" (first defined at "
                    + ModelBuilder.where(groups.get(name).ref()) + ")");
            return;
        }
        groups.put(name, new VirtualServerGroup(name, entries, n.ref()));
    }

    private static InetAddress rangeEnd(InetAddress start, String last) {
        if (start == null) {
            return null;
        }
        byte[] b = start.getAddress();
        try {
            if (Args.isV4(start)) {
                int v = Integer.parseInt(last);
                if (v < (b[3] & 0xff) || v > 255) {
                    return null;
                }
                b[3] = (byte) v;
            } else {
                int v = Integer.parseInt(last, 16);
                int cur = ((b[14] & 0xff) << 8) | (b[15] & 0xff);
                if (v < cur || v > 0xffff) {
                    return null;
                }
                b[14] = (byte) (v >> 8);
                b[15] = (byte) v;
            }
            return InetAddress.getByAddress(b);
        } catch (NumberFormatException | java.net.UnknownHostException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- virtual_server

    void virtualServer(ConfigNode n) {
        Token first = a.need(n, 0);
        if (first == null) {
            return;
        }
        InetAddress address = null;
        Integer port = null;
        Integer fwmark = null;
        String group = null;
        switch (first.text()) {
            case "fwmark" -> {
                fwmark = a.integer(n, 1, 1, Integer.MAX_VALUE);
                if (fwmark == null) {
                    return;
                }
            }
            case "group" -> {
                Token g = a.need(n, 1);
                if (g == null) {
                    return;
                }
                group = g.text();
            }
            default -> {
                address = a.ip(first);
                if (address == null) {
                    return;
                }
                if (n.args().size() > 1) {
                    port = a.integer("virtual_server", n.args().get(1), 0, 65535);
                    if (port == null) {
                        return;
                    }
                }
            }
        }
        String algo = "wlc";
        LvsMethod method = LvsMethod.NAT;
        String protocol = "TCP";
        Duration persistence = null;
        String granularity = null;
        String engine = null;
        ServerAddress sorry = null;
        LvsMethod sorryMethod = null;
        boolean sorryInhibit = false;
        int quorum = 1;
        int hysteresis = 0;
        String quorumUp = null;
        String quorumDown = null;
        boolean omega = false;
        boolean inhibit = false;
        boolean haSuspend = false;
        String ipFamily = null;
        Set<String> flags = new HashSet<>();
        Map<String, List<String>> other = new LinkedHashMap<>();
        Duration connectTimeout = null;
        Integer retry = null;
        Duration delayBeforeRetry = null;
        Duration warmup = null;
        Duration delayLoop = null;
        Boolean alpha = null;
        String virtualhost = null;
        List<ConfigNode> rsNodes = new ArrayList<>();
        for (ConfigNode c : n.children()) {
            if (c.name().equals("real_server")) {
                rsNodes.add(c);
                continue;
            }
            mb.noBlock(c);
            switch (c.name()) {
                case "lb_algo", "lvs_sched" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        if (!SCHEDULERS.contains(t.text())) {
                            d.warning(t.ref(), "unknown " + c.name() + " \"" + t.text() + "\"");
                        }
                        algo = t.text();
                    }
                }
                case "lb_kind", "lvs_method" -> method = ModelBuilder.or(method(c), method);
                case "protocol" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        String p = t.text().toUpperCase(java.util.Locale.ROOT);
                        if (Set.of("TCP", "UDP", "SCTP").contains(p)) {
                            protocol = p;
                        } else {
                            d.error(t.ref(), "invalid protocol \"" + t.text() + "\" (expected TCP, UDP or SCTP)");
                        }
                    }
                }
                case "persistence_timeout" -> persistence = c.args().isEmpty() ? Duration.ofSeconds(360)
                        : ModelBuilder.or(a.seconds(c, 0, 1, 2_678_400), persistence);
                case "persistence_granularity" -> granularity = c.args().isEmpty() ? null : c.args().get(0).text();
                case "persistence_engine" -> engine = c.args().isEmpty() ? null : c.args().get(0).text();
                case "sorry_server" -> {
                    InetAddress ip = a.ip(c, 0);
                    Integer p = c.args().size() > 1 ? a.integer(c, 1, 0, 65535) : null;
                    if (ip != null) {
                        sorry = new ServerAddress(ip, p == null ? port : p);
                    }
                }
                case "sorry_server_lvs_method" -> sorryMethod = method(c);
                case "sorry_server_inhibit" -> sorryInhibit = true;
                case "quorum" -> quorum = ModelBuilder.or(a.integer(c, 0, 1, Integer.MAX_VALUE), quorum);
                case "hysteresis" -> hysteresis = ModelBuilder.or(a.integer(c, 0, 0, Integer.MAX_VALUE), hysteresis);
                case "quorum_up" -> quorumUp = a.command(c);
                case "quorum_down" -> quorumDown = a.command(c);
                case "alpha" -> alpha = true;
                case "omega" -> omega = true;
                case "inhibit_on_failure" -> inhibit = ModelBuilder.or(a.bool(c, 0), inhibit);
                case "ha_suspend" -> haSuspend = true;
                case "ip_family" -> ipFamily = c.args().isEmpty() ? null : c.args().get(0).text();
                case "virtualhost" -> virtualhost = c.args().isEmpty() ? null : c.args().get(0).text();
                case "delay_loop" -> delayLoop = a.seconds(c, 0, 0.000001, 2_147_483);
                case "connect_timeout" -> connectTimeout = a.seconds(c, 0, 0.000001, 2_147_483);
                case "retry", "nb_get_retry" -> retry = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "delay_before_retry" -> delayBeforeRetry = a.seconds(c, 0, 0, 2_147_483);
                case "warmup" -> warmup = a.seconds(c, 0, 0, 2_147_483);
                case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "ops",
                     "hashed" -> flags.add(c.name());
                default -> {
                    if (Keywords.VIRTUAL_SERVER.contains(c.name())) {
                        other.put(c.name(), c.argTexts());
                    } else {
                        mb.unknown(c, "virtual_server", Keywords.VIRTUAL_SERVER);
                    }
                }
            }
        }
        Inherited vsDefaults = new Inherited(connectTimeout, retry, delayBeforeRetry, warmup, delayLoop, alpha,
                virtualhost);
        List<RealServer> reals = new ArrayList<>();
        Set<String> rsKeys = new HashSet<>();
        for (ConfigNode rn : rsNodes) {
            RealServer rs = realServer(rn, port, method, inhibit, vsDefaults);
            if (rs != null) {
                String key = new ServerAddress(rs.address(), rs.port()).toString();
                if (!rsKeys.add(key)) {
                    d.warning(rn.ref(), "duplicate real_server " + key + " in virtual_server "
                            + (address != null ? new ServerAddress(address, port).toString()
                            : fwmark != null ? "fwmark " + fwmark : "group " + group));
                }
                reals.add(rs);
            }
        }
        servers.add(new VirtualServer(address, port, fwmark, group, algo, method, protocol, persistence,
                granularity, engine, sorry, sorryMethod, sorryInhibit, quorum, hysteresis, quorumUp, quorumDown,
                alpha != null && alpha, omega, inhibit, delayLoop == null ? Duration.ofSeconds(60) : delayLoop,
                virtualhost, haSuspend, ipFamily, flags, reals, other, n.ref()));
    }

    private LvsMethod method(ConfigNode c) {
        Token t = a.need(c, 0);
        if (t == null) {
            return null;
        }
        switch (t.text().toUpperCase(java.util.Locale.ROOT)) {
            case "NAT" -> {
                return LvsMethod.NAT;
            }
            case "DR" -> {
                return new LvsMethod(LvsMethod.Kind.DR, null, null, null);
            }
            case "TUN" -> {
                String type = null;
                Integer port = null;
                String csum = null;
                List<Token> args = c.args();
                for (int i = 1; i < args.size(); i++) {
                    String k = args.get(i).text();
                    switch (k) {
                        case "type" -> type = i + 1 < args.size() ? args.get(++i).text() : null;
                        case "port" -> port = i + 1 < args.size() ? a.integer("port", args.get(++i), 1, 65535) : null;
                        case "nocsum", "csum", "remcsum" -> csum = k;
                        default -> d.warning(args.get(i).ref(), "unknown TUN option \"" + k + "\"");
                    }
                }
                return new LvsMethod(LvsMethod.Kind.TUN, type == null ? "ipip" : type, port, csum);
            }
            default -> {
                d.error(t.ref(), "invalid " + c.name() + " \"" + t.text() + "\" (expected NAT, DR or TUN)");
                return null;
            }
        }
    }

    // ---------------------------------------------------------------- real_server

    private RealServer realServer(ConfigNode n, Integer vsPort, LvsMethod vsMethod, boolean vsInhibit,
                                  Inherited vsDefaults) {
        if (!mb.block(n)) {
            return null;
        }
        InetAddress ip = a.ip(n, 0);
        if (ip == null) {
            return null;
        }
        Integer port = vsPort;
        if (n.args().size() > 1) {
            port = a.integer("real_server", n.args().get(1), 0, 65535);
            if (port == null) {
                return null;
            }
        }
        int weight = 1;
        LvsMethod method = vsMethod;
        boolean inhibit = vsInhibit;
        String up = null;
        String down = null;
        Boolean smtpAlert = null;
        int uthr = 0;
        int lthr = 0;
        Duration connectTimeout = null;
        Integer retry = null;
        Duration delayBeforeRetry = null;
        Duration warmup = null;
        Duration delayLoop = null;
        Boolean alpha = null;
        String virtualhost = null;
        List<ConfigNode> checkNodes = new ArrayList<>();
        for (ConfigNode c : n.children()) {
            if (c.hasBlock() && !Keywords.REAL_SERVER.contains(c.name())) {
                checkNodes.add(c);
                continue;
            }
            mb.noBlock(c);
            switch (c.name()) {
                case "weight" -> weight = ModelBuilder.or(a.integer(c, 0, 0, Integer.MAX_VALUE), weight);
                case "lvs_method", "lb_kind" -> method = ModelBuilder.or(method(c), method);
                case "inhibit_on_failure" -> inhibit = ModelBuilder.or(a.bool(c, 0), inhibit);
                case "notify_up" -> up = a.command(c);
                case "notify_down" -> down = a.command(c);
                case "uthreshold" -> uthr = ModelBuilder.or(a.integer(c, 0, 0, Integer.MAX_VALUE), uthr);
                case "lthreshold" -> lthr = ModelBuilder.or(a.integer(c, 0, 0, Integer.MAX_VALUE), lthr);
                case "alpha" -> alpha = true;
                case "connect_timeout" -> connectTimeout = a.seconds(c, 0, 0.000001, 2_147_483);
                case "retry", "nb_get_retry" -> retry = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "delay_before_retry" -> delayBeforeRetry = a.seconds(c, 0, 0, 2_147_483);
                case "warmup" -> warmup = a.seconds(c, 0, 0, 2_147_483);
                case "delay_loop" -> delayLoop = a.seconds(c, 0, 0.000001, 2_147_483);
                case "virtualhost" -> virtualhost = c.args().isEmpty() ? null : c.args().get(0).text();
                case "smtp_alert" -> smtpAlert = a.bool(c, 0);
                default -> {
                    if (Keywords.CHECKERS.contains(c.name())) {
                        d.error(c.ref(), "\"" + c.name() + "\" needs a { } block");
                    } else {
                        mb.unknown(c, "real_server", union(Keywords.REAL_SERVER, Keywords.CHECKERS));
                    }
                }
            }
        }
        Inherited rsDefaults = new Inherited(connectTimeout, retry, delayBeforeRetry, warmup, delayLoop, alpha,
                virtualhost).over(vsDefaults);
        List<Checker> checkers = new ArrayList<>();
        for (ConfigNode c : checkNodes) {
            Checker ch = checker(c, ip, port, rsDefaults);
            if (ch != null) {
                checkers.add(ch);
            }
        }
        boolean rsAlpha = rsDefaults.alpha() != null && rsDefaults.alpha();
        return new RealServer(ip, port, weight, method, inhibit, up, down, uthr, lthr, rsAlpha, rsDefaults.virtualhost(),
                smtpAlert, checkers, n.ref());
    }

    private static Set<String> union(Set<String> x, Set<String> y) {
        Set<String> s = new HashSet<>(x);
        s.addAll(y);
        return s;
    }

    // ---------------------------------------------------------------- checkers

    private final class CommonDraft {
        InetAddress connectIp;
        Integer connectPort;
        InetAddress bindTo;
        Integer bindPort;
        String bindIf;
        Integer fwmark;
        Duration connectTimeout;
        Integer retry;
        Duration delayBeforeRetry;
        Duration warmup;
        Duration delayLoop;
        Boolean alpha;
        boolean logAll;
        Integer rise;
        Integer fall;

        /** Handles a shared option; false when {@code c} is not one. */
        boolean accept(ConfigNode c) {
            switch (c.name()) {
                case "connect_ip" -> connectIp = a.ip(c, 0);
                case "connect_port" -> connectPort = a.integer(c, 0, 0, 65535);
                case "bindto" -> bindTo = a.ip(c, 0);
                case "bind_port" -> bindPort = a.integer(c, 0, 0, 65535);
                case "bind_if" -> bindIf = c.args().isEmpty() ? null : c.args().get(0).text();
                case "fwmark" -> fwmark = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "connect_timeout" -> connectTimeout = a.seconds(c, 0, 0.000001, 2_147_483);
                case "retry", "nb_get_retry" -> retry = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "delay_before_retry" -> delayBeforeRetry = a.seconds(c, 0, 0, 2_147_483);
                case "warmup" -> warmup = a.seconds(c, 0, 0, 2_147_483);
                case "delay_loop" -> delayLoop = a.seconds(c, 0, 0.000001, 2_147_483);
                case "alpha" -> alpha = ModelBuilder.or(a.bool(c, 0), true);
                case "log_all_failures" -> logAll = ModelBuilder.or(a.bool(c, 0), true);
                case "rise" -> rise = a.integer(c, 0, 1, 65535);
                case "fall" -> fall = a.integer(c, 0, 1, 65535);
                default -> {
                    return false;
                }
            }
            return true;
        }

        CheckerCommon resolve(String kind, InetAddress rsIp, Integer rsPort, Inherited inh) {
            Duration loop = ModelBuilder.or(delayLoop, ModelBuilder.or(inh.delayLoop(), Duration.ofSeconds(60)));
            int defaultRetry = switch (kind) {
                case "DNS_CHECK" -> 3;
                case "MISC_CHECK" -> 0;
                default -> 1;
            };
            Duration defaultDbr = switch (kind) {
                case "HTTP_GET", "SSL_GET" -> Duration.ofSeconds(3);
                case "DNS_CHECK" -> loop;
                default -> Duration.ofSeconds(1);
            };
            return new CheckerCommon(connectIp != null ? connectIp : rsIp, connectPort != null ? connectPort : rsPort,
                    bindTo, bindPort, bindIf, fwmark,
                    ModelBuilder.or(connectTimeout, ModelBuilder.or(inh.connectTimeout(), Duration.ofSeconds(5))),
                    ModelBuilder.or(retry, ModelBuilder.or(inh.retry(), defaultRetry)),
                    ModelBuilder.or(delayBeforeRetry, ModelBuilder.or(inh.delayBeforeRetry(), defaultDbr)),
                    ModelBuilder.or(warmup, ModelBuilder.or(inh.warmup(), loop)), loop,
                    alpha != null ? alpha : inh.alpha() != null && inh.alpha(), logAll,
                    ModelBuilder.or(rise, 1), ModelBuilder.or(fall, 1));
        }
    }

    private Checker checker(ConfigNode n, InetAddress rsIp, Integer rsPort, Inherited inh) {
        String kind = n.name();
        boolean known = Keywords.CHECKERS.contains(kind);
        if (!known) {
            String near = Suggest.nearest(kind, Keywords.CHECKERS);
            d.warning(n.ref(), "unknown checker \"" + kind + "\", kept as a generic checker"
                    + (near != null ? " (did you mean \"" + near + "\"?)" : ""));
        }
        CommonDraft cd = new CommonDraft();
        Set<String> allowed = Keywords.checker(kind);
        List<UrlCheck> urls = new ArrayList<>();
        String httpProtocol = "1.0";
        String virtualhost = null;
        boolean fastRecovery = false;
        boolean sni = false;
        String sniName = null;
        boolean tls = false;
        String helo = "smtpchecker.keepalived.org";
        List<CheckerCommon> hosts = new ArrayList<>();
        String dnsType = "SOA";
        String dnsName = ".";
        String miscPath = null;
        Duration miscTimeout = null;
        boolean miscDynamic = false;
        String user = null;
        String group = null;
        String payload = null;
        boolean requireReply = false;
        String replyPattern = null;
        int minLen = 0;
        int maxLen = 255;
        String trackFile = null;
        boolean dynamic = false;
        int weight = 0;
        boolean reverse = false;
        String bfdName = null;
        for (ConfigNode c : n.children()) {
            if (!c.name().equals("url") && !c.name().equals("host")) {
                mb.noBlock(c);
            }
            if (cd.accept(c)) {
                continue;
            }
            if (!known) {
                continue;
            }
            if (!allowed.contains(c.name())) {
                mb.unknown(c, kind, allowed);
                continue;
            }
            switch (c.name()) {
                case "url" -> {
                    if (mb.block(c)) {
                        urls.add(url(c));
                    }
                }
                case "http_protocol" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        // keepalived's check_http.c takes exactly 1.0, 1.1, 1.0C and 1.0c; 1.1 sends
                        // Connection: close already, so there is no 1.1C.
                        switch (t.text()) {
                            case "1.0", "1.1" -> httpProtocol = t.text();
                            case "1.0C", "1.0c" -> httpProtocol = "1.0C";
                            default -> d.error(t.ref(), "invalid http_protocol \"" + t.text() + "\" (expected 1.0, 1.0C, 1.0c or 1.1"
                                    + (t.text().equalsIgnoreCase("1.1c") ? "; 1.1 always sends Connection: close)" : ")"));
                        }
                    }
                }
                case "virtualhost" -> virtualhost = c.args().isEmpty() ? null : c.args().get(0).text();
                case "fast_recovery" -> fastRecovery = ModelBuilder.or(a.bool(c, 0), true);
                case "enable_sni" -> sni = ModelBuilder.or(a.bool(c, 0), true);
                case "sni_name" -> sniName = c.args().isEmpty() ? null : c.args().get(0).text();
                case "tls_compliant" -> tls = ModelBuilder.or(a.bool(c, 0), true);
                case "helo_name" -> helo = c.args().isEmpty() ? helo : c.args().get(0).text();
                case "host" -> {
                    if (mb.block(c)) {
                        CommonDraft hd = new CommonDraft();
                        for (ConfigNode h : c.children()) {
                            if (!hd.accept(h)) {
                                mb.unknown(h, "host", Keywords.CHECK_COMMON);
                            }
                        }
                        hosts.add(hd.resolve(kind, rsIp, rsPort, inh));
                    }
                }
                case "type" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        String ty = t.text().toUpperCase(java.util.Locale.ROOT);
                        if (Set.of("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA").contains(ty)) {
                            dnsType = ty;
                        } else {
                            d.error(t.ref(), "invalid DNS type \"" + t.text() + "\"");
                        }
                    }
                }
                case "name" -> {
                    if (kind.equals("BFD_CHECK")) {
                        bfdName = c.args().isEmpty() ? null : c.args().get(0).text();
                    } else {
                        dnsName = c.args().isEmpty() ? dnsName : c.args().get(0).text();
                    }
                }
                case "misc_path" -> miscPath = a.command(c);
                case "misc_timeout" -> miscTimeout = a.seconds(c, 0, 0.000001, 2_147_483);
                case "misc_dynamic" -> miscDynamic = true;
                case "user" -> {
                    if (a.need(c, 0) != null) {
                        String[] ug = ModelBuilder.userGroup(c.args());
                        user = ug[0];
                        group = ug[1];
                    }
                }
                case "payload" -> payload = c.args().isEmpty() ? null : c.args().get(0).text();
                case "require_reply" -> {
                    requireReply = true;
                    replyPattern = c.args().isEmpty() ? null : c.args().get(0).text();
                }
                case "min_reply_length" -> minLen = ModelBuilder.or(a.integer(c, 0, 0, 65535), minLen);
                case "max_reply_length" -> maxLen = ModelBuilder.or(a.integer(c, 0, 0, 65535), maxLen);
                case "track_file" -> trackFile = c.args().isEmpty() ? null : c.args().get(0).text();
                case "dynamic" -> dynamic = true;
                case "weight" -> {
                    weight = ModelBuilder.or(a.integer(c, 0, -254, 254), weight);
                    reverse = c.args().size() > 1 && c.args().get(1).text().equals("reverse");
                }
                default -> {
                    // every allowed keyword is handled above
                }
            }
        }
        CheckerCommon common = cd.resolve(kind, rsIp, rsPort, inh);
        switch (kind) {
            case "HTTP_GET", "SSL_GET" -> {
                if (urls.isEmpty()) {
                    d.error(n.ref(), kind + " has no url");
                    return null;
                }
                return new HttpCheck(common, kind.equals("SSL_GET"), urls, httpProtocol,
                        virtualhost != null ? virtualhost : inh.virtualhost(), fastRecovery, sni, sniName, tls, n);
            }
            case "TCP_CHECK" -> {
                return new TcpCheck(common, n);
            }
            case "SMTP_CHECK" -> {
                return new SmtpCheck(common, helo, hosts, n);
            }
            case "DNS_CHECK" -> {
                return new DnsCheck(common, dnsType, dnsName, n);
            }
            case "MISC_CHECK" -> {
                if (miscPath == null) {
                    d.error(n.ref(), "MISC_CHECK has no misc_path");
                    return null;
                }
                return new MiscCheck(common, miscPath, miscTimeout != null ? miscTimeout : common.delayLoop(),
                        miscDynamic, user, group, n);
            }
            case "UDP_CHECK" -> {
                return new UdpCheck(common, payload, requireReply, replyPattern, minLen, maxLen, n);
            }
            case "PING_CHECK" -> {
                return new PingCheck(common, n);
            }
            case "FILE_CHECK" -> {
                if (trackFile == null) {
                    d.error(n.ref(), "FILE_CHECK has no track_file");
                    return null;
                }
                fileChecks.add(n);
                return new FileCheck(common, trackFile, dynamic, weight, reverse, n);
            }
            case "BFD_CHECK" -> {
                if (bfdName == null) {
                    d.error(n.ref(), "BFD_CHECK has no name");
                    return null;
                }
                return new BfdCheck(common, bfdName, n);
            }
            default -> {
                return new GenericCheck(common, n);
            }
        }
    }

    private UrlCheck url(ConfigNode n) {
        String path = null;
        String digest = null;
        List<UrlCheck.StatusRange> codes = new ArrayList<>();
        String vhost = null;
        String regex = null;
        boolean noMatch = false;
        List<String> options = new ArrayList<>();
        Integer stack = null;
        Integer minOff = null;
        Integer maxOff = null;
        for (ConfigNode c : n.children()) {
            mb.noBlock(c);
            switch (c.name()) {
                case "path" -> path = c.args().isEmpty() ? null : c.args().get(0).text();
                case "digest" -> {
                    Token t = a.need(c, 0);
                    if (t != null) {
                        if (t.text().matches("[0-9A-Fa-f]{32}")) {
                            digest = t.text().toLowerCase(java.util.Locale.ROOT);
                        } else {
                            d.error(t.ref(), "invalid digest \"" + t.text() + "\" (expected 32 hex digits of MD5)");
                        }
                    }
                }
                case "status_code" -> {
                    if (c.args().isEmpty()) {
                        d.error(c.ref(), "missing argument for \"status_code\"");
                    }
                    for (Token t : c.args()) {
                        String[] p = t.text().split("-", 2);
                        Integer from = a.integer("status_code", new Token(p[0], t.ref(), false), 100, 999);
                        Integer to = p.length > 1 ? a.integer("status_code", new Token(p[1], t.ref(), false), 100, 999)
                                : from;
                        if (from != null && to != null) {
                            codes.add(new UrlCheck.StatusRange(from, to));
                        }
                    }
                }
                case "virtualhost" -> vhost = c.args().isEmpty() ? null : c.args().get(0).text();
                case "regex" -> regex = c.args().isEmpty() ? null : c.args().get(0).text();
                case "regex_no_match" -> noMatch = true;
                case "regex_options" -> options.addAll(c.argTexts());
                case "regex_stack" -> stack = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "regex_min_offset" -> minOff = a.integer(c, 0, 0, Integer.MAX_VALUE);
                case "regex_max_offset" -> maxOff = a.integer(c, 0, 0, Integer.MAX_VALUE);
                default -> mb.unknown(c, "url", Keywords.URL);
            }
        }
        if (path == null) {
            d.error(n.ref(), "url has no path");
            path = "/";
        }
        if (codes.isEmpty()) {
            codes.add(new UrlCheck.StatusRange(200, 299));
        }
        return new UrlCheck(path, digest, codes, vhost, regex, noMatch, options, stack, minOff, maxOff, n.ref());
    }
}
