package dev.vigil.config;

import java.util.ArrayList;
import java.util.List;

/** Collects diagnostics while a configuration is read; never throws. */
public final class Diagnostics {
    private final List<Diagnostic> list = new ArrayList<>();

    /** Records an error. */
    public void error(SourceRef ref, String message) {
        list.add(new Diagnostic(Severity.ERROR, ref, message));
    }

    /** Records a warning. */
    public void warning(SourceRef ref, String message) {
        list.add(new Diagnostic(Severity.WARNING, ref, message));
    }

    /** Everything recorded so far, in order. */
    public List<Diagnostic> all() {
        return List.copyOf(list);
    }
}
