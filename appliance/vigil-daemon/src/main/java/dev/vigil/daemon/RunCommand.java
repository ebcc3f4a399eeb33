package dev.vigil.daemon;

import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import dev.vigil.config.Severity;
import dev.vigil.vrrp.runtime.InstanceParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vigil run -f FILE}: the daemon. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the daemon on a keepalived.conf: VRRP instances move their virtual addresses.",
            "SIGTERM/SIGINT hand over (priority 0) and remove the addresses; SIGHUP is logged."})
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = {"-D", "--log-detail"}, description = "Log every dropped advert (default: each reason at most once per 10 s per instance).")
    boolean detail;

    @Override
    public Integer call() {
        Log.debug(detail);
        LoadResult loaded = config.load();
        report(loaded.diagnostics());
        if (loaded.hasErrors()) {
            Log.error("vigil", "configuration " + config.file + " has errors; not starting");
            return 1;
        }
        InstanceMapper mapper = new InstanceMapper();
        List<InstanceParams> instances = mapper.map(loaded.config());
        report(mapper.diagnostics());
        if (mapper.hasErrors()) {
            Log.error("vigil", "configuration " + config.file + " cannot run; not starting");
            return 1;
        }
        String node = loaded.config().globalDefs().routerId();
        InetSocketAddress api;
        List<String> apiWords = loaded.config().globalDefs().other().get("vigil_api");
        try {
            api = apiWords == null || apiWords.isEmpty() ? StatusServer.DEFAULT
                    : "off".equals(apiWords.getFirst()) ? null : StatusServer.parse(apiWords.getFirst());
        } catch (IllegalArgumentException e) {
            Log.error("vigil", "vigil_api " + apiWords + ": expected HOST:PORT or off");
            return 1;
        }
        return new Daemon(node, instances, api).runUntilStopped();
    }

    private static void report(List<Diagnostic> diagnostics) {
        for (Diagnostic d : diagnostics) {
            if (d.severity() == Severity.ERROR) {
                Log.error("config", d.format(ConfigOptions.base()));
            } else {
                Log.warn("config", d.format(ConfigOptions.base()));
            }
        }
    }
}
