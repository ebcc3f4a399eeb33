package dev.vigil.config;

/** How serious a configuration {@link Diagnostic} is. */
public enum Severity {
    /** The configuration is wrong; the affected object is dropped or falls back to a default. */
    ERROR("error"),
    /** The configuration is accepted but probably not what was meant. */
    WARNING("warning");

    private final String label;

    Severity(String label) {
        this.label = label;
    }

    /** The lower-case word used in formatted diagnostics. */
    public String label() {
        return label;
    }
}
