package dev.vigil.plugin.testkit

import dev.vigil.api.CheckResult
import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.LoadResult
import dev.vigil.daemon.Log
import dev.vigil.daemon.check.CheckEngine
import dev.vigil.daemon.check.CheckIo
import dev.vigil.daemon.check.CheckSpec
import dev.vigil.daemon.check.ProbeFactory
import dev.vigil.daemon.check.ProbeLauncher
import dev.vigil.daemon.plugin.CheckPlan
import dev.vigil.daemon.plugin.CheckerValidation
import dev.vigil.daemon.plugin.PluginHost
import dev.vigil.daemon.plugin.PluginProbes
import dev.vigil.daemon.track.EventLog
import dev.vigil.vrrp.runtime.ExecutorScheduler
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * A checker plugin as the daemon runs it: the zip the module's build made (system property
 * {@code vigil.pluginZip}, set by plugins/pom.xml), dropped into a temporary plugins directory and
 * loaded by the real {@link PluginHost}; a keepalived.conf written here, loaded and validated by the
 * real parser and the plugin's own {@code validate}; its probes run by the real {@link CheckEngine}
 * on the shared event loops ({@link CheckIo}), with every result and every change of the real
 * server recorded in order.
 *
 * <p>A plugin's spec extends this class and keeps only what is its own: the servers it probes,
 * the checker block it writes and what it asserts. Spock runs this class's {@code setup()} before
 * the subclass's and its {@code cleanup()} after the subclass's, so a subclass may stop its servers
 * in its own {@code cleanup()} while the engine still runs.
 *
 * <p>What is recorded, for each probe result in the order the engine gets them: its weight in
 * {@link #weights}, its detail in {@link #details}, then its status in {@link #events}, last, so
 * that a spec waiting for an event sees the weight and detail of that result too. {@link #events}
 * also holds the real server's changes, {@code UP} and {@code DOWN}, in their place; the other two
 * lists do not.
 */
abstract class CheckPluginSpecification extends Specification {

    /** How long {@link #await} waits by default. */
    static final Duration AWAIT = Duration.ofSeconds(15)

    /** The spec's own directory: the plugins directory, keepalived.conf and whatever the spec writes. */
    @TempDir
    Path dir

    PluginHost host
    CheckIo io
    ExecutorScheduler scheduler
    /** The engine {@link #start} made, closed by {@link #cleanup()}. */
    CheckEngine engine

    /** Probe results ({@code L4OK}, {@code L4CON}, ...) and the real server's changes ({@code UP}, {@code DOWN}), in the engine's order. */
    final List<String> events = new CopyOnWriteArrayList<>()
    /** Each probe result's detail, or its exception's message; no entry for the changes. */
    final List<String> details = new CopyOnWriteArrayList<>()
    /** The weight each probe result carried, -1 for none. */
    final List<Integer> weights = new CopyOnWriteArrayList<>()
    /** What the spec opened (listeners, servers) and {@link #cleanup()} closes, after the engine. */
    final List<Closeable> listeners = new CopyOnWriteArrayList<>()

    def setup() {
        Path zip = Path.of(System.getProperty('vigil.pluginZip'))
        assert Files.exists(zip): "the build did not make ${zip}"
        Path plugins = Files.createDirectories(dir.resolve('plugins'))
        Files.copy(zip, plugins.resolve(zip.fileName))
        host = PluginHost.open(plugins)
        io = CheckIo.open(1)
        scheduler = new ExecutorScheduler('test-checks')
    }

    def cleanup() {
        engine?.close()?.get(5, TimeUnit.SECONDS)
        scheduler?.close()
        io?.close()
        host?.close()
        listeners*.close()
    }

    /**
     * The checker block {@code keyword { ... }} holding {@code lines}, each trimmed and indented by
     * four, blank ones left out: {@code block('TCP_CHECK', 'connect_timeout 1')}.
     */
    static String block(String keyword, String lines) {
        keyword + ' {\n' + lines.readLines()*.trim().findAll { it }.collect { '    ' + it }.join('\n') + '\n}'
    }

    /**
     * A keepalived.conf of one virtual server holding one real server holding {@code checker}, each
     * of its lines indented by eight:
     * <pre>
     * virtual_server 10.9.9.9 80 {       (virtualServer)
     *     protocol UDP                   (only if protocol is given)
     *     real_server 127.0.0.1 80 {     (realServer)
     *         TCP_CHECK {                (checker, from line 3, or 4 with a protocol)
     *             ...
     * </pre>
     * Specs asserting locations count on this layout.
     */
    static String keepalivedConf(String checker, String realServer = '127.0.0.1 80', String virtualServer = '10.9.9.9 80',
                                 String protocol = null) {
        String indented = checker.readLines().collect { '        ' + it }.join('\n')
        'virtual_server ' + virtualServer + ' {\n' + (protocol ? '    protocol ' + protocol + '\n' : '') +
                '    real_server ' + realServer + ' {\n' + indented + '\n    }\n}\n'
    }

    /** {@code conf} written to keepalived.conf in {@link #dir}, loaded and validated against the loaded plugin. */
    LoadResult load(String conf) {
        Path file = dir.resolve('keepalived.conf')
        Files.writeString(file, conf)
        CheckerValidation.apply(ConfigLoader.load(file, LoadOptions.defaults()), host)
    }

    /** The diagnostics of {@link #load loading} {@code conf}, formatted ({@code keepalived.conf:4:23: error: ...}). */
    List<String> diagnosticsOf(String conf) {
        load(conf).diagnostics()*.format()
    }

    /**
     * Loads {@code conf}, which must have no errors and exactly one checker, and starts the engine on
     * it, its probes from the loaded plugin, recording as the class comment says.
     */
    void start(String conf) {
        LoadResult loaded = load(conf)
        assert !loaded.hasErrors(): loaded.diagnostics()*.format()
        CheckPlan plan = CheckPlan.of(loaded.config(), host)
        assert plan.specs().size() == 1
        ProbeFactory real = new PluginProbes(host, io)
        ProbeFactory recording = { CheckSpec s -> new RecordingLauncher(real.create(s)) } as ProbeFactory
        engine = new CheckEngine(scheduler, recording,
                { String name, boolean up, String reason -> events << (up ? 'UP' : 'DOWN') } as CheckEngine.StateSink,
                { Log.Level level, String subject, String message -> } as EventLog, new SplittableRandom(1), CheckEngine.Limits.DEFAULT)
        engine.configure(plan.specs(), plan.realServers())
    }

    /** Waits up to {@code seconds} for {@code condition}, checked every 10 ms; fails naming {@code what} and all recorded so far. */
    void await(String what, long seconds = AWAIT.seconds, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}: ${events} ${details}"
            Thread.sleep(10)
        }
    }

    /**
     * How many probe results {@code status} came in a row right before the last {@code change}
     * (the other changes left out), and the result before them ({@code null} if none).
     */
    List<Object> runBefore(String change, String status) {
        List<String> results = events.subList(0, events.lastIndexOf(change)).findAll { !(it in ['UP', 'DOWN']) }
        int n = 0
        int i = results.size() - 1
        while (i >= 0 && results[i] == status) {
            n++
            i--
        }
        [n, i >= 0 ? results[i] : null]
    }

    /** A free TCP port on 127.0.0.1 (free when asked). */
    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    /** A free UDP port on 127.0.0.1 (free when asked). */
    static int freeUdpPort() {
        new DatagramSocket(0, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    /**
     * Whether a spec's requirements are met: {@code true} when {@code missing} is empty; otherwise
     * says loudly on standard error that {@code what} is skipped and why, and throws when the build
     * demands every privileged spec ({@code -Dvigil.requireNetns=true}), so that a skip is never
     * counted as a pass there.
     */
    static boolean requireOrSkip(String what, List<String> missing) {
        if (missing.isEmpty()) {
            return true
        }
        System.err.println("*** SKIPPING ${what}: ${missing.join(', ')} missing ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
        }
        false
    }

    /** Passes each result on to the engine after recording it (weight, detail, then event). */
    private class RecordingLauncher implements ProbeLauncher {
        private final ProbeLauncher inner

        RecordingLauncher(ProbeLauncher inner) {
            this.inner = inner
        }

        @Override
        void launch(CompletableFuture<CheckResult> result) {
            def probed = new CompletableFuture<CheckResult>()
            probed.whenComplete { CheckResult r, Throwable e ->
                weights << (r != null && r.weight().present ? r.weight().asInt : -1)
                details << (e != null ? e.message : r.detail())
                events << (e != null ? 'ERROR' : r.status().name())
                if (e != null) {
                    result.completeExceptionally(e)
                } else {
                    result.complete(r)
                }
            }
            inner.launch(probed)
        }

        @Override
        void close() {
            inner.close()
        }
    }
}
