package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;
import groovy.lang.Closure;
import groovy.lang.Script;
import groovy.transform.stc.ClosureParams;
import groovy.transform.stc.SimpleType;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The base class of every compiled policy: its public methods are the policy language's words
 * (the sandbox lets a policy call these and a short list of library methods, nothing else). The
 * {@code policy('NAME') { ... }} block runs once when the policy is compiled or installed and
 * declares handlers; the handlers run later, each in a run that gives them the world and collects
 * their actions.
 */
public abstract class PolicyScript extends Script {

    private static final String EVENT = "dev.vigil.dsl.PolicyEvent";
    private static final Set<String> SEVERITIES = Set.of("info", "warning", "critical");

    private static PolicyRun current() {
        PolicyRun run = PolicyRun.CURRENT.get();
        if (run == null) {
            throw new PolicyRuntimeException("the policy is not running");
        }
        return run;
    }

    private static PolicyDefinition defining(String word) {
        PolicyDefinition d = current().definition;
        if (d == null) {
            throw new PolicyRuntimeException(word + " may only be used in the policy block, not inside a handler");
        }
        return d;
    }

    // ---- declaring ----

    /** {@code policy('NAME') { ... }}: the one top-level statement of a policy file. */
    public void policy(String name, Closure<?> body) {
        PolicyDefinition d = defining("policy");
        if (d.declaredName != null) {
            throw new PolicyRuntimeException("a file holds one policy");
        }
        d.declaredName = name;
        body.call();
    }

    /** {@code description 'text'}: what the policy is for ({@code vigil policy list} shows it). */
    public void description(String text) {
        defining("description").description = text;
    }

    /** {@code on TRIGGER { event -> ... }}: runs the handler on each matching event. */
    public void on(PolicyTrigger trigger) {
        defining("on").triggers.add(trigger);
    }

    /** {@code every 10.seconds { ... }}: runs the handler on a timer. */
    public void every(PolicySchedule schedule) {
        defining("every").schedules.add(schedule);
    }

    /** A real server went down ({@code real_server.down}). */
    public PolicyTrigger realServerDown(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("realServerDown", NotifierEvent.REAL_SERVER_DOWN, null, handler);
    }

    /** A real server came up ({@code real_server.up}). */
    public PolicyTrigger realServerUp(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("realServerUp", NotifierEvent.REAL_SERVER_UP, null, handler);
    }

    /** An instance changed state ({@code vrrp.instance}). */
    public PolicyTrigger instanceChange(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("instanceChange", NotifierEvent.VRRP_INSTANCE, null, handler);
    }

    /** An instance became MASTER. */
    public PolicyTrigger becameMaster(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("becameMaster", NotifierEvent.VRRP_INSTANCE, "MASTER", handler);
    }

    /** An instance became BACKUP. */
    public PolicyTrigger becameBackup(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("becameBackup", NotifierEvent.VRRP_INSTANCE, "BACKUP", handler);
    }

    /** An instance went to FAULT. */
    public PolicyTrigger fault(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("fault", NotifierEvent.VRRP_INSTANCE, "FAULT", handler);
    }

    /** A sync group changed state ({@code vrrp.group}). */
    public PolicyTrigger groupChange(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("groupChange", NotifierEvent.VRRP_GROUP, null, handler);
    }

    /** A virtual server lost its quorum ({@code quorum.down}). */
    public PolicyTrigger quorumLost(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("quorumLost", NotifierEvent.QUORUM_DOWN, null, handler);
    }

    /** A virtual server gained its quorum ({@code quorum.up}). */
    public PolicyTrigger quorumGained(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("quorumGained", NotifierEvent.QUORUM_UP, null, handler);
    }

    /** A tracker changed state ({@code tracker}). */
    public PolicyTrigger trackerChange(@ClosureParams(value = SimpleType.class, options = EVENT) Closure<?> handler) {
        return new PolicyTrigger("trackerChange", NotifierEvent.TRACKER, null, handler);
    }

    // ---- reading ----

    /** The instance of that {@code vrrp_instance} name; an error when there is none. */
    public PolicyInstance instance(String name) {
        PolicyRun run = current();
        InstanceView v = name == null ? null : run.world("instance()").instance(name);
        if (v == null) {
            throw new PolicyRuntimeException("no instance named '" + name + "'");
        }
        return new PolicyInstance(run, v);
    }

    /** The virtual server {@code query} names ({@code 10.9.0.50:80}, {@code fwmark 5}, a group); an error when none does. */
    public PolicyService service(String query) {
        PolicyRun run = current();
        ServiceView v = query == null ? null : run.world("service()").service(query);
        if (v == null) {
            throw new PolicyRuntimeException("no service matches '" + query + "'");
        }
        return new PolicyService(run, v);
    }

    /** The tracker of that name; an error when there is none. */
    public PolicyTracker tracker(String name) {
        PolicyRun run = current();
        TrackerView v = name == null ? null : run.world("tracker()").tracker(name);
        if (v == null) {
            throw new PolicyRuntimeException("no tracker named '" + name + "'");
        }
        return new PolicyTracker(run, v);
    }

    /** The node's recent events, oldest first. */
    public List<PolicyEvent> recentEvents() {
        return recentEvents(null, null);
    }

    /** The recent events of one type ({@code real_server.down}, ...), oldest first. */
    public List<PolicyEvent> recentEvents(String type) {
        return recentEvents(type, null);
    }

    /** The recent events of one type ({@code null}: all) in the last {@code within}, oldest first. */
    public List<PolicyEvent> recentEvents(String type, Duration within) {
        PolicyRun run = current();
        run.world("recentEvents()");
        if (type != null && !NotifierEvent.TYPES.contains(type)) {
            throw new PolicyRuntimeException("recentEvents: unknown event type '" + type + "' (expected one of: "
                    + String.join(", ", new java.util.TreeSet<>(NotifierEvent.TYPES)) + ")");
        }
        Instant since = within == null ? null : run.now().minus(within);
        List<PolicyEvent> out = new ArrayList<>();
        for (NotifierEvent e : run.recent) {
            if ((type == null || type.equals(e.type())) && (since == null || !e.time().isBefore(since))) {
                out.add(new PolicyEvent(e));
            }
        }
        return out;
    }

    /** The time of the run. */
    public Instant getNow() {
        return current().now();
    }

    // ---- acting ----

    /** Sends {@code text} through the notifiers, severity {@code info}. */
    public void notify(String text) {
        notify(text, "info");
    }

    /** Sends {@code text} through the notifiers with a severity: {@code info}, {@code warning} or {@code critical}. */
    public void notify(String text, String severity) {
        String s = severity == null ? "" : severity.toLowerCase(Locale.ROOT);
        if (!SEVERITIES.contains(s)) {
            throw new PolicyRuntimeException("notify: severity '" + severity + "' (expected: info, warning, critical)");
        }
        PolicyRun run = current();
        run.world("notify()");
        run.act(new PolicyAction.Notify(String.valueOf(text), s));
    }

    /** Records {@code text} in the audit trail. */
    public void note(String text) {
        PolicyRun run = current();
        run.world("note()");
        run.act(new PolicyAction.Note(String.valueOf(text)));
    }

    // ---- memory ----

    /**
     * Remembers a number or a text under {@code key} until the policy is installed again; a run
     * that fails remembers nothing. At most 1000 keys and 4096 characters a text.
     */
    public void remember(String key, Object value) {
        PolicyRun run = current();
        run.world("remember()");
        if (key == null) {
            throw new PolicyRuntimeException("remember: the key is null");
        }
        Object v;
        if (value instanceof Number n) {
            v = n instanceof Integer || n instanceof Long || n instanceof Double || n instanceof BigDecimal ? n : new BigDecimal(n.toString());
        } else if (value instanceof CharSequence cs) {
            if (cs.length() > PolicyRun.MEMORY_TEXT) {
                throw new PolicyRuntimeException("remember: a text of " + cs.length() + " characters (expected: <= " + PolicyRun.MEMORY_TEXT + ")");
            }
            v = cs.toString();
        } else if (value == null) {
            run.memory.remove(key);
            return;
        } else {
            throw new PolicyRuntimeException("remember: only numbers and texts can be remembered, not " + value.getClass().getSimpleName());
        }
        if (!run.memory.containsKey(key) && run.memory.size() >= PolicyRun.MEMORY_KEYS) {
            throw new PolicyRuntimeException("remember: " + PolicyRun.MEMORY_KEYS + " keys already remembered");
        }
        run.memory.put(key, v);
    }

    /** What was remembered under {@code key}, or {@code null}. */
    public Object recall(String key) {
        PolicyRun run = current();
        run.world("recall()");
        return run.memory.get(key);
    }

    /**
     * What was remembered under {@code key}, or {@code orElse}; a number comes back as the type of
     * {@code orElse} ({@code int n = recall('flaps', 0)}).
     */
    @SuppressWarnings("unchecked")
    public <T> T recall(String key, T orElse) {
        Object v = recall(key);
        if (v == null) {
            return orElse;
        }
        if (orElse == null || orElse.getClass().isInstance(v)) {
            return (T) v;
        }
        if (v instanceof Number n) {
            if (orElse instanceof Integer) {
                return (T) Integer.valueOf(n.intValue());
            }
            if (orElse instanceof Long) {
                return (T) Long.valueOf(n.longValue());
            }
            if (orElse instanceof Double) {
                return (T) Double.valueOf(n.doubleValue());
            }
            if (orElse instanceof BigDecimal) {
                return (T) new BigDecimal(n.toString());
            }
        }
        if (orElse instanceof String) {
            return (T) v.toString();
        }
        throw new PolicyRuntimeException("recall: '" + key + "' holds " + v + ", not a " + orElse.getClass().getSimpleName());
    }

    /** Forgets {@code key}. */
    public void forget(String key) {
        PolicyRun run = current();
        run.world("forget()");
        run.memory.remove(key);
    }
}
