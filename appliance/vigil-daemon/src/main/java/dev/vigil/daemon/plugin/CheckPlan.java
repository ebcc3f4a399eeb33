package dev.vigil.daemon.plugin;

import dev.vigil.api.CheckTarget;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.Inherited;
import dev.vigil.config.model.Checker;
import dev.vigil.config.model.CheckerCommon;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.MiscCheck;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.daemon.check.CheckSpec;
import dev.vigil.daemon.check.CheckTiming;
import dev.vigil.daemon.forward.RealServerSelector;
import dev.vigil.daemon.forward.ServiceMapper;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the engine runs for a configuration: one {@link CheckSpec} per checker block whose keyword
 * an installed plugin provides (the others were reported by {@link CheckerValidation}), with what
 * the block inherits from its real server and virtual server ({@link Inherited}), and the
 * selector that sets each real server's state in the forwarder. A real server that appears twice
 * under one name (a duplicate the parser warned about) is checked once, as the forwarder keeps it
 * once.
 *
 * @param specs       the checkers
 * @param selectors   by real-server name, the selector naming exactly that real server
 * @param realServers every real server of the configuration, checked or not
 */
public record CheckPlan(List<CheckSpec> specs, Map<String, RealServerSelector> selectors, Set<String> realServers) {

    public CheckPlan {
        specs = List.copyOf(specs);
        selectors = Map.copyOf(selectors);
        realServers = Set.copyOf(realServers);
    }

    /** The plan for {@code config} with the checkers {@code host} provides. */
    public static CheckPlan of(KeepalivedConfig config, PluginHost host) {
        List<CheckSpec> specs = new ArrayList<>();
        Map<String, RealServerSelector> selectors = new LinkedHashMap<>();
        Set<String> names = new LinkedHashSet<>();
        for (VirtualServer vs : config.virtualServers()) {
            for (RealServer rs : vs.realServers()) {
                String name = ServiceMapper.realServerName(vs, rs);
                if (!names.add(name)) {
                    continue;
                }
                Map<String, Integer> seen = new HashMap<>();
                for (Checker c : rs.checkers()) {
                    var owner = host.checker(c.keyword());
                    if (owner.isEmpty()) {
                        continue;
                    }
                    int n = seen.merge(c.keyword(), 1, Integer::sum);
                    ConfigBlock block = ConfigBlocks.block(c.raw());
                    CheckerCommon common = c.common();
                    Inherited inherited = rs.virtualhost() == null || rs.virtualhost().isEmpty() ? Inherited.NONE
                            : new Inherited(rs.virtualhost());
                    specs.add(new CheckSpec(name + " " + c.keyword() + "#" + n, name, c.keyword(), owner.get().pluginId(),
                            c.ref().toString(), target(name, common), block, timing(c),
                            c.keyword() + "|" + common + "|" + inherited + "|" + ConfigBlocks.text(block), inherited));
                    selectors.putIfAbsent(name, RealServerSelector.of(vs, rs));
                }
            }
        }
        return new CheckPlan(specs, selectors, names);
    }

    /**
     * When the checker probes. A {@code MISC_CHECK} script may run for {@code misc_timeout}
     * (default {@code delay_loop}, keepalived's check_misc.c), not {@code connect_timeout}, which
     * keepalived does not read in that block: its probe's time limit, and so the engine's watchdog,
     * is {@code misc_timeout}.
     */
    static CheckTiming timing(Checker c) {
        CheckTiming t = CheckTiming.of(c.common());
        if (c instanceof MiscCheck m) {
            return new CheckTiming(t.delayLoop(), t.warmup(), t.retry(), t.delayBeforeRetry(), m.timeout(), t.rise(),
                    t.fall(), t.alpha());
        }
        return t;
    }

    /** The checker's target: {@code connect_ip}/{@code connect_port} (resolved to the real server's), binding, interface, mark. */
    static CheckTarget target(String name, CheckerCommon c) {
        InetSocketAddress to = new InetSocketAddress(c.connectIp(), c.connectPort() == null ? 0 : c.connectPort());
        InetSocketAddress bind = null;
        if (c.bindTo() != null || c.bindPort() != null) {
            InetAddress local = c.bindTo() != null ? c.bindTo() : wildcard(c.connectIp());
            bind = new InetSocketAddress(local, c.bindPort() == null ? 0 : c.bindPort());
        }
        return new CheckTarget(name, to, bind, c.bindIf(), c.fwmark());
    }

    private static InetAddress wildcard(InetAddress like) {
        try {
            return InetAddress.getByAddress(new byte[like instanceof Inet6Address ? 16 : 4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
