package dev.vigil.dsl;

/**
 * A policy that does not compile (or breaks the sandbox), located as {@code NAME rREV:LINE:COL: message},
 * e.g. {@code drain-web r3:12:5: policy sandbox: java.lang.System#exit is not allowed}.
 */
public final class PolicyCompileException extends Exception {

    private final String policy;
    private final int revision;
    private final int line;
    private final int column;
    private final String problem;

    public PolicyCompileException(String policy, int revision, int line, int column, String problem) {
        super(policy + " r" + revision + ":" + line + ":" + column + ": " + problem);
        this.policy = policy;
        this.revision = revision;
        this.line = line;
        this.column = column;
        this.problem = problem;
    }

    public String policy() {
        return policy;
    }

    public int revision() {
        return revision;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    /** The message without its location. */
    public String problem() {
        return problem;
    }
}
