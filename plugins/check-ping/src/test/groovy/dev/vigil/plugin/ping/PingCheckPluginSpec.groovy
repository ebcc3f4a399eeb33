package dev.vigil.plugin.ping

import dev.vigil.api.CheckResult
import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
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
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The PING_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host
 * from a temporary plugins directory, its probes run by the real engine with iputils ping, against
 * loopback and against an address in a network namespace that is removed and comes back.
 */
class PingCheckPluginSpec extends Specification {

    @TempDir
    Path dir

    PluginHost host
    CheckIo io
    ExecutorScheduler scheduler
    CheckEngine engine
    /** Probe results ({@code L4OK}, {@code L4TOUT}, ...) and the real server's changes ({@code UP}, {@code DOWN}), in the engine's order. */
    final List<String> events = new CopyOnWriteArrayList<>()
    final List<String> details = new CopyOnWriteArrayList<>()
    /** The weight each result carried, -1 for none. */
    final List<Integer> weights = new CopyOnWriteArrayList<>()

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
        if (netns) {
            sh("ip netns del ${netns}")
        }
        engine?.close()?.get(5, TimeUnit.SECONDS)
        scheduler?.close()
        io?.close()
        host?.close()
    }

    /** The configuration load of a PING_CHECK block with {@code lines}: the diagnostics, formatted. */
    List<String> diagnostics(String lines, String address = '127.0.0.1') {
        Path conf = dir.resolve('keepalived.conf')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server ' + address + ' 80 {\n        PING_CHECK {\n'
                + lines.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n') + '\n        }\n    }\n}\n')
        CheckerValidation.apply(ConfigLoader.load(conf, LoadOptions.defaults()), host).diagnostics()*.format()
    }

    /** Starts the engine on the PING_CHECK block {@code checker} of real server {@code address}, port 80. */
    void run(String address, String checker) {
        Path conf = dir.resolve('keepalived.conf')
        String body = checker.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server ' + address + ' 80 {\n        PING_CHECK {\n'
                + body + '\n        }\n    }\n}\n')
        def loaded = CheckerValidation.apply(ConfigLoader.load(conf, LoadOptions.defaults()), host)
        assert !loaded.hasErrors(): loaded.diagnostics()*.format()
        CheckPlan plan = CheckPlan.of(loaded.config(), host)
        assert plan.specs().size() == 1
        ProbeFactory real = new PluginProbes(host, io)
        ProbeFactory recording = { CheckSpec s ->
            ProbeLauncher l = real.create(s)
            new ProbeLauncher() {
                @Override
                void launch(CompletableFuture<CheckResult> result) {
                    def inner = new CompletableFuture<CheckResult>()
                    inner.whenComplete { CheckResult r, Throwable e ->
                        weights << (r != null && r.weight().present ? r.weight().asInt : -1)
                        details << (e != null ? e.message : r.detail())
                        events << (e != null ? 'ERROR' : r.status().name())
                        if (e != null) {
                            result.completeExceptionally(e)
                        } else {
                            result.complete(r)
                        }
                    }
                    l.launch(inner)
                }

                @Override
                void close() {
                    l.close()
                }
            }
        } as ProbeFactory
        engine = new CheckEngine(scheduler, recording,
                { String name, boolean up, String reason -> events << (up ? 'UP' : 'DOWN') } as CheckEngine.StateSink,
                { Log.Level level, String subject, String message -> } as EventLog, new SplittableRandom(1), CheckEngine.Limits.DEFAULT)
        engine.configure(plan.specs(), plan.realServers())
    }

    void await(String what, long seconds = 15, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}: ${events} ${details}"
            Thread.sleep(10)
        }
    }

    /** How many results {@code status} came in a row right before the last {@code change}, and the result before them. */
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

    /** The namespace this spec made, deleted (with its veth pair) by {@link #cleanup()}. */
    String netns

    static int sh(String command) {
        Process p = new ProcessBuilder('sh', '-c', command).redirectErrorStream(true).start()
        String out = new String(p.inputStream.readAllBytes())
        int rc = p.waitFor()
        if (rc != 0) {
            System.err.println("${command}: exit ${rc}: ${out}")
        }
        rc
    }

    /** Whether this process may make namespaces and has ip(8); says loudly when not, and fails when vigil.requireNetns demands it. */
    static boolean netnsOrSkip() {
        boolean root = new com.sun.security.auth.module.UnixSystem().uid == 0
        boolean ip = sh('command -v ip') == 0
        if (root && ip) {
            return true
        }
        String why = root ? 'ip (iproute2) is not installed' : 'it needs root'
        System.err.println("*** SKIPPING the PING_CHECK namespace spec: ${why} ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${why}")
        }
        false
    }

    def 'the zip this build made loads as plugin check-ping, providing PING_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['PING_CHECK'] as Set
        host.plugins()[0].id() == 'check-ping'
        host.plugins()[0].state() == 'STARTED'
    }

    def 'loopback answers'() {
        when:
        run('127.0.0.1', '''\
            connect_timeout 1
            delay_loop 30
            warmup 0''')
        await('a result') { events.size() >= 1 }

        then:
        events == ['L4OK']
        details[0] ==~ /echo reply from 127\.0\.0\.1 in [0-9.]+ ms/
    }

    def 'an error of ping itself is the failure\'s reason'() {
        when:
        run('127.0.0.1', '''\
            bind_if vigil-none0
            connect_timeout 1
            delay_loop 30
            retry 0
            warmup 0''')
        await('a result') { events.size() >= 2 }

        then:
        events == ['L4CON', 'DOWN']
        details[0].contains('vigil-none0')
        details[0].endsWith('(pinging 127.0.0.1)')
    }

    @Requires({ PingCheckPluginSpec.netnsOrSkip() })
    def 'an address in a namespace: up, down after fall when it is removed, up after rise when it comes back'() {
        given: 'a namespace on a veth pair, 10.97.7.1 here and 10.97.7.2 there'
        String tag = Long.toString(ProcessHandle.current().pid(), 36)
        netns = "pg-${tag}"
        assert sh("ip netns add ${netns}") == 0
        assert sh("ip link add pg${tag}a type veth peer name pg${tag}b netns ${netns}") == 0
        assert sh("ip addr add 10.97.7.1/24 dev pg${tag}a && ip link set pg${tag}a up") == 0
        assert sh("ip -n ${netns} link set lo up && ip -n ${netns} link set pg${tag}b up") == 0
        assert sh("ip -n ${netns} addr add 10.97.7.2/24 dev pg${tag}b") == 0

        when:
        run('10.97.7.2', '''\
            connect_timeout 0.5
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three replies') { events.count('L4OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /echo reply from 10\.97\.7\.2 in [0-9.]+ ms/

        when: 'the address is removed'
        assert sh("ip -n ${netns} addr del 10.97.7.2/24 dev pg${tag}b") == 0
        await('the real server down') { events.contains('DOWN') }
        List<String> results = events.subList(0, events.indexOf('DOWN')).findAll { it != 'L4OK' }

        then: 'two failed checks of two attempts each, unanswered (or refused by a neighbour that is gone)'
        results.size() == 4
        results.every { it in ['L4TOUT', 'L4CON'] }
        details.contains('no echo reply from 10.97.7.2 within 500 ms') || details.any { it.contains('Unreachable') }

        when: 'it comes back'
        assert sh("ip -n ${netns} addr add 10.97.7.2/24 dev pg${tag}b") == 0
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L4OK')[0] == 3
    }
}
