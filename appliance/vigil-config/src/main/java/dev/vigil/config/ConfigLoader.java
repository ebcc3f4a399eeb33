package dev.vigil.config;

import dev.vigil.config.lex.ConfigReader;
import dev.vigil.config.lex.TreeBuilder;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.parse.ModelBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Loads a keepalived.conf (and everything it includes) into the typed model, collecting diagnostics. */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /**
     * Reads {@code file}. Never throws for configuration problems: they are returned as diagnostics, sorted
     * by file (in reading order), line and column, and the configuration holds whatever could be built.
     */
    public static LoadResult load(Path file, LoadOptions opts) {
        Diagnostics diags = new Diagnostics();
        ConfigReader reader = new ConfigReader(opts, diags);
        var lines = reader.read(file);
        List<ConfigNode> top = new TreeBuilder(diags).build(lines);
        KeepalivedConfig config = new ModelBuilder(opts, diags).build(top, reader.files());
        List<Path> order = reader.files();
        List<Diagnostic> sorted = new ArrayList<>(diags.all());
        sorted.sort(Comparator.<Diagnostic>comparingInt(x -> {
                    int i = order.indexOf(x.ref().file());
                    return i < 0 ? Integer.MAX_VALUE : i;
                })
                .thenComparingInt(x -> x.ref().line())
                .thenComparingInt(x -> x.ref().col()));
        return new LoadResult(config, sorted);
    }

    /** {@link #load(Path, LoadOptions)} with {@link LoadOptions#defaults()}. */
    public static LoadResult load(Path file) {
        return load(file, LoadOptions.defaults());
    }
}
