package dev.vigil.daemon.track;

import dev.vigil.config.model.VrrpScript;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One {@code vrrp_script}: runs it every {@code interval} on its own virtual thread, applies
 * {@code rise}/{@code fall} and reports each change of its {@link Status}.
 */
final class ScriptTracker implements AutoCloseable {

    /** Where a script stands. */
    enum Status {
        /** Not yet decided: one success makes it OK, failures count towards {@code fall}. */
        INIT,
        OK,
        FAILED
    }

    private final VrrpScript script;
    private final ScriptCommand command;
    private final String commandError;
    private final EventLog log;
    private final Consumer<ScriptTracker> onChange;
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile Status status;
    private int streak;
    private volatile boolean closed;
    private Thread thread;

    /**
     * @param command      what to run, or {@code null} when the command line could not be split
     * @param commandError why it could not be split (each run then fails with this reason)
     */
    ScriptTracker(VrrpScript script, ScriptCommand command, String commandError, EventLog log,
                  Consumer<ScriptTracker> onChange) {
        this.script = script;
        this.command = command;
        this.commandError = commandError;
        this.log = log;
        this.onChange = onChange;
        this.status = script.initFail() ? Status.FAILED : Status.INIT;
    }

    String name() {
        return script.name();
    }

    Status status() {
        return status;
    }

    long runs() {
        return runs.get();
    }

    long failures() {
        return failures.get();
    }

    synchronized void start() {
        thread = Thread.ofVirtual().name("vrrp_script " + script.name()).start(this::loop);
    }

    private void loop() {
        long interval = script.interval().toNanos();
        long next = System.nanoTime();
        while (!closed) {
            ScriptProcess.Outcome outcome = command == null
                    ? new ScriptProcess.Outcome.NotStarted(commandError)
                    : ScriptProcess.run(command, script.timeout());
            if (closed || outcome instanceof ScriptProcess.Outcome.Interrupted) {
                return;
            }
            record(outcome);
            // keepalived starts runs on the interval grid; a run longer than the interval starts the next at once
            next += interval;
            long now = System.nanoTime();
            if (next < now) {
                next = now;
            }
            try {
                TimeUnit.NANOSECONDS.sleep(next - now);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Applies one probe result; visible for specs that drive results without processes. */
    void record(ScriptProcess.Outcome outcome) {
        runs.incrementAndGet();
        boolean ok = outcome.ok();
        if (!ok) {
            failures.incrementAndGet();
        }
        Status before;
        Status after;
        String detail;
        synchronized (this) {
            before = status;
            after = before;
            detail = outcome.describe();
            switch (before) {
                case INIT -> {
                    if (ok) {
                        after = Status.OK;
                        streak = 0;
                    } else if (++streak >= script.fall()) {
                        after = Status.FAILED;
                        detail += ", fall " + streak + "/" + script.fall();
                        streak = 0;
                    }
                }
                case OK -> {
                    if (ok) {
                        streak = 0;
                    } else if (++streak >= script.fall()) {
                        after = Status.FAILED;
                        detail += ", fall " + streak + "/" + script.fall();
                        streak = 0;
                    }
                }
                case FAILED -> {
                    if (!ok) {
                        streak = 0;
                    } else if (++streak >= script.rise()) {
                        after = Status.OK;
                        detail += ", rise " + streak + "/" + script.rise();
                        streak = 0;
                    }
                }
            }
            status = after;
        }
        if (after != before) {
            String line = before + " -> " + after + " (" + detail + ")";
            if (after == Status.FAILED) {
                log.warn(script.name(), line);
            } else {
                log.info(script.name(), line);
            }
            onChange.accept(this);
        }
    }

    /** Asks the loop to end, killing a running script; {@link #close()} waits for it. */
    void stop() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
