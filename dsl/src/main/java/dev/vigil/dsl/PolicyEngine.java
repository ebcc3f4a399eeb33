package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;
import groovy.lang.Closure;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs installed policies: events and a read-only world in, actions out. It touches nothing: the
 * caller applies the actions. Each handler run happens on a worker thread, within
 * {@link PolicyLimits}: the policy's own code checks the deadline and the loop cap at every loop
 * iteration and closure call ({@link PolicyGuard}); the engine waits for the worker no longer than
 * the time limit plus a grace, and a worker that does not come back is abandoned (interrupted, its
 * run expired so it acts on nothing) and replaced. A run that fails yields an outcome with the
 * located error and no actions; {@link PolicyLimits#failuresToDisable()} consecutive failures
 * disable the policy until it is installed again. Other policies go on.
 *
 * <p>Not thread-safe: the daemon calls it from one thread.
 */
public final class PolicyEngine implements AutoCloseable {

    private static final AtomicInteger WORKERS = new AtomicInteger();

    private final PolicyLimits limits;
    private final Clock clock;
    private final Map<String, Installed> policies = new LinkedHashMap<>();
    private ExecutorService worker;
    private volatile Thread workerThread;

    public PolicyEngine(PolicyLimits limits, Clock clock) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** How long past the time limit the engine waits for a worker before abandoning it. */
    static long grace(PolicyLimits limits) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(250), limits.runTime().toNanos());
    }

    /**
     * Installs {@code p}, replacing the policy of that name (its memory, statistics and disabled state
     * start afresh); its timers start now.
     *
     * @throws IllegalArgumentException when its policy block fails here (it ran when it was compiled)
     */
    public void install(CompiledPolicy p) {
        PolicyDefinition d;
        try {
            d = p.define(limits);
        } catch (PolicyCompileException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        policies.put(p.name(), new Installed(p, d, clock.instant()));      // a replaced policy keeps its place
    }

    public void remove(String name) {
        policies.remove(name);
    }

    public Set<String> installed() {
        return Set.copyOf(policies.keySet());
    }

    public boolean disabled(String name) {
        Installed i = policies.get(name);
        return i != null && i.disabled;
    }

    /** Runs every enabled policy's handlers that match {@code e}, in install order, then declaration order. */
    public List<PolicyOutcome> onEvent(NotifierEvent e, PolicyWorld world) {
        Objects.requireNonNull(e, "e");
        Objects.requireNonNull(world, "world");
        List<PolicyOutcome> out = new ArrayList<>();
        PolicyEvent event = new PolicyEvent(e);
        for (Installed p : List.copyOf(policies.values())) {
            for (PolicyTrigger t : p.definition.triggers) {
                if (p.disabled) {
                    break;
                }
                if (t.matches(e)) {
                    out.add(run(p, e.type(), t.body, event, world));
                }
            }
        }
        return out;
    }

    /** Runs the {@code every} handlers due at {@code world.now()}; a timer that fell behind runs once. */
    public List<PolicyOutcome> onTick(PolicyWorld world) {
        Instant now = world.now();
        List<PolicyOutcome> out = new ArrayList<>();
        for (Installed p : List.copyOf(policies.values())) {
            List<PolicySchedule> schedules = p.definition.schedules;
            for (int i = 0; i < schedules.size() && !p.disabled; i++) {
                if (p.due[i].isAfter(now)) {
                    continue;
                }
                PolicySchedule s = schedules.get(i);
                Instant next = p.due[i].plus(s.period);
                p.due[i] = next.isAfter(now) ? next : now.plus(s.period);
                out.add(run(p, s.label(), s.body, null, world));
            }
        }
        return out;
    }

    /** When the next {@code every} handler is due, or {@code null} when none is. */
    public Instant nextTick() {
        Instant min = null;
        for (Installed p : policies.values()) {
            if (p.disabled) {
                continue;
            }
            for (Instant d : p.due) {
                if (min == null || d.isBefore(min)) {
                    min = d;
                }
            }
        }
        return min;
    }

    public Map<String, PolicyStats> stats() {
        Map<String, PolicyStats> out = new LinkedHashMap<>();
        policies.forEach((n, p) -> out.put(n, new PolicyStats(p.runs, p.actions, p.failures, p.timeouts, p.loopCaps, p.disabled, p.lastError)));
        return out;
    }

    @Override
    public void close() {
        if (worker != null) {
            worker.shutdownNow();
            worker = null;
        }
    }

    private PolicyOutcome run(Installed p, String trigger, Closure<?> body, PolicyEvent event, PolicyWorld world) {
        CompiledPolicy policy = p.policy;
        PolicyRun run = PolicyRun.handler(policy.name(), policy.revision(), world, p.memory, limits);
        Future<?> f = worker().submit(() -> {
            run.start();
            try {
                if (event != null && body.getMaximumNumberOfParameters() > 0) {
                    body.call(event);
                } else {
                    body.call();
                }
            } finally {
                run.finish();
            }
            return null;
        });
        Throwable failure = null;
        try {
            f.get(limits.runTime().toNanos() + grace(limits), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            run.expire();
            Thread stuck = workerThread;
            StackTraceElement[] where = stuck == null ? new StackTraceElement[0] : stuck.getStackTrace();
            abandonWorker();
            failure = run.limit != null ? run.limit : PolicyLimitError.timeExceeded(limits, where);
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.expire();
            abandonWorker();
            failure = new PolicyRuntimeException("interrupted");
        }
        if (failure == null && run.limit != null) {
            failure = run.limit;       // the policy caught it; the run still failed
        }
        p.runs++;
        if (failure == null) {
            p.consecutiveFailures = 0;
            p.actions += run.actions.size();
            p.memory.clear();
            p.memory.putAll(run.memory);
            return new PolicyOutcome(policy.name(), policy.revision(), trigger, run.actions, null);
        }
        if (run.limit != null && !(failure instanceof PolicyLimitError)) {
            failure = run.limit;
        }
        if (failure instanceof PolicyLimitError l) {
            if (l.kind() == PolicyLimitError.Kind.TIME) {
                p.timeouts++;
            } else {
                p.loopCaps++;
            }
        }
        String error = policy.locatedError(failure);
        p.failures++;
        p.lastError = error;
        if (++p.consecutiveFailures >= limits.failuresToDisable()) {
            p.disabled = true;
        }
        return new PolicyOutcome(policy.name(), policy.revision(), trigger, List.of(), error);
    }

    private ExecutorService worker() {
        if (worker == null) {
            worker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "vigil-policy-" + WORKERS.incrementAndGet());
                t.setDaemon(true);
                workerThread = t;
                return t;
            });
        }
        return worker;
    }

    private void abandonWorker() {
        if (worker != null) {
            worker.shutdownNow();
            worker = null;
            workerThread = null;
        }
    }

    /** A policy as installed: its handlers, memory, timers and statistics. */
    private static final class Installed {
        final CompiledPolicy policy;
        final PolicyDefinition definition;
        final Map<String, Object> memory = new LinkedHashMap<>();
        final Instant[] due;
        long runs;
        long actions;
        long failures;
        long timeouts;
        long loopCaps;
        int consecutiveFailures;
        boolean disabled;
        String lastError;

        Installed(CompiledPolicy policy, PolicyDefinition definition, Instant now) {
            this.policy = policy;
            this.definition = definition;
            this.due = new Instant[definition.schedules.size()];
            for (int i = 0; i < due.length; i++) {
                due[i] = now.plus(definition.schedules.get(i).period);
            }
        }
    }
}
