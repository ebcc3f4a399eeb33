package dev.vigil.daemon;

import dev.vigil.config.LoadResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vigil run -f FILE}: the daemon. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the daemon on a keepalived.conf: VRRP instances move their virtual addresses.",
            "SIGTERM/SIGINT hand over (priority 0) and remove the addresses; SIGHUP reloads the file."})
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = {"-D", "--log-detail"}, description = "Log every dropped advert (default: each reason at most once per 10 s per instance).")
    boolean detail;

    @Override
    public Integer call() {
        Log.debug(detail);
        LoadResult first = config.load();
        List<String> apiWords = first.config().globalDefs().other().get("vigil_api");
        InetSocketAddress api;
        try {
            api = apiWords == null || apiWords.isEmpty() ? StatusServer.DEFAULT
                    : "off".equals(apiWords.getFirst()) ? null : StatusServer.parse(apiWords.getFirst());
        } catch (IllegalArgumentException e) {
            Log.error("vigil", "vigil_api " + apiWords + ": expected HOST:PORT or off");
            return 1;
        }
        boolean[] firstLoad = {true};
        Daemon daemon = new Daemon(() -> {
            if (firstLoad[0]) {
                firstLoad[0] = false;
                return first;
            }
            return config.load();
        }, api);
        Daemon.Loaded loaded = daemon.load();
        if (loaded == null) {
            Log.error("vigil", "configuration " + config.file + " has errors; not starting");
            return 1;
        }
        return daemon.runUntilStopped(loaded);
    }
}
