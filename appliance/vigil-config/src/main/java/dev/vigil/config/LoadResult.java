package dev.vigil.config;

import dev.vigil.config.model.KeepalivedConfig;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ConfigLoader#load} produced: the (possibly partial) configuration and every problem found.
 *
 * @param config      the configuration; objects with errors are left out or carry defaults
 * @param diagnostics errors and warnings in the order found
 */
public record LoadResult(KeepalivedConfig config, List<Diagnostic> diagnostics) {
    public LoadResult {
        Objects.requireNonNull(config, "config");
        diagnostics = List.copyOf(diagnostics);
    }

    /** Whether any diagnostic is an {@link Severity#ERROR}. */
    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(d -> d.severity() == Severity.ERROR);
    }

    /** Only the errors. */
    public List<Diagnostic> errors() {
        return diagnostics.stream().filter(d -> d.severity() == Severity.ERROR).toList();
    }

    /** Only the warnings. */
    public List<Diagnostic> warnings() {
        return diagnostics.stream().filter(d -> d.severity() == Severity.WARNING).toList();
    }
}
