package dev.vigil.dsl;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of one policy on one thread: the world it reads, the actions it takes, its memory and its
 * budget. The thread running a policy finds it through {@link #CURRENT}; a run the engine gave up
 * on is {@link #expire() expired}, so its thread (if it is still in the policy's code) stops at its
 * next loop iteration or closure call and its late actions go nowhere.
 */
final class PolicyRun {

    static final ThreadLocal<PolicyRun> CURRENT = new ThreadLocal<>();

    /** How many keys a policy's memory may hold. */
    static final int MEMORY_KEYS = 1000;
    /** The longest text a policy may remember. */
    static final int MEMORY_TEXT = 4096;

    final String policy;
    final int revision;
    /** {@code null} while the policy block itself runs (defining handlers). */
    final PolicyWorld world;
    final List<dev.vigil.api.NotifierEvent> recent;
    final Map<String, Object> memory;
    final List<PolicyAction> actions = new ArrayList<>();
    final PolicyDefinition definition;
    private final long loopCap;
    private final long runNanos;
    private long deadline;
    private long iterations;
    private volatile boolean expired;
    /** The first limit broken; the run fails even if the policy caught it. */
    volatile PolicyLimitError limit;

    private PolicyRun(String policy, int revision, PolicyWorld world, Map<String, Object> memory,
                      PolicyDefinition definition, PolicyLimits limits) {
        this.policy = policy;
        this.revision = revision;
        this.world = world;
        this.recent = world == null ? List.of() : world.recentEvents();
        this.memory = memory;
        this.definition = definition;
        this.loopCap = limits.loopIterations();
        this.runNanos = limits.runTime().toNanos();
    }

    /** A handler run against {@code world}, with a copy of the policy's memory. */
    static PolicyRun handler(String policy, int revision, PolicyWorld world, Map<String, Object> memory, PolicyLimits limits) {
        return new PolicyRun(policy, revision, world, new LinkedHashMap<>(memory), null, limits);
    }

    /** The run of the policy block, collecting its handlers into {@code definition}. */
    static PolicyRun definition(String policy, int revision, PolicyDefinition definition, PolicyLimits limits) {
        return new PolicyRun(policy, revision, null, new LinkedHashMap<>(), definition, limits);
    }

    /** Starts the clock; called on the thread that runs the policy. */
    void start() {
        deadline = System.nanoTime() + runNanos;
        CURRENT.set(this);
    }

    void finish() {
        CURRENT.remove();
    }

    void expire() {
        expired = true;
    }

    boolean expired() {
        return expired;
    }

    void tick() {
        if (limit != null) {
            throw limit;
        }
        if (++iterations > loopCap) {
            throw breach(new PolicyLimitError(PolicyLimitError.Kind.LOOPS, "loop cap of " + loopCap + " iterations exceeded"));
        }
        if (expired || System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
            throw breach(PolicyLimitError.time(runNanos / 1_000_000));
        }
    }

    private PolicyLimitError breach(PolicyLimitError e) {
        if (limit == null) {
            limit = e;
        }
        return e;
    }

    /** Appends an action; a run that was given up on acts on nothing. */
    void act(PolicyAction a) {
        if (expired) {
            throw breach(PolicyLimitError.time(runNanos / 1_000_000));
        }
        actions.add(a);
    }

    PolicyWorld world(String word) {
        if (world == null) {
            throw new PolicyRuntimeException(word + " is only available inside a handler (on ... { } or every ... { })");
        }
        return world;
    }

    Instant now() {
        return world("now").now();
    }
}
