package dev.vigil.plugin.misc;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.Probe;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One {@code MISC_CHECK} target: the script runs as a process of its own session and process group
 * ({@code setsid}, so that its children can be found and killed with it), stdin from
 * {@code /dev/null}, output discarded. {@link #run()} only starts it; the stage completes from the
 * process's exit ({@link Process#onExit()}) or from a timer on the event loop at
 * {@code misc_timeout}, whichever comes first. Nothing ever waits for the process.
 *
 * <p>On timeout the probe fails at once; the whole process group then gets {@code SIGTERM} and,
 * {@link #KILL_AFTER} later, {@code SIGKILL}, which also takes children that ignored the first
 * signal or outlived the script (keepalived's check_misc.c does the same with {@code kill(-pid)}).
 * The signals are sent by {@code kill(1)}, started from a virtual thread.
 *
 * <p>A process killed by a signal reports, through {@link Process#exitValue()}, 128 plus the
 * signal number; the JDK offers no other way to tell the two apart, so a script that exits with
 * such a status is taken as killed ({@code exit status 137}, a failure, or with
 * {@code misc_dynamic} the weight 135, as the status says).
 */
final class MiscProbe implements Probe {

    /** From {@code SIGTERM} to {@code SIGKILL} of a timed-out script's process group. */
    static final Duration KILL_AFTER = Duration.ofSeconds(1);

    private final CheckContext context;
    private final List<String> argv;
    private final String program;
    private final Duration timeout;
    private final boolean dynamic;
    /** The script in flight, for {@link #close()}. */
    private volatile Process running;

    MiscProbe(CheckContext context, List<String> command, List<String> user, Duration timeout, boolean dynamic) {
        this.context = context;
        this.timeout = timeout;
        this.dynamic = dynamic;
        this.program = command.getFirst();
        List<String> a = new ArrayList<>();
        a.add("setsid");
        if (!user.isEmpty()) {
            // runuser(1) sets the user's groups and primary group (or the one given), as keepalived's
            // `user USER [GROUP]` does with setgid/initgroups/setuid before exec.
            a.addAll(List.of("runuser", "-u", user.get(0)));
            if (user.size() > 1) {
                a.addAll(List.of("-g", user.get(1)));
            }
            a.add("--");
        }
        a.addAll(command);
        this.argv = List.copyOf(a);
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        long start = context.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(argv)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException | RuntimeException e) {
            result.complete(CheckResult.of(CheckResult.Status.PROCERR, "cannot run " + program + ": " + e.getMessage()));
            return result;
        }
        running = p;
        long pid = p.pid();
        ScheduledFuture<?> timer = context.eventLoop().schedule(() -> {
            if (result.complete(CheckResult.of(CheckResult.Status.PROCERR,
                    program + " still running after " + millis(timeout) + " ms (misc_timeout): process group killed"))) {
                killGroup(pid);
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        p.onExit().whenComplete((done, e) -> {
            timer.cancel(false);
            if (running == p) {
                running = null;
            }
            if (e != null) {
                result.complete(CheckResult.of(CheckResult.Status.PROCERR, program + ": " + e));
                return;
            }
            result.complete(verdict(p.exitValue(), (context.nanoTime() - start) / 1_000_000));
        });
        return result;
    }

    /** keepalived's rule (check_misc.c): 0 up; with misc_dynamic 2..255 up and weight status - 2; anything else down. */
    CheckResult verdict(int status, long tookMillis) {
        String took = " in " + tookMillis + " ms";
        if (status == 0) {
            return CheckResult.of(CheckResult.Status.L7OK, program + " exit status 0" + took);
        }
        if (dynamic && status >= 2 && status <= 255) {
            // The weight travels in the result, and whoever logs the result says it: not in the detail too.
            return CheckResult.of(CheckResult.Status.L7OK, program + " exit status " + status + took + " (misc_dynamic)")
                    .withWeight(status - 2);
        }
        return CheckResult.of(CheckResult.Status.PROCERR, program + " exit status " + status
                + (dynamic ? " (expected: 0 or 2-255)" : " (expected: 0)"));
    }

    /**
     * {@code SIGTERM} to the process group {@code pgid} (the script was made its leader by
     * {@code setsid}), {@code SIGKILL} {@link #KILL_AFTER} later, from a virtual thread: starting
     * {@code kill(1)} forks, which the event loop must not wait for.
     */
    static void killGroup(long pgid) {
        Thread.ofVirtual().name("misc-check-kill-" + pgid).start(() -> {
            signal("TERM", pgid);
            try {
                Thread.sleep(KILL_AFTER);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            signal("KILL", pgid);
        });
    }

    private static void signal(String name, long pgid) {
        try {
            new ProcessBuilder("kill", "-s", name, "--", "-" + pgid)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no kill(1): the JDK can signal the leader and the children it still has, at least
            ProcessHandle.of(pgid).ifPresent(h -> {
                h.descendants().forEach(ProcessHandle::destroyForcibly);
                h.destroyForcibly();
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A script still running when the checker is removed is killed with its group. */
    @Override
    public void close() {
        Process p = running;
        running = null;
        if (p != null && p.isAlive()) {
            killGroup(p.pid());
        }
    }

    private static String millis(Duration d) {
        return d.toNanos() % 1_000_000 == 0 ? Long.toString(d.toMillis())
                : String.format(Locale.ROOT, "%.3f", d.toNanos() / 1e6);
    }
}
