package dev.vigil.daemon.vip;

import dev.vigil.api.VipAddress;
import dev.vigil.api.VipBackend;
import dev.vigil.api.VipInstance;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.plugin.PluginCalls;
import dev.vigil.daemon.plugin.PluginHost;
import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.VirtualAddress;
import dev.vigil.vrrp.runtime.InstanceParams;
import dev.vigil.vrrp.runtime.VipBackends;
import dev.vigil.vrrp.runtime.VipBinding;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The VIP backends of the daemon behind the VRRP runtime's {@link VipBackends} port: the built-in
 * {@code netlink} and {@code vmac} backends, and every {@link VipBackend} a plugin provides, each
 * given a {@link HostVipContext} of the daemon's kernel ports.
 *
 * <p><b>Threads.</b> A built-in backend's binding calls it on the engine thread, as the runtime
 * called the kernel ports before backends existed: a take-over costs one interface call more per
 * address. A plugin's binding only queues: {@code attach}, {@code up}, {@code down},
 * {@code announce} and {@code detach} run in order on a virtual thread of that instance alone
 * ({@code vip <instance>}), with the plugin's class loader as context loader; the engine never
 * waits for them, and a failure is logged with the instance, the backend and the address.
 * {@link #prepare} asks plugins for their advert interface on the calling (main) thread, bounded
 * in time, before the runtime binds.
 */
public final class VipHost implements VipBackends, AutoCloseable {

    /** How long a plugin's {@code advertInterface} may take. */
    static final Duration CALL_LIMIT = Duration.ofSeconds(5);
    /** How long {@link #close} waits for the plugins' queued calls. */
    static final Duration CLOSE_LIMIT = Duration.ofSeconds(5);

    private final HostVipContext.Kernel kernel;
    private final Map<String, VipBackend> builtIn = new LinkedHashMap<>();
    private final Map<String, PluginHost.VipPlugin> plugins;
    private final Map<String, String> advertInterfaces = new ConcurrentHashMap<>();
    private final List<ExecutorService> workers = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong failures = new AtomicLong();

    /**
     * @param kernel  the kernel ports lent to the backends
     * @param plugins the plugins' backends by name ({@link PluginHost#vipBackends()})
     */
    public VipHost(HostVipContext.Kernel kernel, Map<String, PluginHost.VipPlugin> plugins) {
        this.kernel = kernel;
        this.plugins = Map.copyOf(plugins);
        builtIn.put(NetlinkVipBackend.NAME, new NetlinkVipBackend());
        builtIn.put(VmacVipBackend.NAME, new VmacVipBackend());
    }

    /** Every backend name an instance may select: the built-in ones and the plugins'. */
    public static Set<String> names(Map<String, PluginHost.VipPlugin> plugins) {
        Set<String> out = new TreeSet<>(PluginHost.BUILT_IN_VIP_BACKENDS);
        out.addAll(plugins.keySet());
        return out;
    }

    /** Calls of plugin backends that failed (threw, or were refused). */
    public long failures() {
        return failures.get();
    }

    /** What a backend is told about an instance. */
    static VipInstance instance(InstanceParams p) {
        List<VipAddress> addresses = new ArrayList<>();
        for (VirtualAddress v : p.vips()) {
            addresses.add(HostVipContext.apiAddress(v));
        }
        for (VirtualAddress v : p.excludedVips()) {
            addresses.add(HostVipContext.apiAddress(v));
        }
        return new VipInstance(p.name(), p.vrid(), p.family() == AddressFamily.INET6, p.ifname(), addresses,
                p.vip().options());
    }

    /**
     * Asks the plugin backends of {@code instances} which interface each one's adverts leave from,
     * before the runtime starts or reconfigures them. Call on a host thread (never the engine's).
     */
    public void prepare(List<InstanceParams> instances) {
        for (InstanceParams p : instances) {
            PluginHost.VipPlugin plugin = plugins.get(p.vip().backend());
            if (plugin == null) {
                continue;
            }
            VipInstance vi = instance(p);
            try {
                String on = plugin.calls().call(plugin.pluginId() + " advertInterface()", CALL_LIMIT,
                        () -> plugin.extension().advertInterface(vi));
                advertInterfaces.put(key(p), on == null || on.isBlank() ? p.ifname() : on);
            } catch (PluginCalls.Failure f) {
                failures.incrementAndGet();
                Log.error(p.name(), "VIP backend " + plugin.name() + ": " + f.getMessage() + "; adverts go from "
                        + p.ifname());
                advertInterfaces.put(key(p), p.ifname());
            }
        }
    }

    private static String key(InstanceParams p) {
        return p.name() + "\u0000" + p.vrid() + "\u0000" + p.ifname() + "\u0000" + p.vip();
    }

    @Override
    public VipBinding bind(InstanceParams p) throws KernelException {
        String name = p.vip().backend();
        VipBackend backend = builtIn.get(name);
        if (backend != null) {
            VipInstance vi = instance(p);
            String on = backend.advertInterface(vi);
            try {
                return new Direct(on, backend.attach(vi, new HostVipContext(kernel, p.name(), System::getLogger)));
            } catch (Exception e) {
                throw kernelError("attach", e);
            }
        }
        PluginHost.VipPlugin plugin = plugins.get(name);
        if (plugin == null) {
            throw new KernelException("VIP backend", 0, "no backend " + name + " (installed: "
                    + String.join(", ", names(plugins)) + ")");
        }
        Queued q = new Queued(p, plugin, advertInterfaces.getOrDefault(key(p), p.ifname()));
        q.attach();
        return q;
    }

    private static KernelException kernelError(String call, Exception e) {
        if (e instanceof KernelException k) {
            return k;
        }
        String m = e.getMessage();
        return new KernelException(call, 0, m == null || m.isBlank() ? e.getClass().getSimpleName() : m);
    }

    /** Converts each configured address once; the engine thread alone uses it. */
    private static final class Addresses {
        private final Map<VirtualAddress, VipAddress> cache = new HashMap<>();

        VipAddress of(VirtualAddress v) {
            VipAddress a = cache.get(v);
            if (a == null) {
                a = HostVipContext.apiAddress(v);
                cache.put(v, a);
            }
            return a;
        }
    }

    /** A built-in backend's binding: called on the engine thread. */
    private static final class Direct implements VipBinding {
        private final String advertInterface;
        private final VipBackend.Attachment attachment;
        private final Addresses addresses = new Addresses();

        Direct(String advertInterface, VipBackend.Attachment attachment) {
            this.advertInterface = advertInterface;
            this.attachment = attachment;
        }

        @Override
        public String advertInterface() {
            return advertInterface;
        }

        @Override
        public void add(VirtualAddress address) throws KernelException {
            try {
                attachment.up(addresses.of(address));
            } catch (Exception e) {
                throw kernelError("up", e);
            }
        }

        @Override
        public void remove(VirtualAddress address) throws KernelException {
            try {
                attachment.down(addresses.of(address));
            } catch (Exception e) {
                throw kernelError("down", e);
            }
        }

        @Override
        public void announce(VirtualAddress address) throws KernelException {
            try {
                attachment.announce(addresses.of(address));
            } catch (Exception e) {
                throw kernelError("announce", e);
            }
        }

        @Override
        public void release() {
            try {
                attachment.detach();
            } catch (Exception e) {
                throw new IllegalStateException("detach: " + e.getMessage(), e);
            }
        }
    }

    /** One call of a plugin's attachment. */
    private interface Call {
        void run(VipBackend.Attachment attachment) throws Exception;
    }

    /** A plugin backend's binding: every call queued, in order, on the instance's worker. */
    private final class Queued implements VipBinding {
        private final InstanceParams params;
        private final PluginHost.VipPlugin plugin;
        private final String advertInterface;
        private final ExecutorService worker;
        private final Addresses addresses = new Addresses();
        private volatile VipBackend.Attachment attachment;

        Queued(InstanceParams params, PluginHost.VipPlugin plugin, String advertInterface) {
            this.params = params;
            this.plugin = plugin;
            this.advertInterface = advertInterface;
            this.worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("vip " + params.name()).factory());
            workers.add(worker);
        }

        void attach() {
            VipInstance vi = instance(params);
            HostVipContext context = new HostVipContext(kernel, params.name(), System::getLogger);
            submit("attach", () -> {
                attachment = plugin.extension().attach(vi, context);
                if (attachment == null) {
                    throw new IllegalStateException("attach returned null");
                }
            });
        }

        private void submit(String what, PluginTask task) {
            try {
                worker.execute(() -> {
                    Thread t = Thread.currentThread();
                    ClassLoader previous = t.getContextClassLoader();
                    t.setContextClassLoader(plugin.loader());
                    try {
                        task.run();
                    } catch (Exception | LinkageError e) {
                        failures.incrementAndGet();
                        Log.error(params.name(), "VIP backend " + plugin.name() + " (plugin " + plugin.pluginId()
                                + "): " + what + " failed: " + PluginCalls.describe(e));
                    } finally {
                        t.setContextClassLoader(previous);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                failures.incrementAndGet();
                Log.error(params.name(), "VIP backend " + plugin.name() + ": " + what + " after release: not run");
            }
        }

        private void call(String what, VirtualAddress address, Call call) {
            VipAddress a = addresses.of(address);
            submit(what + " " + a, () -> {
                VipBackend.Attachment at = attachment;
                if (at == null) {
                    throw new IllegalStateException("not attached");
                }
                call.run(at);
            });
        }

        @Override
        public String advertInterface() {
            return advertInterface;
        }

        @Override
        public void add(VirtualAddress address) {
            call("up", address, at -> at.up(addresses.of(address)));
        }

        @Override
        public void remove(VirtualAddress address) {
            call("down", address, at -> at.down(addresses.of(address)));
        }

        @Override
        public void announce(VirtualAddress address) {
            call("announce", address, at -> at.announce(addresses.of(address)));
        }

        @Override
        public void release() {
            submit("detach", () -> {
                VipBackend.Attachment at = attachment;
                attachment = null;
                if (at != null) {
                    at.detach();
                }
            });
            worker.shutdown();
        }
    }

    /** Work on a plugin's worker. */
    private interface PluginTask {
        void run() throws Exception;
    }

    /** Waits (bounded) for the plugins' queued calls, detach included, then stops their workers. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + CLOSE_LIMIT.toNanos();
        List<ExecutorService> all;
        synchronized (workers) {
            all = List.copyOf(workers);
        }
        for (ExecutorService w : all) {
            w.shutdown();
            try {
                if (!w.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    Log.warn("vip", "a VIP backend's calls did not finish in " + CLOSE_LIMIT.toSeconds() + " s");
                    w.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
