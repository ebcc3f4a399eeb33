package dev.vigil.dsl;

/** A policy revision compiled in the sandbox, ready to install in a {@link PolicyEngine}. */
public final class CompiledPolicy {

    private final String name;
    private final int revision;

    CompiledPolicy(String name, int revision) {
        this.name = name;
        this.revision = revision;
    }

    public String name() {
        return name;
    }

    public int revision() {
        return revision;
    }
}
