package dev.vigil.daemon.plugin;

import dev.vigil.daemon.check.ProbeFailure;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The calls into one plugin: every call ({@code keywords()}, {@code validate()}, {@code create()},
 * {@code run()}, {@code close()}) runs on a platform thread of the plugin's own pool, with the
 * plugin's class loader as context loader, so that a plugin that blocks, never returns or runs
 * away holds threads of its own pool only: never the engine's, the event loops', the forwarder's
 * or VRRP's. The pool keeps {@value #CORE_THREADS} threads and grows to {@value #MAX_THREADS}
 * (idle ones end after a minute); a call that finds them all busy fails at once ("all 32 call
 * threads of plugin X are busy"). When none of the busy calls has run for {@link #SLOW_CALL_NANOS} (a second) the
 * plugin is not hanging: the host runs its calls slowly (a cold start, a starved CPU), and the
 * failure says so ({@link Failure#hostBusy()}). A thread cannot be killed: a call that never returns is
 * abandoned with its thread, and the engine disables a plugin that keeps doing so long before
 * the pool is used up.
 *
 * <p><b>Memory.</b> Platform threads, unlike virtual ones, have their allocation counted by the
 * JVM ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}): each call reads its
 * thread's count when it starts and ends (a cheap read of the current thread's counter), and
 * {@link PluginMemory}'s sentry reads the calls still running. A call that allocates more than the
 * budget ({@code vigil_plugin_call_memory}) fails ("run() allocated 412 MiB in one call (limit 64
 * MiB)"), its thread is interrupted and abandoned, and the plugin is reported to
 * {@link PluginMemory} to be disabled at once: unlike a slow call, memory abuse threatens the
 * whole process. An {@link OutOfMemoryError} thrown by a call is caught and treated the same way.
 * What a plugin allocates on other threads (its work on the event loops, the threads it starts) is
 * not counted here; the heap guard of {@link PluginMemory} judges by what each plugin's calls
 * allocated. A Java runtime without the {@code jdk.management} module counts nothing: there the
 * calls have no budget ({@link PluginMemory#limitsOff()}).
 *
 * <p><b>Queued calls.</b> The probes' {@code run()} calls come by the thousand a second, many due
 * at the same moment: handing each one to a thread of its own costs a wake-up of a sleeping thread
 * per call, and a burst of them would take every thread of the pool. {@link #enqueue} puts the call
 * on the plugin's queue instead, and one thread of the pool drains it, calls one after the other;
 * a burst costs one hand-off. Each queued call is still a call of its own: its thread, start and
 * allocation are noted around it as for any other ({@code getCurrentThreadAllocatedBytes} before
 * and after), the sentry sees it in flight, and its failures are its own. A call that stops the
 * draining thread (it blocks, or never returns) does not stop the queue: the next call queued
 * while the draining threads have made no progress for {@link #DRAIN_STALL_NANOS} starts one more
 * thread, up to the pool's limit.
 */
public final class PluginCalls implements AutoCloseable {

    /** The threads a plugin's pool keeps when idle. */
    static final int CORE_THREADS = 2;
    /** The most threads a plugin's calls may hold at once. */
    public static final int MAX_THREADS = 32;
    /** A call running this long (a second) is the plugin's doing: every plugin method is meant to return at once. */
    public static final long SLOW_CALL_NANOS = 1_000_000_000L;
    /**
     * How long the draining threads of {@link #enqueue} may go without starting or ending a call
     * (20 ms) before a call queued behind them gets a thread of its own: a queued call waits at most
     * about this long behind one that blocks.
     */
    static final long DRAIN_STALL_NANOS = 20_000_000L;

    /** A plugin call that threw, did not return in time, found no thread or abused memory; the message says which and why. */
    public static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean memory;
        private final boolean noVerdict;
        private final boolean hostBusy;

        Failure(String message) {
            this(message, false, false);
        }

        Failure(String message, boolean memory, boolean noVerdict) {
            this(message, memory, noVerdict, false);
        }

        Failure(String message, boolean memory, boolean noVerdict, boolean hostBusy) {
            super(message, null, false, false);
            this.memory = memory;
            this.noVerdict = noVerdict;
            this.hostBusy = hostBusy;
        }

        /**
         * Whether the call found every thread busy with calls none of which had run for
         * {@link #SLOW_CALL_NANOS}: the host, not the plugin, is behind.
         */
        public boolean hostBusy() {
            return hostBusy;
        }

        /** Whether the call broke the memory budget or ran out of memory: the plugin is disabled at once. */
        public boolean memory() {
            return memory;
        }

        /**
         * Whether the call failed for another plugin's fault: it ran out of memory while another
         * plugin was exhausting the heap, having allocated little itself. It says nothing of the
         * plugin nor of its target.
         */
        public boolean noVerdict() {
            return noVerdict;
        }
    }

    /** Reported when not even the message of a failure can be allocated. */
    private static final Failure EXHAUSTED = new Failure("the call ran out of memory, and so did its report", false, true);

    /** One call in flight, as the sentry sees it; also the task the pool runs for it. */
    static final class Call implements Runnable {
        final Supplier<String> what;
        final Consumer<Failure> failed;
        private final PluginCalls owner;
        final Runnable body;
        volatile Thread thread;
        volatile long startBytes = -1;
        /** {@link System#nanoTime} when the body started. */
        volatile long startedAt;
        private static final VarHandle FINISHED;

        static {
            try {
                FINISHED = MethodHandles.lookup().findVarHandle(Call.class, "finished", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Set once, by {@link #finish}; a field rather than an {@code AtomicBoolean}: one object less per call. */
        @SuppressWarnings("unused")
        private volatile boolean finished;
        /** Abandoned by the sentry while its body still runs: a runaway. */
        volatile boolean runaway;
        /** The body returned or threw. With {@link #runaway}, tells who removes the runaway's entry. */
        volatile boolean bodyDone;

        Call(PluginCalls owner, Supplier<String> what, Runnable body, Consumer<Failure> failed) {
            this.owner = owner;
            this.what = what;
            this.body = body;
            this.failed = failed;
        }

        @Override
        public void run() {
            owner.run(this, body);
        }

        /** True for the first caller only: the end of the call, or its abandonment by the sentry. */
        boolean finish() {
            return FINISHED.compareAndSet(this, false, true);
        }
    }

    private final String pluginId;
    // Dropped at close, so that an unloaded plugin's class loader is not kept from collection here.
    private volatile ClassLoader loader;
    private final PluginMemory memory;
    private final ThreadPoolExecutor pool;
    private final Set<Call> inFlight = ConcurrentHashMap.newKeySet();
    private final LongAdder calls = new LongAdder();
    private final LongAdder allocated = new LongAdder();
    private final AtomicLong memoryViolations = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    /** The calls {@link #enqueue} queued that no thread has taken yet. */
    private final ConcurrentLinkedQueue<Call> queued = new ConcurrentLinkedQueue<>();
    /** The threads draining {@link #queued}: counted up before one is asked for, down when it leaves. */
    private final AtomicInteger drainers = new AtomicInteger();
    /** When a draining thread last started or ended a call ({@link System#nanoTime}). */
    private volatile long drainProgress;
    private final LongAdder drains = new LongAdder();
    private final Runnable drain = this::drain;

    PluginCalls(String pluginId, ClassLoader loader, PluginMemory memory) {
        this.pluginId = pluginId;
        this.loader = loader;
        this.memory = memory;
        ThreadFactory platform = Thread.ofPlatform().daemon().name("plugin " + pluginId + " #", 1).factory();
        ThreadFactory factory = r -> {
            Thread t = platform.newThread(r);
            t.setContextClassLoader(this.loader);
            return t;
        };
        // A hand-off queue: a call gets an idle thread or a new one, never waits behind a hung call.
        this.pool = new ThreadPoolExecutor(CORE_THREADS, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                factory, new ThreadPoolExecutor.AbortPolicy());
        memory.register(this);
    }

    /** The plugin's id. */
    public String pluginId() {
        return pluginId;
    }

    /** The plugin's class loader, the context loader of every call into it. */
    public ClassLoader loader() {
        return loader;
    }

    /**
     * Calls {@code call} and waits up to {@code limit} for its value.
     *
     * @param what  the call for messages, e.g. {@code check-tcp keywords()}
     * @throws Failure when it threw ({@code threw IllegalStateException: boom}), did not return in
     *                 time, found no free thread or broke the memory budget
     */
    public <T> T call(String what, Duration limit, Callable<T> call) throws Failure {
        CompletableFuture<T> f = new CompletableFuture<>();
        start(() -> what, () -> {
            T value;
            try {
                value = call.call();
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (Throwable e) {
                f.completeExceptionally(new Failure(what + " threw " + describe(e)));
                return;
            }
            f.complete(value);
        }, f::completeExceptionally);
        try {
            return f.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new Failure(what + " did not return within " + limit.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Failure failure) {
                throw failure;
            }
            throw new Failure(what + " threw " + describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(what + " interrupted");
        }
    }

    /**
     * Runs {@code body} on a thread of the plugin's pool and returns at once. {@code failed} hears,
     * at most once, what went wrong outside the body's own handling: no thread was free (on the
     * caller's thread), the body threw (an {@link OutOfMemoryError} included), or the call broke
     * the memory budget (then possibly while the body still runs, from the sentry).
     *
     * @param what   the call for messages, asked when one is needed ({@code run()})
     */
    public void start(Supplier<String> what, Runnable body, Consumer<Failure> failed) {
        Call c = new Call(this, what, body, failed);
        try {
            pool.execute(c);
        } catch (RejectedExecutionException e) {
            busy.incrementAndGet();
            c.failed.accept(rejected());
        }
    }

    /**
     * As {@link #start(Supplier, Runnable)}, but the call waits on the plugin's queue for a thread
     * that drains it (see the class comment): the probes' {@code run()} calls, due by the thousand
     * a second, cost a hand-off per burst instead of one per call. Returns at once.
     */
    public <B extends Runnable & Consumer<Failure>> void enqueue(Supplier<String> what, B body) {
        queued.add(new Call(this, what, body, body));
        int n = drainers.get();
        // The count is read after the call is queued, and a leaving drainer looks at the queue after
        // counting itself out: either it sees this call, or this sees it gone (0) and asks for one.
        if (n == 0 || (n < MAX_THREADS && System.nanoTime() - drainProgress > DRAIN_STALL_NANOS)) {
            if (drainers.compareAndSet(n, n + 1)) {
                askDrainer();
            }
        }
    }

    private void askDrainer() {
        drainProgress = System.nanoTime();
        try {
            pool.execute(drain);
        } catch (RejectedExecutionException e) {
            busy.incrementAndGet();
            if (drainers.decrementAndGet() == 0) {
                // No thread drains the queue, and none could be had: every call waiting fails now.
                Failure f = rejected();
                for (Call c; (c = queued.poll()) != null; ) {
                    report(c, f);
                }
            }
        }
    }

    /** A thread of the pool takes queued calls until none is left, each one a call of its own. */
    private void drain() {
        drains.increment();
        while (true) {
            Call c = queued.poll();
            if (c == null) {
                drainers.decrementAndGet();
                // A call queued while this one was leaving saw it counted and asked for no thread.
                if (queued.isEmpty()) {
                    return;
                }
                drainers.incrementAndGet();
                continue;
            }
            if (pool.isShutdown()) {
                report(c, new Failure("plugin " + pluginId + " is unloaded"));
                continue;
            }
            drainProgress = System.nanoTime();
            run(c, c.body);
            drainProgress = System.nanoTime();
        }
    }

    /** Why a call found no thread: the plugin is unloaded, the host is behind, or its calls hang. */
    private Failure rejected() {
        if (pool.isShutdown()) {
            return new Failure("plugin " + pluginId + " is unloaded");
        }
        if (oldestCallNanos() < SLOW_CALL_NANOS) {
            return new Failure("all " + MAX_THREADS + " call threads of plugin " + pluginId
                    + " are busy with calls that have run less than " + SLOW_CALL_NANOS / 1_000_000_000L
                    + " s: the host is behind", false, false, true);
        }
        return new Failure("all " + MAX_THREADS + " call threads of plugin " + pluginId + " are busy");
    }

    /** How long the oldest call in flight has run; 0 without one. */
    private long oldestCallNanos() {
        long now = System.nanoTime();
        long oldest = 0;
        for (Call c : inFlight) {
            long at = c.startedAt;
            if (at != 0) {
                oldest = Math.max(oldest, now - at);
            }
        }
        return oldest;
    }

    /** {@link #start(Supplier, Runnable, Consumer)} with a body that hears its own failures: one object per call. */
    public <B extends Runnable & Consumer<Failure>> void start(Supplier<String> what, B body) {
        start(what, body, body);
    }

    private void run(Call c, Runnable body) {
        Thread self = Thread.currentThread();
        self.setContextClassLoader(loader);
        calls.increment();
        c.thread = self;
        c.startedAt = System.nanoTime();
        c.startBytes = memory.currentThreadAllocatedBytes();
        inFlight.add(c);
        try {
            body.run();
        } catch (OutOfMemoryError e) {
            try {
                outOfMemory(c, e);
            } catch (Throwable again) {
                report(c, EXHAUSTED);
            }
        } catch (Throwable e) {
            try {
                c.failed.accept(new Failure(c.what.get() + " threw " + describe(e)));
            } catch (Throwable again) {
                report(c, EXHAUSTED);
            }
        } finally {
            c.bodyDone = true;
            try {
                ended(c);
            } catch (Throwable e) {
                // Accounting is best effort when the heap is exhausted; the thread must go back to the pool.
            }
            // A call the sentry interrupted must not leave the flag to the next call on this thread.
            Thread.interrupted();
        }
    }

    private void ended(Call c) {
        if (c.runaway) {
            memory.runawayEnded(c);
            return;
        }
        if (!c.finish()) {
            return;
        }
        inFlight.remove(c);
        long used = memory.currentThreadAllocatedBytes() - c.startBytes;
        if (c.startBytes >= 0 && used >= 0) {
            allocated.add(used);
            if (used > memory.budget()) {
                violation(c, overBudget(c, used));
            }
        }
    }

    /**
     * An {@link OutOfMemoryError} out of a call: the plugin's fault, and it is disabled, unless
     * another plugin is exhausting the heap ({@link PluginMemory#exhaustedBy}) and this call
     * allocated less than its budget; then the call has no verdict.
     */
    private void outOfMemory(Call c, OutOfMemoryError e) {
        if (c.runaway || !c.finish()) {
            return;
        }
        inFlight.remove(c);
        long used = memory.currentThreadAllocatedBytes() - c.startBytes;
        if (c.startBytes >= 0 && used >= 0) {
            allocated.add(used);
        }
        String what = c.what.get() + " threw OutOfMemoryError" + (e.getMessage() != null ? ": " + e.getMessage() : "");
        String culprit = memory.exhaustedBy(pluginId);
        if (culprit != null && used < memory.budget()) {
            report(c, new Failure(what + " while plugin " + culprit + " was exhausting the heap: no verdict", false, true));
            return;
        }
        violation(c, what);
    }

    private static void report(Call c, Failure f) {
        try {
            c.failed.accept(f);
        } catch (Throwable ignored) {
            // the owner could not take it either; its own watchdog will
        }
    }

    /** The sentry's look at one call in flight: fails and abandons it when over the budget. */
    void inspect(Call c, long threadBytes, long budget) {
        long used = threadBytes - c.startBytes;
        if (c.startBytes < 0 || used <= budget || !c.finish()) {
            return;
        }
        inFlight.remove(c);
        allocated.add(used);
        abandoned.incrementAndGet();
        c.runaway = true;
        memory.runaway(c, pluginId);
        if (c.bodyDone) {
            // It ended meanwhile, and may not have seen the flag.
            memory.runawayEnded(c);
        }
        Thread t = c.thread;
        if (t != null) {
            t.interrupt();
        }
        violation(c, overBudget(c, used));
    }

    private String overBudget(Call c, long used) {
        return c.what.get() + " allocated " + PluginMemory.mib(used) + " in one call (limit " + PluginMemory.mib(memory.budget()) + ")";
    }

    private void violation(Call c, String reason) {
        memoryViolations.incrementAndGet();
        try {
            c.failed.accept(new Failure(reason, true, false));
        } finally {
            memory.abused(pluginId, reason);
        }
    }

    /** The calls in flight, for the sentry. */
    Set<Call> inFlight() {
        return inFlight;
    }

    /** Bytes allocated by the plugin's calls, the ones in flight included (as far as the sentry saw them). */
    long allocated() {
        return allocated.sum();
    }

    /** The counters for {@code vigil status}. */
    public Map<String, Object> stats() {
        return Map.of("calls", calls.sum(), "allocatedBytes", allocated.sum(), "memoryViolations", memoryViolations.get(),
                "callsRejectedBusy", busy.get(), "callsAbandoned", abandoned.get(), "callThreads", pool.getPoolSize(),
                "callThreadsBusy", pool.getActiveCount(), "queuedCalls", queued.size(), "queueDrains", drains.sum());
    }

    /** Takes no more calls; the threads end when their calls return (an abandoned one may never). */
    @Override
    public void close() {
        pool.shutdown();
        loader = null;
        memory.unregister(this);
    }

    /** Waits up to {@code limit} for the running calls to return; true if they all did. */
    boolean awaitIdle(Duration limit) throws InterruptedException {
        return pool.awaitTermination(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@code IllegalStateException: boom}, with wrappers taken off ({@link ProbeFailure#describe}). */
    public static String describe(Throwable t) {
        return ProbeFailure.describe(t);
    }
}
