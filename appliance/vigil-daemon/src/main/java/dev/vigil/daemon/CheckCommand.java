package dev.vigil.daemon;

import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import dev.vigil.daemon.event.NotifierTypes;
import dev.vigil.daemon.event.NotifierValidation;
import dev.vigil.daemon.event.ScriptNotifier;
import dev.vigil.daemon.plugin.CheckerValidation;
import dev.vigil.daemon.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vigil check -f FILE}: prints every problem as {@code file:line:col: error|warning: message}.
 * It loads the plugins of the configuration's directory, as the daemon would, so that checker
 * keywords and notifier types are checked against what is installed and each plugin checks its own
 * blocks ({@code vigil_notifier} ones and keepalived's mail settings included); what is
 * wrong with the plugins themselves goes to standard error after the summary.
 */
@Command(name = "check", aliases = "-t", mixinStandardHelpOptions = true,
        description = {"Validates a keepalived.conf and prints every problem found, located as file:line:col.",
            "Checker blocks are checked against the installed plugins (global_defs vigil_plugins_dir).",
            "Exit status: 0 valid (warnings allowed), 1 errors, 2 usage."})
final class CheckCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        LoadResult result = config.load();
        List<PluginHost.Problem> problems;
        var previous = LogBridge.sink();
        LogBridge.sink((level, line) -> { });
        try (PluginHost host = PluginHost.open(PluginHost.directory(result.config()))) {
            result = CheckerValidation.apply(result, host);
            NotifierTypes types = NotifierTypes.of(host, List.of(new ScriptNotifier(null, null)));
            NotifierValidation.Result notifiers = NotifierValidation.apply(result, types);
            result = notifiers.load();
            problems = new java.util.ArrayList<>(host.problems());
            types.problems().forEach(p -> problems.add(new PluginHost.Problem(true, p)));
            notifiers.notes().forEach(n -> problems.add(new PluginHost.Problem(false, n)));
        } finally {
            LogBridge.sink(previous);
        }
        for (Diagnostic d : result.diagnostics()) {
            System.out.println(d.format(ConfigOptions.base()));
        }
        long errors = result.errors().size();
        long warnings = result.warnings().size();
        System.err.printf("%s: %d error%s, %d warning%s%n", config.file, errors, errors == 1 ? "" : "s",
                warnings, warnings == 1 ? "" : "s");
        problems.forEach(p -> System.err.println("plugins: " + (p.error() ? "error: " : "warning: ") + p.message()));
        return errors > 0 ? 1 : 0;
    }
}
