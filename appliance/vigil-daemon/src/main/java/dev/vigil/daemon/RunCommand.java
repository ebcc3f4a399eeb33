package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
        Daemon daemon = new Daemon(config::load);
        Daemon.Loaded loaded = daemon.load();
        if (loaded == null) {
            Log.error("vigil", "configuration " + config.file + " has errors; not starting");
            return 1;
        }
        return daemon.runUntilStopped(loaded);
    }
}
