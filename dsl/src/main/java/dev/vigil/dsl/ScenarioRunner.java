package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;
import groovy.json.JsonException;
import groovy.json.JsonSlurper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code vigil policy test FILE --events scenario.jsonl}: runs a policy against an event sequence,
 * touching nothing. The scenario is JSON lines (blank lines and lines starting with {@code #} are
 * skipped):
 * <ul>
 *   <li>{@code {"state": {"node": "lb1", "time": "2026-11-30T10:00:00Z",
 *       "instances": {"VI_1": {"state": "MASTER", "priority": 100, "group": "G1"}},
 *       "services": {"10.9.0.50:80": {"quorumUp": true, "realServers": {"10.9.0.11:80": {"healthy": true, "weight": 100}}}},
 *       "trackers": {"chk_nginx": {"kind": "script", "state": "UP"}}}}}: sets the simulated world;</li>
 *   <li>{@code {"type": "real_server.down", "time": "2026-11-30T10:00:03Z", "node": "lb1", "details": {...}}}:
 *       an event ({@link NotifierEvent}; without a time, one second after the previous line's); due
 *       timers run first, then the event changes the world, then the policy runs;</li>
 *   <li>{@code {"advance": "10s"}} ({@code ms}, {@code s}, {@code m}, {@code h}): moves the clock,
 *       running the timers that fall due.</li>
 * </ul>
 * The world follows the policy's actions, so later runs see them. Each action prints as
 * {@code TIME TRIGGER POLICY rREV: ACTION}; a failed run as {@code TIME TRIGGER error: POLICY rREV:LINE:COL: ...}.
 */
public final class ScenarioRunner {

    private static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private ScenarioRunner() {
    }

    /** A bad scenario line. */
    private static final class BadLine extends Exception {
        final int column;

        BadLine(String message) {
            this(message, 1);
        }

        BadLine(String message, int column) {
            super(message, null, false, false);
            this.column = column;
        }
    }

    /** The scenario's clock: the engine reads it when the policy is installed. */
    private static final class ScenarioClock extends Clock {
        Instant now;

        ScenarioClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /**
     * Runs the policy in {@code source} against the scenario and prints the actions it would take.
     *
     * @param sourceName   the policy file's name, for messages
     * @param source       the policy's text
     * @param scenarioName the scenario file's name, for messages ({@code file:line:col})
     * @param scenario     the scenario, JSON lines
     * @return the exit status: 0 when it ran, 1 when the policy or the scenario is broken
     */
    public static int run(String sourceName, String source, String scenarioName, Reader scenario, PrintStream out, PrintStream err) {
        String name = PolicyCompiler.declaredName(source);
        if (name == null) {
            String base = sourceName.replaceFirst("^.*/", "").replaceFirst("\\.groovy$", "");
            name = base.isEmpty() ? "policy" : base;
        }
        CompiledPolicy policy;
        try {
            policy = new PolicyCompiler().compile(name, 0, source);
        } catch (PolicyCompileException e) {
            err.println(sourceName + ": " + e.getMessage());
            return 1;
        }
        ScenarioClock clock = new ScenarioClock(DEFAULT_START);
        SimulatedWorld world = new SimulatedWorld(DEFAULT_START);
        String node = "lb1";
        boolean installed = false;
        boolean failed = false;
        Instant last = null;
        JsonSlurper json = new JsonSlurper();
        try (PolicyEngine engine = new PolicyEngine(PolicyLimits.DEFAULT, clock);
             BufferedReader in = new BufferedReader(scenario)) {
            int lineNo = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                String text = line.strip();
                if (text.isEmpty() || text.startsWith("#")) {
                    continue;
                }
                try {
                    Object parsed;
                    try {
                        parsed = json.parseText(text);
                    } catch (JsonException | IllegalArgumentException e) {
                        Matcher at = Pattern.compile("index number (\\d+)").matcher(String.valueOf(e.getMessage()));
                        int column = at.find() ? Integer.parseInt(at.group(1)) + 1 + line.indexOf(text) : 1;
                        throw new BadLine("not JSON: " + firstLine(e.getMessage()), column);
                    }
                    if (!(parsed instanceof Map<?, ?> m)) {
                        throw new BadLine("expected a JSON object");
                    }
                    if (m.containsKey("state")) {
                        node = state(m, world, node);
                        Instant t = m.get("state") instanceof Map<?, ?> s && s.get("time") != null ? time(s.get("time")) : null;
                        if (t != null) {
                            if (installed && t.isBefore(world.now)) {
                                throw new BadLine("time " + t + " is before the scenario's time " + world.now);
                            }
                            failed |= advance(engine, world, clock, policy, installed, t, out);
                            last = t;
                        }
                    } else if (m.containsKey("advance")) {
                        if (!installed) {
                            install(engine, policy, clock, world);
                            installed = true;
                        }
                        Duration d = duration(m.get("advance"));
                        Instant to = world.now.plus(d);
                        failed |= advance(engine, world, clock, policy, true, to, out);
                        last = to;
                    } else if (m.containsKey("type")) {
                        NotifierEvent e = event(m, node, last == null ? world.now : last.plusSeconds(1));
                        if (!installed) {
                            if (m.get("time") != null && last == null) {
                                world.now = e.time();        // the scenario starts at its first event
                            }
                            install(engine, policy, clock, world);
                            installed = true;
                        }
                        if (e.time().isBefore(world.now)) {
                            throw new BadLine("time " + e.time() + " is before the scenario's time " + world.now);
                        }
                        failed |= advance(engine, world, clock, policy, true, e.time(), out);
                        last = e.time();
                        String misfit = world.apply(e);
                        if (misfit != null) {
                            throw new BadLine(misfit);
                        }
                        failed |= print(engine, world, policy, e.time(), engine.onEvent(e, world), out);
                    } else {
                        throw new BadLine("expected a state, an event (\"type\") or an \"advance\" line");
                    }
                } catch (BadLine e) {
                    err.println(scenarioName + ":" + lineNo + ":" + e.column + ": " + e.getMessage());
                    return 1;
                } catch (IllegalArgumentException e) {
                    err.println(scenarioName + ":" + lineNo + ":1: " + e.getMessage());
                    return 1;
                }
            }
        } catch (IOException e) {
            err.println(scenarioName + ": " + e.getMessage());
            return 1;
        }
        return failed ? 1 : 0;
    }

    private static void install(PolicyEngine engine, CompiledPolicy policy, ScenarioClock clock, SimulatedWorld world) {
        clock.now = world.now;
        engine.install(policy);
    }

    /** Moves the clock to {@code to}, running the timers that fall due on the way. */
    private static boolean advance(PolicyEngine engine, SimulatedWorld world, ScenarioClock clock, CompiledPolicy policy,
                                   boolean installed, Instant to, PrintStream out) {
        boolean failed = false;
        if (installed) {
            for (Instant next = engine.nextTick(); next != null && !next.isAfter(to); next = engine.nextTick()) {
                world.now = next;
                clock.now = next;
                failed |= print(engine, world, policy, next, engine.onTick(world), out);
            }
        }
        world.now = to;
        clock.now = to;
        return failed;
    }

    private static boolean print(PolicyEngine engine, SimulatedWorld world, CompiledPolicy policy, Instant time,
                                 List<PolicyOutcome> outcomes, PrintStream out) {
        boolean failed = false;
        for (PolicyOutcome o : outcomes) {
            if (o.failed()) {
                failed = true;
                out.println(time + " " + o.trigger() + " error: " + o.error());
                if (engine.disabled(o.policy())) {
                    out.println(time + " " + o.policy() + " r" + o.revision() + " disabled after "
                            + PolicyLimits.DEFAULT.failuresToDisable() + " consecutive failed runs");
                }
                continue;
            }
            for (PolicyAction a : o.actions()) {
                world.apply(o.policy(), a);
                out.println(time + " " + o.trigger() + " " + o.policy() + " r" + o.revision() + ": " + a.describe());
            }
        }
        return failed;
    }

    private static NotifierEvent event(Map<?, ?> m, String node, Instant fallback) throws BadLine {
        String type = text(m.get("type"), "type");
        if (!NotifierEvent.TYPES.contains(type)) {
            throw new BadLine("unknown event type '" + type + "' (expected one of: " + String.join(", ", new TreeSet<>(NotifierEvent.TYPES)) + ")");
        }
        Instant t = m.get("time") == null ? fallback : time(m.get("time"));
        Map<String, String> details = new LinkedHashMap<>();
        Object d = m.get("details");
        if (d != null) {
            if (!(d instanceof Map<?, ?> dm)) {
                throw new BadLine("\"details\" must be an object");
            }
            for (Map.Entry<?, ?> e : dm.entrySet()) {
                if (e.getValue() instanceof Map || e.getValue() instanceof List) {
                    throw new BadLine("detail \"" + e.getKey() + "\" must be a text or a number");
                }
                if (e.getValue() != null) {
                    details.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
                }
            }
        }
        for (Object k : m.keySet()) {
            if (!List.of("type", "time", "node", "details").contains(String.valueOf(k))) {
                throw new BadLine("unknown field \"" + k + "\" (expected: type, time, node, details)");
            }
        }
        String n = m.get("node") == null ? node : text(m.get("node"), "node");
        return new NotifierEvent(type, n, t, details);
    }

    private static String state(Map<?, ?> m, SimulatedWorld world, String node) throws BadLine {
        if (!(m.get("state") instanceof Map<?, ?> s)) {
            throw new BadLine("\"state\" must be an object");
        }
        if (s.get("instances") != null) {
            world.instances.clear();
            world.offsets.clear();
            for (Map.Entry<?, ?> e : object(s.get("instances"), "instances").entrySet()) {
                String name = String.valueOf(e.getKey());
                Map<?, ?> i = object(e.getValue(), "instance " + name);
                String st = i.get("state") == null ? "BACKUP" : text(i.get("state"), "state").toUpperCase(Locale.ROOT);
                if (!List.of("INIT", "BACKUP", "MASTER", "FAULT").contains(st)) {
                    throw new BadLine("instance " + name + ": state '" + st + "' (expected: INIT, BACKUP, MASTER, FAULT)");
                }
                int prio = number(orElse(i.get("priority"), 100), "instance " + name + " priority", 1, 255);
                String group = i.get("group") == null ? null : String.valueOf(i.get("group"));
                world.instances.put(name, new InstanceView(name, st, prio, prio, group));
            }
        }
        if (s.get("services") != null) {
            world.services.clear();
            for (Map.Entry<?, ?> e : object(s.get("services"), "services").entrySet()) {
                world.services.add(service(String.valueOf(e.getKey()), object(e.getValue(), "service " + e.getKey())));
            }
        }
        if (s.get("trackers") != null) {
            world.trackers.clear();
            world.trackerOwn.clear();
            world.trackerMark.clear();
            for (Map.Entry<?, ?> e : object(s.get("trackers"), "trackers").entrySet()) {
                String name = String.valueOf(e.getKey());
                Map<?, ?> t = object(e.getValue(), "tracker " + name);
                String st = t.get("state") == null ? "UP" : text(t.get("state"), "state").toUpperCase(Locale.ROOT);
                String kind = t.get("kind") == null ? "script" : text(t.get("kind"), "kind");
                world.trackers.put(name, new TrackerView(name, kind, st));
                world.trackerOwn.put(name, st);
            }
        }
        return s.get("node") == null ? node : text(s.get("node"), "node");
    }

    private static final Pattern SERVICE = Pattern.compile("(?:\\[([0-9a-fA-F:.]+)]|([0-9.]+)):(\\d+)(?:/(tcp|udp|sctp))?");
    private static final Pattern FWMARK = Pattern.compile("fwmark (\\d+)(?:/(tcp|udp|sctp))?");
    private static final Pattern GROUP = Pattern.compile("group (\\S+?)(?:/(tcp|udp|sctp))?");
    private static final Pattern REAL = Pattern.compile("(?:\\[([0-9a-fA-F:.]+)]|([0-9.]+))(?::(\\d+))?");

    private static ServiceView service(String key, Map<?, ?> m) throws BadLine {
        List<RealServerView> rs = new ArrayList<>();
        if (m.get("realServers") != null) {
            for (Map.Entry<?, ?> e : object(m.get("realServers"), "realServers").entrySet()) {
                String k = String.valueOf(e.getKey());
                Matcher r = REAL.matcher(k);
                if (!r.matches()) {
                    throw new BadLine("real server '" + k + "' (expected: ADDRESS:PORT, e.g. 10.9.0.11:80)");
                }
                Map<?, ?> v = object(e.getValue(), "real server " + k);
                int weight = number(orElse(v.get("weight"), 1), "weight", 0, 65535);
                int configured = number(orElse(v.get("configuredWeight"), weight), "configuredWeight", 0, 65535);
                boolean healthy = !Boolean.FALSE.equals(v.get("healthy"));
                rs.add(new RealServerView(r.group(1) != null ? r.group(1) : r.group(2), r.group(3) == null ? 0 : Integer.parseInt(r.group(3)),
                        healthy, weight, configured));
            }
        }
        boolean quorum = !Boolean.FALSE.equals(m.get("quorumUp"));
        Matcher s = SERVICE.matcher(key);
        if (s.matches()) {
            return new ServiceView(s.group(1) != null ? s.group(1) : s.group(2), Integer.parseInt(s.group(3)),
                    s.group(4) == null ? "tcp" : s.group(4), 0, null, rs, quorum);
        }
        Matcher f = FWMARK.matcher(key);
        if (f.matches()) {
            return new ServiceView(null, 0, f.group(2) == null ? "tcp" : f.group(2), Integer.parseInt(f.group(1)), null, rs, quorum);
        }
        Matcher g = GROUP.matcher(key);
        if (g.matches()) {
            return new ServiceView(null, 0, g.group(2) == null ? "tcp" : g.group(2), 0, g.group(1), rs, quorum);
        }
        throw new BadLine("service '" + key + "' (expected: ADDRESS:PORT[/PROTO], fwmark N or group NAME)");
    }

    private static Map<?, ?> object(Object o, String what) throws BadLine {
        if (!(o instanceof Map<?, ?> m)) {
            throw new BadLine(what + " must be an object");
        }
        return m;
    }

    private static String text(Object o, String what) throws BadLine {
        if (!(o instanceof String s)) {
            throw new BadLine("\"" + what + "\" must be a text");
        }
        return s;
    }

    private static int number(Object o, String what, int min, int max) throws BadLine {
        if (!(o instanceof Integer i) || i < min || i > max) {
            throw new BadLine(what + ": " + o + " (expected: " + min + ".." + max + ")");
        }
        return i;
    }

    private static Object orElse(Object o, Object fallback) {
        return o == null ? fallback : o;
    }

    private static Instant time(Object o) throws BadLine {
        try {
            return Instant.parse(text(o, "time"));
        } catch (DateTimeParseException e) {
            throw new BadLine("time '" + o + "' (expected: an ISO-8601 UTC time such as 2026-11-30T10:00:00Z)");
        }
    }

    private static Duration duration(Object o) throws BadLine {
        Matcher m = o instanceof String s ? DURATION.matcher(s) : null;
        if (m == null || !m.matches()) {
            throw new BadLine("advance '" + o + "' (expected: a duration such as 500ms, 10s, 5m, 1h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl > 0 ? s.substring(0, nl) : s).strip();
    }
}
