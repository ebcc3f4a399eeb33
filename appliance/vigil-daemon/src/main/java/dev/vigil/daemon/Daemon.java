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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
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

    private final InetSocketAddress api;
    private final Instant started = Instant.now();
    private volatile VrrpRouter router;

    /**
     * @param api where the status API listens, or {@code null} for none
     */
    Daemon(String node, List<InstanceParams> instances, InetSocketAddress api) {
        this.node = node;
        this.instances = instances;
        this.api = api;
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
        this.router = router;
        StatusServer statusServer = null;
        if (api != null) {
            try {
                statusServer = new StatusServer(api, this::status);
                Log.info("vigil", "status API on http://" + api.getHostString() + ":" + api.getPort() + "/status");
            } catch (IOException | RuntimeException e) {
                Log.warn("vigil", "status API not started on " + api + ": " + e.getMessage());
            }
        }

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
        if (statusServer != null) {
            statusServer.close();
        }
        scheduler.close();
        links.close();
        advertiser.close();
        addresses.close();
        Log.info("vigil", "stopped");
        return 0;
    }

    /** The daemon's state for the status API: node, instances with states, priorities and counters. */
    Map<String, Object> status() {
        VrrpRouter r = router;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", node);
        out.put("pid", ProcessHandle.current().pid());
        out.put("started", started.toString());
        List<Object> list = new ArrayList<>();
        if (r != null) {
            for (InstanceStatus s : r.status()) {
                InstanceCounters c = r.counters(s.name());
                Map<String, Object> i = new LinkedHashMap<>();
                i.put("name", s.name());
                i.put("state", s.state().name());
                i.put("basePriority", s.basePriority());
                i.put("effectivePriority", s.effectivePriority());
                i.put("master", s.masterAddress() != null ? s.masterAddress().getHostAddress() : null);
                i.put("masterPriority", s.masterPriority());
                i.put("source", s.sourceAddress() != null ? s.sourceAddress().getHostAddress() : null);
                Map<String, Object> counters = new LinkedHashMap<>();
                counters.put("advertsSent", c.advertsSent());
                counters.put("advertsReceived", c.advertsReceived());
                counters.put("priorityZeroSent", c.priorityZeroSent());
                counters.put("priorityZeroReceived", c.priorityZeroReceived());
                counters.put("transitions", c.transitions());
                counters.put("becameMaster", c.becameMaster());
                counters.put("addressListErrors", c.addressListErrors());
                counters.put("kernelErrors", c.kernelErrors());
                Map<String, Object> drops = new TreeMap<>();
                c.drops().forEach((reason, n) -> drops.put(reason.name(), n));
                counters.put("drops", drops);
                i.put("counters", counters);
                list.add(i);
            }
            out.put("unknownVridAdverts", r.unknownVridCount());
            out.put("malformedAdverts", r.malformedCount());
        }
        out.put("instances", list);
        return out;
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
