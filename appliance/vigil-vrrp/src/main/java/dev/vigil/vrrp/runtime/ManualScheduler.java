package dev.vigil.vrrp.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} with virtual time for tests: nothing runs until {@link #runPending()} or
 * {@link #advance(Duration)} is called, on the calling thread. Timers due at the same instant run in
 * the order they were scheduled. The calling thread counts as the engine thread. Not thread-safe.
 */
public final class ManualScheduler implements Scheduler {

    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private long now;
    private long sequence;

    private final class Timer implements Comparable<Timer>, Cancellable, Alarm {
        long at;
        long seq;
        final Runnable task;

        Timer(long at, long seq, Runnable task) {
            this.at = at;
            this.seq = seq;
            this.task = task;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }

        @Override
        public void cancel() {
            timers.remove(this);
        }

        @Override
        public void armAt(long nanoTime) {
            timers.remove(this);
            at = nanoTime;
            seq = sequence++;
            timers.add(this);
        }
    }

    /** A scheduler whose clock starts at {@code startNanos}. */
    public ManualScheduler(long startNanos) {
        this.now = startNanos;
    }

    public ManualScheduler() {
        this(0);
    }

    @Override
    public void execute(Runnable task) {
        queue.add(task);
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        Timer t = new Timer(now + Math.max(0, delayNanos), sequence++, task);
        timers.add(t);
        return t;
    }

    @Override
    public Alarm alarm(Runnable task) {
        return new Timer(0, 0, task);
    }

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public boolean inEngineThread() {
        return true;
    }

    /** Runs the submitted tasks (and the tasks they submit) without moving the clock. */
    public void runPending() {
        Runnable r;
        while ((r = queue.poll()) != null) {
            r.run();
        }
    }

    /** Moves the clock forward by {@code duration}, running every task and timer due on the way. */
    public void advance(Duration duration) {
        advanceNanos(duration.toNanos());
    }

    /** As {@link #advance(Duration)}, in nanoseconds. */
    public void advanceNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos: " + nanos + " (expected: >= 0)");
        }
        long target = now + nanos;
        runPending();
        while (!timers.isEmpty() && timers.peek().at <= target) {
            Timer t = timers.poll();
            now = t.at;
            t.task.run();
            runPending();
        }
        now = target;
        runPending();
    }

    /** Number of armed timers. */
    public int pendingTimers() {
        return timers.size();
    }
}
