package dev.vigil.vrrp.runtime;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * The production {@link Scheduler}: one daemon thread that runs submitted tasks in order and timers
 * at their deadlines.
 *
 * <p>The thread sleeps with {@link LockSupport#parkNanos} exactly until the earliest deadline and
 * submitters unpark it, so a timer fires as soon as the kernel wakes the thread: no executor
 * bookkeeping (leader election, lock hand-over on wake-up) sits between the deadline and the task.
 * The master down timer is what a take-over waits for (RFC 5798 §6.4.2), so every millisecond it
 * fires late is a millisecond of outage. A cancelled timer leaves the queue at once (many instances
 * re-arm their timers every advert). Neither a submission nor a re-armed {@link Alarm} allocates
 * once the queues have grown to their working size, so the steady state of the engine makes no
 * garbage.
 */
public final class ExecutorScheduler implements Scheduler, AutoCloseable {

    private final Thread thread;
    // Guarded by itself: an ArrayDeque reuses its array, where a linked queue allocates a node per task.
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    // Guarded by itself; timers are armed from the engine thread mostly, but may be from any.
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private long sequence;
    private volatile boolean closed;
    // Written by the engine thread only.
    private volatile long failures;

    private final class Timer implements Comparable<Timer>, Cancellable, Alarm {
        long at;
        long seq;
        final Runnable task;

        /** Disarmed until {@link #armAt}. */
        Timer(Runnable task) {
            this.task = task;
        }

        @Override
        public void armAt(long nanoTime) {
            if (closed) {
                throw new RejectedExecutionException("scheduler closed");
            }
            synchronized (timers) {
                timers.remove(this);
                at = nanoTime;
                seq = sequence++;
                timers.add(this);
            }
            if (Thread.currentThread() != thread) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public int compareTo(Timer o) {
            // Deadlines compare by difference: System.nanoTime may be negative or wrap.
            long d = at - o.at;
            return d != 0 ? (d < 0 ? -1 : 1) : Long.compare(seq, o.seq);
        }

        @Override
        public void cancel() {
            synchronized (timers) {
                timers.remove(this);
            }
        }
    }

    /** Starts the engine thread, named {@code threadName}. */
    public ExecutorScheduler(String threadName) {
        thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
        // Honoured only where the JVM maps priorities to the OS (Linux: -XX:ThreadPriorityPolicy=1
        // as root, nice -5): timers then win the CPU from busy neighbours sooner.
        thread.setPriority(Thread.MAX_PRIORITY);
        thread.start();
    }

    @Override
    public void execute(Runnable task) {
        if (closed) {
            throw new RejectedExecutionException("scheduler closed");
        }
        synchronized (tasks) {
            tasks.add(task);
        }
        if (Thread.currentThread() != thread) {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        Timer t = new Timer(task);
        t.armAt(System.nanoTime() + Math.max(0, delayNanos));
        return t;
    }

    @Override
    public Alarm alarm(Runnable task) {
        return new Timer(task);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public boolean inEngineThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Tasks first, in submission order, then the timers that are due; otherwise sleep until the
     * next deadline or an unpark. An unpark between the checks and the park leaves a permit, so the
     * park returns at once and no submission is missed.
     */
    private void loop() {
        while (!closed) {
            Runnable r;
            while (!closed && (r = nextTask()) != null) {
                run(r);
            }
            Runnable due = null;
            long wait;
            synchronized (timers) {
                Timer t = timers.peek();
                if (t == null) {
                    wait = -1;
                } else {
                    wait = t.at - System.nanoTime();
                    if (wait <= 0) {
                        timers.poll();
                        due = t.task;
                    }
                }
            }
            if (due != null) {
                run(due);
            } else if (closed || hasTasks()) {
                continue;
            } else if (wait < 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    private Runnable nextTask() {
        synchronized (tasks) {
            return tasks.poll();
        }
    }

    private boolean hasTasks() {
        synchronized (tasks) {
            return !tasks.isEmpty();
        }
    }

    /**
     * A failing task is reported and the engine goes on with the next one. That holds for an
     * {@link OutOfMemoryError} too, which a runaway thread elsewhere in the process may cause here
     * for a moment: the report itself may fail then, and is dropped (the failure is still counted),
     * so the engine thread outlives the episode.
     */
    private void run(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) {
            failures++;
            try {
                Thread.UncaughtExceptionHandler h = thread.getUncaughtExceptionHandler();
                h.uncaughtException(thread, e);
            } catch (Throwable reportFailed) {
                // Nothing to do that could not fail again; the count above stands.
            }
        }
    }

    /** Tasks and timers that threw, since the start; read from any thread. */
    public long failures() {
        return failures;
    }

    /** Stops the engine thread, waiting up to 5 s for the running task; pending tasks and timers are dropped. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() == thread) {
            return;
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
