package dev.vigil.daemon.event;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import dev.vigil.api.NotifierEvent;
import dev.vigil.config.parse.Keywords;
import dev.vigil.daemon.track.ScriptCommand;
import dev.vigil.daemon.track.ScriptProcess;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The built-in {@code script} notifier: {@code vigil_notifier NAME { type script command "/path/x
 * ARGS" }} runs the command once per event, waits for it (at most the block's {@code timeout}, then
 * its process group is killed) and counts a non-zero exit as a failed delivery. The event is in the
 * environment: {@code VIGIL_EVENT} (the type), {@code VIGIL_NODE}, {@code VIGIL_TIME} (ISO-8601) and
 * one {@code VIGIL_<FIELD>} per detail ({@code VIGIL_INSTANCE}, {@code VIGIL_FROM}, ...; upper case,
 * other characters than letters and digits as {@code _}); variables of that prefix the daemon inherited
 * are taken out, so the command sees the event's alone. For {@code vrrp.instance} and
 * {@code vrrp.group} keepalived's four {@code notify} arguments are appended: {@code INSTANCE|GROUP},
 * the name, the new state and the priority (0 for a group).
 *
 * <p>It is part of the daemon rather than a plugin because it runs commands the way the daemon's
 * other scripts run (own process group killed at the timeout, {@code script_user}), with the
 * daemon's process code.
 */
public final class ScriptNotifier implements Notifier {

    /** The type name. */
    public static final String TYPE = "script";

    private volatile String user;
    private volatile String group;

    /** A script notifier whose commands run as the daemon's user until {@link #runAs} says otherwise. */
    public ScriptNotifier() {
    }

    /**
     * @param user  {@code script_user}, or {@code null} for the daemon's user
     * @param group its group, or {@code null}
     */
    public ScriptNotifier(String user, String group) {
        runAs(user, group);
    }

    /** The {@code script_user} (and group) the sinks made from now on run their commands as; {@code null}: the daemon's. */
    public void runAs(String user, String group) {
        this.user = user;
        this.group = group;
    }

    @Override
    public Set<String> types() {
        return Set.of(TYPE);
    }

    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        List<ConfigProblem> out = new ArrayList<>();
        ConfigLine command = null;
        for (ConfigLine l : block.lines()) {
            if (Keywords.NOTIFIER.contains(l.keyword())) {
                continue;
            }
            if (!l.keyword().equals("command")) {
                out.add(ConfigProblem.error(l.location(), "unknown keyword \"" + l.keyword()
                        + "\" in a script notifier (expected: command)"));
                continue;
            }
            command = l;
            if (l.arguments().size() != 1) {
                out.add(ConfigProblem.error(l.locationOf(1), "\"command\" expects one word, the command line in"
                        + " quotes when it has arguments, got " + l.arguments().size()));
                continue;
            }
            try {
                ScriptCommand.parse(l.arguments().getFirst(), null, null);
            } catch (IllegalArgumentException e) {
                out.add(ConfigProblem.error(l.locationOf(0), "command: " + e.getMessage()));
            }
        }
        if (command == null) {
            out.add(ConfigProblem.error(block.location(), "a script notifier needs a \"command\" line"));
        }
        return out;
    }

    @Override
    public Sink create(NotifierContext context) {
        String line = context.config().last("command").orElseThrow().arguments().getFirst();
        ScriptCommand base = ScriptCommand.parse(line, user, group);
        return event -> {
            ScriptCommand cmd = base.withArgs(arguments(event));
            ScriptProcess p = ScriptProcess.start(cmd, environment(event), "VIGIL_");
            ScriptProcess.Outcome outcome = p.await(context.deliveryTimeout());
            if (!outcome.ok()) {
                throw new IllegalStateException(cmd.program() + " " + outcome.describe());
            }
        };
    }

    /** keepalived's {@code notify} arguments for a VRRP event; none for the others. */
    static List<String> arguments(NotifierEvent e) {
        return switch (e.type()) {
            case NotifierEvent.VRRP_INSTANCE -> List.of("INSTANCE", e.detail("instance"), e.detail("to"),
                    e.detail("priority"));
            case NotifierEvent.VRRP_GROUP -> List.of("GROUP", e.detail("group"), e.detail("to"), "0");
            default -> List.of();
        };
    }

    /** {@code VIGIL_EVENT}, {@code VIGIL_NODE}, {@code VIGIL_TIME} and {@code VIGIL_<FIELD>} per detail. */
    static Map<String, String> environment(NotifierEvent e) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("VIGIL_EVENT", e.type());
        env.put("VIGIL_NODE", e.node());
        env.put("VIGIL_TIME", e.time().toString());
        e.details().forEach((k, v) -> env.put("VIGIL_" + k.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"), v));
        return env;
    }
}
