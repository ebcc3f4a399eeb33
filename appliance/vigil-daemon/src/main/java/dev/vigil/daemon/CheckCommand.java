package dev.vigil.daemon;

import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code vigil check -f FILE}: prints every problem as {@code file:line:col: error|warning: message}. */
@Command(name = "check", aliases = "-t", mixinStandardHelpOptions = true,
        description = {"Validates a keepalived.conf and prints every problem found, located as file:line:col.",
            "Exit status: 0 valid (warnings allowed), 1 errors, 2 usage."})
final class CheckCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        LoadResult result = config.load();
        for (Diagnostic d : result.diagnostics()) {
            System.out.println(d.format(ConfigOptions.base()));
        }
        long errors = result.errors().size();
        long warnings = result.warnings().size();
        System.err.printf("%s: %d error%s, %d warning%s%n", config.file, errors, errors == 1 ? "" : "s",
                warnings, warnings == 1 ? "" : "s");
        return errors > 0 ? 1 : 0;
    }
}
