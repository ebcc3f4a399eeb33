package dev.vigil.daemon.policy;

import dev.vigil.api.NotifierEvent;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.daemon.event.EventBus;
import dev.vigil.daemon.event.LvsNotice;
import dev.vigil.dsl.CompiledPolicy;
import dev.vigil.dsl.InstanceView;
import dev.vigil.dsl.PolicyAction;
import dev.vigil.dsl.PolicyEngine;
import dev.vigil.dsl.PolicyOutcome;
import dev.vigil.dsl.PolicyStats;
import dev.vigil.dsl.PolicyWorld;
import dev.vigil.dsl.ServiceView;
import dev.vigil.dsl.TrackerView;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Runs the active policies on one thread of their own ({@code policy-runner}): the daemon's events
 * come in from the {@link EventBus} (queued, never waited for), the {@code every} schedules fire
 * from the engine's next tick, and each run's actions go out through {@link PolicyEffects}, the log,
 * the audit trail and a {@code policy.action} event for the notifiers. A policy's runs are bounded by
 * the engine's limits; a slow or broken policy delays only the other policies, never the VRRP engine,
 * the checks or the forwarder.
 */
public final class PolicyRunner implements EventBus.Subscriber, AutoCloseable {

    /** Events kept for {@code recentEvents()}. */
    static final int RECENT = 200;
    /** Events queued at most; beyond, the oldest is dropped and counted. */
    static final int QUEUE = 10_000;

    /** Writes one audit entry (off this thread). */
    @FunctionalInterface
    public interface Audit {
        void record(String policy, int revision, String kind, String detail);
    }

    private sealed interface Task {
        record Event(NotifierEvent event) implements Task {
        }

        record Install(Map<String, CompiledPolicy> policies) implements Task {
        }
    }

    private final PolicyEngine engine;
    private final PolicyEffects effects;
    private final Function<List<NotifierEvent>, PolicyWorld> world;
    private final EventBus bus;
    private final Audit audit;
    private final EventLog log;
    private final Clock clock;
    private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final ArrayDeque<NotifierEvent> recent = new ArrayDeque<>();
    private final Map<String, Integer> running = new HashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong actions = new AtomicLong();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Map<String, Object> status = Map.of();

    /**
     * @param world builds the state a run reads, given the recent events
     * @param audit where actions and errors are recorded
     */
    public PolicyRunner(PolicyEngine engine, PolicyEffects effects, Function<List<NotifierEvent>, PolicyWorld> world,
                        EventBus bus, Audit audit, EventLog log, Clock clock) {
        this.engine = engine;
        this.effects = effects;
        this.world = world;
        this.bus = bus;
        this.audit = audit;
        this.log = log;
        this.clock = clock;
        thread = Thread.ofPlatform().daemon().name("policy-runner").unstarted(this::loop);
        thread.start();
    }

    @Override
    public void accept(NotifierEvent event, LvsNotice lvs) {
        offer(new Task.Event(event));
    }

    /** Runs exactly {@code policies} (name → compiled revision) from now on; the others are removed. */
    public void install(Map<String, CompiledPolicy> policies) {
        offer(new Task.Install(Map.copyOf(policies)));
    }

    private void offer(Task t) {
        if (closed) {
            return;
        }
        if (queue.size() >= QUEUE && t instanceof Task.Event) {
            queue.poll();
            dropped.incrementAndGet();
        }
        queue.offer(t);
    }

    private void loop() {
        while (!closed) {
            try {
                Instant next = engine.nextTick();
                long waitMs = next == null ? 1000 : Math.max(0, Duration.between(clock.instant(), next).toMillis());
                Task t = queue.poll(Math.min(waitMs, 1000), TimeUnit.MILLISECONDS);
                if (t instanceof Task.Install i) {
                    doInstall(i.policies());
                } else if (t instanceof Task.Event e) {
                    onEvent(e.event());
                }
                Instant due = engine.nextTick();
                if (due != null && !due.isAfter(clock.instant())) {
                    handle(engine.onTick(new FirstRead(clock.instant(), List.copyOf(recent))));
                }
                publishStatus();
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                log.log(Log.Level.ERROR, "policies", "policy runner: " + e);
            }
        }
    }

    private void onEvent(NotifierEvent e) {
        recent.addLast(e);
        while (recent.size() > RECENT) {
            recent.removeFirst();
        }
        if (NotifierEvent.POLICY_ACTION.equals(e.type()) || engine.installed().isEmpty()) {
            return; // policies do not react to their own actions
        }
        handle(engine.onEvent(e, new FirstRead(clock.instant(), List.copyOf(recent))));
    }

    private void doInstall(Map<String, CompiledPolicy> policies) {
        for (String name : new ArrayList<>(running.keySet())) {
            CompiledPolicy next = policies.get(name);
            if (next == null || next.revision() != running.get(name)) {
                engine.remove(name);
                effects.release(name);
                running.remove(name);
            }
        }
        policies.forEach((name, p) -> {
            if (!running.containsKey(name)) {
                engine.install(p);
                running.put(name, p.revision());
            }
        });
    }

    private void handle(List<PolicyOutcome> outcomes) {
        for (PolicyOutcome o : outcomes) {
            String who = "policy " + o.policy() + " r" + o.revision();
            if (o.failed()) {
                log.log(Log.Level.ERROR, "policies", who + " (" + o.trigger() + "): " + o.error());
                audit.record(o.policy(), o.revision(), "error", o.error());
                if (engine.disabled(o.policy())) {
                    effects.release(o.policy());
                    log.log(Log.Level.ERROR, "policies", who + " DISABLED after repeated failures; its offsets and marks are dropped");
                    audit.record(o.policy(), o.revision(), "disabled", "after repeated failures: " + o.error());
                }
                continue;
            }
            PolicyWorld w = null;
            for (PolicyAction a : o.actions()) {
                if (w == null) {
                    w = world.apply(List.copyOf(recent));
                }
                PolicyEffects.Result r = effects.apply(o.policy(), a, w);
                actions.incrementAndGet();
                String line = a.describe() + (r.applied() ? "" : " NOT APPLIED") + " (" + r.detail() + "; on " + o.trigger() + ")";
                if (r.applied()) {
                    log.info("policies", who + ": " + line);
                } else {
                    log.warn("policies", who + ": " + line);
                }
                audit.record(o.policy(), o.revision(), "action", line);
                String[] kindTarget = kindTarget(a);
                bus.policyAction(o.policy(), Integer.toString(o.revision()), kindTarget[0], kindTarget[1],
                        a instanceof PolicyAction.Notify n ? n.message() : o.trigger());
            }
        }
    }

    /**
     * The world of one event or tick, taken when a handler first reads it: an event that no
     * handler takes costs no snapshot (no trip to the forwarder thread). Every handler of the event
     * then reads the same snapshot.
     */
    private final class FirstRead implements PolicyWorld {
        private final Instant now;
        private final List<NotifierEvent> recentEvents;
        private PolicyWorld taken;

        FirstRead(Instant now, List<NotifierEvent> recentEvents) {
            this.now = now;
            this.recentEvents = recentEvents;
        }

        private synchronized PolicyWorld taken() {
            if (taken == null) {
                taken = world.apply(recentEvents);
            }
            return taken;
        }

        @Override
        public Instant now() {
            return now;
        }

        @Override
        public InstanceView instance(String name) {
            return taken().instance(name);
        }

        @Override
        public Collection<InstanceView> instances() {
            return taken().instances();
        }

        @Override
        public ServiceView service(String query) {
            return taken().service(query);
        }

        @Override
        public Collection<ServiceView> services() {
            return taken().services();
        }

        @Override
        public TrackerView tracker(String name) {
            return taken().tracker(name);
        }

        @Override
        public List<NotifierEvent> recentEvents() {
            return recentEvents;
        }
    }

    /** The {@code action} and {@code target} fields of a {@code policy.action} event. */
    static String[] kindTarget(PolicyAction a) {
        return switch (a) {
            case PolicyAction.Priority p -> new String[] {"priority " + p.offset(), p.instance()};
            case PolicyAction.HandOver h -> new String[] {"hand-over", h.instance()};
            case PolicyAction.Weight w -> new String[] {w.weight() == null ? "weight restore" : "weight " + w.weight(),
                    w.realServer() + " of " + w.service()};
            case PolicyAction.Tracker t -> new String[] {t.state() == null ? "tracker clear" : "tracker " + t.state(), t.tracker()};
            case PolicyAction.Notify n -> new String[] {"notify", n.severity()};
            case PolicyAction.Note n -> new String[] {"note", n.text()};
        };
    }

    private void publishStatus() {
        Map<String, Object> s = new LinkedHashMap<>();
        Map<String, Object> per = new LinkedHashMap<>();
        Map<String, PolicyStats> stats = engine.stats();
        running.forEach((name, rev) -> {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("revision", rev);
            PolicyStats st = stats.get(name);
            if (st != null) {
                p.put("runs", st.runs());
                p.put("actions", st.actions());
                p.put("failures", st.failures());
                p.put("timeouts", st.timeouts());
                p.put("loopCaps", st.loopCaps());
                p.put("disabled", st.disabled());
                p.put("lastError", st.lastError());
            }
            per.put(name, p);
        });
        s.put("running", per);
        s.put("actions", actions.get());
        s.put("eventsDropped", dropped.get());
        s.put("offsets", effects.offsets());
        s.put("marks", effects.marksInForce());
        status = s;
    }

    /** For {@code vigil status}: what runs, with the engine's counters, offsets and marks in force. */
    public Map<String, Object> status() {
        return status;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        engine.close();
    }
}
