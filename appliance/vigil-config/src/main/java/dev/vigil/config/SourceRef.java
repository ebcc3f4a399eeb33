package dev.vigil.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A position in a configuration file: 1-based line and 1-based column of the first character of a token
 * in the file as written (before any parameter substitution).
 *
 * @param file the file, as it was opened (absolute when loaded through {@link ConfigLoader})
 * @param line 1-based line number
 * @param col  1-based column (characters, a tab counts as one)
 */
public record SourceRef(Path file, int line, int col) {
    public SourceRef {
        Objects.requireNonNull(file, "file");
    }

    /** {@code file:line:col} with the file as stored. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + col;
    }

    /** {@code file:line:col} with the file made relative to {@code base} when possible. */
    public String format(Path base) {
        Path shown = file;
        if (base != null) {
            Path abs = file.toAbsolutePath().normalize();
            Path b = base.toAbsolutePath().normalize();
            if (abs.startsWith(b)) {
                shown = b.relativize(abs);
            }
        }
        return shown + ":" + line + ":" + col;
    }
}
