package dev.vigil.vrrp.runtime;

import java.util.ArrayDeque;
import java.util.Arrays;
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
 *
 * <p><b>The timer queue</b> is a binary min-heap of timers ordered by deadline, then by the
 * sequence of their arming (two timers due at the same instant fire in the order they were
 * armed). Each timer knows its slot in the heap, so arming, re-arming in place and cancelling
 * cost O(log n) sifts and no search: the health checks keep one timer or more per checker (tens
 * of thousands), armed and cancelled several times a second each. Deadlines compare by their
 * difference, as {@link System#nanoTime} requires (its values may be negative and wrap).
 */
public final class ExecutorScheduler implements Scheduler, AutoCloseable {

    private final Thread thread;
    // Guarded by itself: an ArrayDeque reuses its array, where a linked queue allocates a node per task.
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    // The timer heap, guarded by the lock; timers are armed from the engine thread mostly, but may be from any.
    private final Object timerLock = new Object();
    private Timer[] heap = new Timer[64];
    private int size;
    private long sequence;
    private volatile boolean closed;
    // Written by the engine thread only.
    private volatile long failures;

    private final class Timer implements Cancellable, Alarm {
        long at;
        long seq;
        /** The timer's slot in the heap, or -1 while it is not armed. */
        int index = -1;
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
            boolean first;
            synchronized (timerLock) {
                at = nanoTime;
                seq = sequence++;
                if (index < 0) {
                    add(this);
                } else {
                    resift(index);
                }
                first = index == 0;
            }
            // Only a new earliest deadline shortens the engine's sleep; a later one leaves it to
            // wake early, look and sleep again.
            if (first && Thread.currentThread() != thread) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void cancel() {
            synchronized (timerLock) {
                if (index >= 0) {
                    removeAt(index);
                }
            }
        }
    }

    private static boolean before(Timer a, Timer b) {
        return before(a.at, a.seq, b.at, b.seq);
    }

    /**
     * Whether a timer due at {@code at} armed as {@code seq} is due before one due at {@code otherAt}
     * armed as {@code otherSeq}: the earlier deadline, by difference ({@link System#nanoTime} may
     * wrap), then the earlier arming.
     */
    static boolean before(long at, long seq, long otherAt, long otherSeq) {
        long d = at - otherAt;
        return d != 0 ? d < 0 : seq < otherSeq;
    }

    private void add(Timer t) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        t.index = size;
        heap[size++] = t;
        siftUp(t.index);
    }

    private void removeAt(int i) {
        Timer gone = heap[i];
        gone.index = -1;
        int last = --size;
        Timer moved = heap[last];
        heap[last] = null;
        if (i != last) {
            heap[i] = moved;
            moved.index = i;
            resift(i);
        }
    }

    /** Restores the heap order around slot {@code i}, whose timer's key changed either way. */
    private void resift(int i) {
        if (!siftUp(i)) {
            siftDown(i);
        }
    }

    /** Moves the timer at {@code i} towards the root while it is due before its parent; true if it moved. */
    private boolean siftUp(int i) {
        Timer t = heap[i];
        int start = i;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (!before(t, p)) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
        return i != start;
    }

    private void siftDown(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            Timer c = heap[child];
            int right = child + 1;
            if (right < size && before(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!before(c, t)) {
                break;
            }
            heap[i] = c;
            c.index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
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
            synchronized (timerLock) {
                Timer t = size == 0 ? null : heap[0];
                if (t == null) {
                    wait = -1;
                } else {
                    wait = t.at - System.nanoTime();
                    if (wait <= 0) {
                        removeAt(0);
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
