package dev.vigil.daemon;

import dev.vigil.config.ConfigLoader;
import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadOptions;
import dev.vigil.config.LoadResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vigil check -f FILE}: prints every problem as {@code file:line:col: error|warning: message}. */
@Command(name = "check", aliases = "-t", mixinStandardHelpOptions = true,
        description = {"Validates a keepalived.conf and prints every problem found, located as file:line:col.",
            "Exit status: 0 valid (warnings allowed), 1 errors, 2 usage."})
final class CheckCommand implements Callable<Integer> {

    @Option(names = {"-f", "--use-file"}, paramLabel = "FILE", defaultValue = "/etc/keepalived/keepalived.conf",
            description = "Configuration file (default: ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = {"-i", "--config-id"}, paramLabel = "ID",
            description = "Config-id matched by @ID lines (default: the short host name).")
    String configId;

    @Override
    public Integer call() {
        LoadOptions options = LoadOptions.defaults();
        if (configId != null) {
            options = options.withConfigId(configId);
        }
        LoadResult result = ConfigLoader.load(file, options);
        for (Diagnostic d : result.diagnostics()) {
            System.out.println(d.format(Path.of("").toAbsolutePath()));
        }
        long errors = result.errors().size();
        long warnings = result.warnings().size();
        System.err.printf("%s: %d error%s, %d warning%s%n", file, errors, errors == 1 ? "" : "s",
                warnings, warnings == 1 ? "" : "s");
        return errors > 0 ? 1 : 0;
    }
}
