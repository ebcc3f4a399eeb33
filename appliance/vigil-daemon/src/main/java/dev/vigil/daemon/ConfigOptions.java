package dev.vigil.daemon;

import dev.vigil.config.ConfigLoader;
import dev.vigil.config.LoadOptions;
import dev.vigil.config.LoadResult;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options every command that reads a keepalived.conf shares. */
final class ConfigOptions {

    @Option(names = {"-f", "--use-file"}, paramLabel = "FILE", defaultValue = "/etc/keepalived/keepalived.conf",
            description = "Configuration file (default: ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = {"-i", "--config-id"}, paramLabel = "ID",
            description = "Config-id matched by @ID lines (default: the short host name).")
    String configId;

    LoadResult load() {
        LoadOptions options = LoadOptions.defaults();
        if (configId != null) {
            options = options.withConfigId(configId);
        }
        return ConfigLoader.load(file, options);
    }

    /** Diagnostics show files relative to the working directory when they lie below it. */
    static Path base() {
        return Path.of("").toAbsolutePath();
    }
}
