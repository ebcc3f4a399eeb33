package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code vigil run -f FILE}: the daemon. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the daemon on a keepalived.conf: VRRP instances move their virtual addresses and",
            "virtual servers become forwarding rules (IPVS or nftables, global_defs vigil_forwarder).",
            "SIGTERM/SIGINT hand over (priority 0), remove the addresses and the services;",
            "SIGHUP reloads the file."})
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = {"-D", "--log-detail"}, description = "Log every dropped advert (default: each reason at most once per 10 s per instance).")
    boolean detail;

    @Option(names = {"-I", "--dont-release-ipvs"},
            description = "Leave the forwarding rules in place at shutdown (keepalived's option), for the next start to adopt.")
    boolean keepServices;

    @Override
    public Integer call() {
        Log.debug(detail);
        Daemon daemon = new Daemon(config::load, !keepServices);
        Daemon.Loaded loaded = daemon.load();
        if (loaded == null) {
            Log.error("vigil", "configuration " + config.file + " has errors; not starting");
            return 1;
        }
        return daemon.runUntilStopped(loaded);
    }
}
