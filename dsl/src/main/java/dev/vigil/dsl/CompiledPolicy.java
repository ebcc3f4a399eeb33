package dev.vigil.dsl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A policy revision compiled in the sandbox, ready to install in a {@link PolicyEngine}. It holds
 * the compiled class; each engine that installs it makes its own instance (its own handlers and
 * memory), so one compiled policy can be installed in several engines.
 */
public final class CompiledPolicy {

    private final String name;
    private final int revision;
    private final Class<? extends PolicyScript> scriptClass;
    private final String className;
    /** {@link #key(int, int) line and closure depth} -> column of the first statement there, to locate runtime errors. */
    private final Map<String, Integer> columns;
    private String description;
    private List<String> handlers = List.of();

    CompiledPolicy(String name, int revision, Class<? extends PolicyScript> scriptClass, String className, Map<String, Integer> columns) {
        this.name = name;
        this.revision = revision;
        this.scriptClass = scriptClass;
        this.className = className;
        this.columns = columns;
    }

    public String name() {
        return name;
    }

    public int revision() {
        return revision;
    }

    /** Its {@code description 'text'}, or {@code null}. */
    public String description() {
        return description;
    }

    /** Its handlers as declared: {@code on realServerDown}, {@code every 10s}, ... */
    public List<String> handlers() {
        return handlers;
    }

    /**
     * Makes a fresh instance and runs its policy block (on a thread of its own, within
     * {@code limits}), collecting its handlers.
     *
     * @throws PolicyCompileException when the block fails, located
     */
    PolicyDefinition define(PolicyLimits limits) throws PolicyCompileException {
        PolicyDefinition d = new PolicyDefinition();
        PolicyRun run = PolicyRun.definition(name, revision, d, limits);
        FutureTask<Void> task = new FutureTask<>(() -> {
            run.start();
            try {
                PolicyScript s = scriptClass.getDeclaredConstructor().newInstance();
                s.run();
            } finally {
                run.finish();
            }
            return null;
        });
        Thread t = new Thread(task, "vigil-policy-define-" + name);
        t.setDaemon(true);
        t.start();
        Throwable failure;
        try {
            task.get(limits.runTime().toNanos() + PolicyEngine.grace(limits), TimeUnit.NANOSECONDS);
            failure = run.limit;
        } catch (TimeoutException e) {
            run.expire();
            StackTraceElement[] where = t.getStackTrace();
            t.interrupt();
            failure = PolicyLimitError.timeExceeded(limits, where);
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new PolicyRuntimeException("interrupted while running the policy block");
        }
        if (failure == null && d.declaredName == null) {
            failure = new PolicyRuntimeException("the file declares no policy");
        }
        if (failure == null && d.triggers.isEmpty() && d.schedules.isEmpty()) {
            throw new PolicyCompileException(name, revision, 1, 1,
                    "policy '" + name + "' declares no handler (expected: on TRIGGER { event -> ... } or every N.seconds { ... })");
        }
        if (failure != null) {
            Location l = locate(failure);
            throw new PolicyCompileException(name, revision, l.line, l.column, message(failure));
        }
        List<String> hs = new ArrayList<>();
        d.triggers.forEach(x -> hs.add(x.toString()));
        d.schedules.forEach(x -> hs.add(x.toString()));
        description = d.description;
        handlers = List.copyOf(hs);
        return d;
    }

    /** {@code NAME rREV:LINE:COL: message} for a failed run. */
    String locatedError(Throwable failure) {
        Location l = locate(failure);
        return name + " r" + revision + ":" + l.line + ":" + l.column + ": " + message(failure);
    }

    record Location(int line, int column) {
    }

    /** The policy's line nearest to where {@code failure} was thrown (its stack's first frame in the policy's classes). */
    Location locate(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            for (StackTraceElement f : t.getStackTrace()) {
                String c = f.getClassName();
                if ((c.equals(className) || c.startsWith(className + "$")) && f.getLineNumber() > 0) {
                    int line = f.getLineNumber();
                    int depth = c.substring(className.length()).split("closure", -1).length - 1;     // Policy_x_r1$_run_closure1$_closure2: depth 2
                    for (int d = depth; d >= 0; d--) {          // an empty closure: the statement it is in
                        Integer column = columns.get(key(line, d));
                        if (column != null) {
                            return new Location(line, column);
                        }
                    }
                    return new Location(line, 1);
                }
            }
        }
        return new Location(1, 1);
    }

    /** A statement's place: its line and how many closures enclose it (the frames of a closure's class). */
    static String key(int line, int depth) {
        return line + "/" + depth;
    }

    static String message(Throwable t) {
        if (t instanceof PolicyRuntimeException || t instanceof PolicyLimitError) {
            return t.getMessage();
        }
        if (t instanceof StackOverflowError) {
            return "stack overflow (closures calling themselves too deep)";
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + t.getMessage() + ")";
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
