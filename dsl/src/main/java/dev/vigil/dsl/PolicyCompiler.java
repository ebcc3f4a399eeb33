package dev.vigil.dsl;

/** Compiles a policy's text in the sandbox. */
public final class PolicyCompiler {

    /**
     * Compiles revision {@code revision} of policy {@code name}.
     *
     * @throws PolicyCompileException located as {@code NAME rREV:LINE:COL: message}
     */
    public CompiledPolicy compile(String name, int revision, String source) throws PolicyCompileException {
        throw new PolicyCompileException(name, revision, 1, 1, "the policy compiler is not available in this build");
    }
}
