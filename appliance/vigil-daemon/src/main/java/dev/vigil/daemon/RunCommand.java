package dev.vigil.daemon;

import dev.vigil.config.ConfigLoader;
import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadOptions;
import dev.vigil.config.LoadResult;
import dev.vigil.config.Severity;
import dev.vigil.vrrp.runtime.InstanceParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vigil run -f FILE}: the daemon. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the daemon on a keepalived.conf: VRRP instances move their virtual addresses.",
            "SIGTERM/SIGINT hand over (priority 0) and remove the addresses; SIGHUP is logged."})
final class RunCommand implements Callable<Integer> {

    @Option(names = {"-f", "--use-file"}, paramLabel = "FILE", defaultValue = "/etc/keepalived/keepalived.conf",
            description = "Configuration file (default: ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = {"-i", "--config-id"}, paramLabel = "ID",
            description = "Config-id matched by @ID lines (default: the short host name).")
    String configId;

    @Option(names = {"-D", "--log-detail"}, description = "Log every advert drop and kernel call detail.")
    boolean detail;

    @Override
    public Integer call() {
        Log.debug(detail);
        LoadOptions options = LoadOptions.defaults();
        if (configId != null) {
            options = options.withConfigId(configId);
        }
        LoadResult loaded = ConfigLoader.load(file, options);
        report(loaded.diagnostics());
        if (loaded.hasErrors()) {
            Log.error("vigil", "configuration " + file + " has errors; not starting");
            return 1;
        }
        InstanceMapper mapper = new InstanceMapper();
        List<InstanceParams> instances = mapper.map(loaded.config());
        report(mapper.diagnostics());
        if (mapper.hasErrors()) {
            Log.error("vigil", "configuration " + file + " cannot run; not starting");
            return 1;
        }
        String node = loaded.config().globalDefs().routerId();
        return new Daemon(node, instances).runUntilStopped();
    }

    private static void report(List<Diagnostic> diagnostics) {
        for (Diagnostic d : diagnostics) {
            if (d.severity() == Severity.ERROR) {
                Log.error("config", d.format(Path.of("").toAbsolutePath()));
            } else {
                Log.warn("config", d.format(Path.of("").toAbsolutePath()));
            }
        }
    }
}
