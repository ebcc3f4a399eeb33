package dev.vigil.dsl.store;

/**
 * What a revision must pass before it becomes active: the command line and the daemon compile it
 * ({@code new PolicyCompiler().compile(name, revision, text)}). Throwing refuses the revision; the
 * exception's message goes to the audit trail and to the caller.
 */
@FunctionalInterface
public interface PolicyCheck {

    /** Accepts revision {@code revision} of {@code name}, or throws why not. */
    void check(String name, int revision, String text) throws Exception;

    /** Accepts everything: for stores whose revisions were checked elsewhere. */
    PolicyCheck NONE = (name, revision, text) -> { };
}
