package dev.vigil.daemon;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.linux.LinuxVrrpTransport;
import dev.vigil.kernel.linux.NetlinkAddressManager;
import dev.vigil.kernel.linux.NetlinkLinkMonitor;
import dev.vigil.kernel.linux.PacketNeighbourAdvertiser;
import dev.vigil.vrrp.runtime.ExecutorScheduler;
import dev.vigil.vrrp.runtime.InstanceCounters;
import dev.vigil.vrrp.runtime.InstanceParams;
import dev.vigil.vrrp.runtime.InstanceStatus;
import dev.vigil.vrrp.runtime.RouterEvent;
import dev.vigil.vrrp.runtime.VrrpRouter;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The running daemon: wires the Linux adapters into the VRRP runtime, logs its events and
 * handles signals. SIGTERM and SIGINT stop it gracefully: every MASTER sends priority 0 and
 * removes its addresses before the process exits 0.
 */
final class Daemon {

    private static final Duration SHUTDOWN_LIMIT = Duration.ofSeconds(5);

    private final String node;
    private final List<InstanceParams> instances;
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String stopSignal = "";
    private final RateLimiter dropLimiter = new RateLimiter(Duration.ofSeconds(10));

    Daemon(String node, List<InstanceParams> instances) {
        this.node = node;
        this.instances = instances;
    }

    int runUntilStopped() {
        Signals.on("TERM", () -> stop("SIGTERM"));
        Signals.on("INT", () -> stop("SIGINT"));
        Signals.on("HUP", () -> Log.warn("vigil", "SIGHUP: reload is not supported by this version; configuration unchanged"));

        NetlinkAddressManager addresses;
        NetlinkLinkMonitor links;
        PacketNeighbourAdvertiser advertiser;
        try {
            addresses = new NetlinkAddressManager();
            links = new NetlinkLinkMonitor();
            advertiser = new PacketNeighbourAdvertiser();
        } catch (KernelException e) {
            Log.error("vigil", "cannot open kernel interfaces: " + e.getMessage());
            return 1;
        }
        LinuxVrrpTransport transport = new LinuxVrrpTransport(addresses,
                e -> Log.warn("vigil", "receive error: " + e.getMessage()));
        ExecutorScheduler scheduler = new ExecutorScheduler("vrrp-engine");
        VrrpRouter router = new VrrpRouter(instances,
                new VrrpRouter.Ports(transport, addresses, advertiser, links), scheduler, this::log);

        Log.info("vigil", "starting node " + node + " (pid " + ProcessHandle.current().pid() + ", "
                + instances.size() + " VRRP instance" + (instances.size() == 1 ? "" : "s") + ")");
        try {
            router.start();
        } catch (RuntimeException e) {
            Log.error("vigil", "start failed: " + e.getMessage());
            router.shutdown(SHUTDOWN_LIMIT);
            return 1;
        }
        for (InstanceStatus s : router.status()) {
            Log.info(s.name(), "started: " + s.state() + ", priority " + s.effectivePriority());
        }

        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Log.info("vigil", stopSignal + ": stopping");
        List<InstanceStatus> before = router.status();
        router.shutdown(SHUTDOWN_LIMIT);
        for (InstanceStatus s : before) {
            InstanceCounters c = router.counters(s.name());
            if (c.priorityZeroSent() > 0) {
                Log.info(s.name(), "handed over: sent priority 0, removed virtual addresses");
            }
        }
        scheduler.close();
        links.close();
        advertiser.close();
        addresses.close();
        Log.info("vigil", "stopped");
        return 0;
    }

    private void stop(String signal) {
        stopSignal = signal;
        stop.countDown();
    }

    private void log(RouterEvent event) {
        String subject = event.instance() != null ? event.instance() : "vrrp";
        String line = event.describe();
        String prefix = "(" + event.instance() + ") ";
        if (line.startsWith(prefix)) {
            line = line.substring(prefix.length());
        }
        switch (event) {
            case RouterEvent.Transitioned t -> Log.info(subject, line);
            case RouterEvent.StaleVipRemoved s -> Log.info(subject, line);
            case RouterEvent.PriorityChanged p -> Log.info(subject, line);
            case RouterEvent.AddressListMismatch m -> Log.warn(subject, line);
            case RouterEvent.AdvertDropped d -> {
                if (dropLimiter.allow(subject + "/" + d.reason())) {
                    Log.warn(subject, line);
                } else {
                    Log.debug(subject, line);
                }
            }
            case RouterEvent.KernelError k -> Log.error(subject, line);
            case RouterEvent.InternalError x -> Log.error(subject, line);
        }
    }
}
