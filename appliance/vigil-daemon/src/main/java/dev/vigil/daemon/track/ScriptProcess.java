package dev.vigil.daemon.track;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One run of a {@link ScriptCommand}: started as the leader of its own session and process group (so
 * that a timeout can kill everything it forked, as keepalived kills the script's process group), under
 * {@code setpriv} when it must run as another user, with standard input and output discarded.
 *
 * <p>Waiting happens on the caller's thread; callers are tracker and notifier threads, never the engine.
 */
public final class ScriptProcess {

    /** How a run ended. */
    public sealed interface Outcome {
        /** The script exited with {@code code}. */
        record Exited(int code) implements Outcome {
        }

        /** The script ran past its timeout and was killed with its process group. */
        record TimedOut(Duration after) implements Outcome {
        }

        /** The script could not be started. */
        record NotStarted(String reason) implements Outcome {
        }

        /** The waiting thread was interrupted; the script was killed. */
        record Interrupted() implements Outcome {
        }

        /** Whether this is a zero exit. */
        default boolean ok() {
            return this instanceof Exited e && e.code() == 0;
        }

        /** A short phrase for log lines: {@code exit 1}, {@code timed out after 2s}, ... */
        default String describe() {
            return switch (this) {
                case Exited e -> "exit " + e.code();
                case TimedOut t -> "timed out after " + seconds(t.after());
                case NotStarted n -> "cannot start: " + n.reason();
                case Interrupted i -> "interrupted";
            };
        }
    }

    private static final String SETSID = "/usr/bin/setsid";
    private static final String SETPRIV = "/usr/bin/setpriv";

    private final Process process;

    private ScriptProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code command}.
     *
     * @throws IOException when the program (or the identity switch) cannot be started
     */
    public static ScriptProcess start(ScriptCommand command) throws IOException {
        return start(command, java.util.Map.of(), null);
    }

    /**
     * Starts {@code command} with {@code env} added to the daemon's environment, after taking out
     * the inherited variables whose names start with {@code ownPrefix} (so that the command sees
     * only the ones given under that prefix).
     *
     * @param ownPrefix e.g. {@code VIGIL_}, or {@code null} to keep every inherited variable
     * @throws IOException when the program (or the identity switch) cannot be started
     */
    public static ScriptProcess start(ScriptCommand command, java.util.Map<String, String> env, String ownPrefix)
            throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(SETSID);
        if (command.user() != null && !command.user().equals(System.getProperty("user.name"))) {
            String group = command.group() != null ? command.group() : Users.primaryGroup(command.user());
            argv.addAll(List.of(SETPRIV, "--reuid=" + command.user(), "--regid=" + group, "--init-groups", "--"));
        }
        String program = command.program();
        // setsid would report a missing program only through its exit status; say why here instead.
        if (program.contains("/") && !Files.isExecutable(Path.of(program))) {
            throw new IOException(program + (Files.exists(Path.of(program)) ? ": not executable" : ": no such file"));
        }
        argv.addAll(command.argv());
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        if (ownPrefix != null) {
            pb.environment().keySet().removeIf(k -> k.startsWith(ownPrefix));
        }
        pb.environment().putAll(env);
        return new ScriptProcess(pb.start());
    }

    /**
     * Starts {@code command} and waits for it up to {@code timeout}, killing its process group at the
     * timeout. Never throws: every way of ending is an {@link Outcome}.
     */
    public static Outcome run(ScriptCommand command, Duration timeout) {
        ScriptProcess p;
        try {
            p = start(command);
        } catch (IOException | RuntimeException e) {
            return new Outcome.NotStarted(e.getMessage());
        }
        return p.await(timeout);
    }

    /** Waits up to {@code timeout}; kills the process group when it is exceeded or the wait is interrupted. */
    public Outcome await(Duration timeout) {
        try {
            process.onExit().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return new Outcome.Exited(process.exitValue());
        } catch (TimeoutException e) {
            kill();
            return new Outcome.TimedOut(timeout);
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
            return new Outcome.Interrupted();
        } catch (ExecutionException e) {
            kill();
            return new Outcome.NotStarted(String.valueOf(e.getCause()));
        }
    }

    /** The process id (also its process group id). */
    public long pid() {
        return process.pid();
    }

    /** Whether the script is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Sends SIGTERM to the whole process group. */
    public void terminate() {
        Posix.c().kill((int) -process.pid(), Posix.SIGTERM);
    }

    /**
     * Kills the script and everything it started: the process group, plus any descendant that moved to
     * another group (found before the group is killed, while the parent links still exist).
     */
    public void kill() {
        List<ProcessHandle> tree = process.descendants().toList();
        Posix.c().kill((int) -process.pid(), Posix.SIGKILL);
        tree.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.onExit().get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the reaper reports exit later; the signal has been sent
        }
    }

    static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() / 1000.0 + "s";
    }
}
