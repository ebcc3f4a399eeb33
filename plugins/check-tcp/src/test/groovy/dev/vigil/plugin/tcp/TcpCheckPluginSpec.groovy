package dev.vigil.plugin.tcp

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
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The TCP_CHECK plugin as the daemon runs it: the zip this build made, dropped into a temporary
 * plugins directory and loaded by the real host, its probes run by the real engine on the shared
 * epoll loops against real listeners on loopback.
 */
class TcpCheckPluginSpec extends Specification {

    @TempDir
    Path dir

    PluginHost host
    CheckIo io
    ExecutorScheduler scheduler
    CheckEngine engine
    /** Probe results ({@code L4OK}, {@code L4CON}, ...) and the real server's changes ({@code UP}, {@code DOWN}), in the engine's order. */
    final List<String> events = new CopyOnWriteArrayList<>()
    final List<String> details = new CopyOnWriteArrayList<>()
    final List<Closeable> listeners = []

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

    /** A TCP listener on loopback that accepts and closes; records who connected. */
    class Listener implements Closeable {
        final ServerSocket socket
        final List<InetSocketAddress> peers = new CopyOnWriteArrayList<>()

        Listener(String address, int port = 0, int backlog = 50, boolean accepting = true) {
            socket = new ServerSocket()
            socket.reuseAddress = true
            socket.bind(new InetSocketAddress(address, port), backlog)
            listeners << this
            if (accepting) {
                Thread.startDaemon {
                    while (!socket.closed) {
                        try {
                            Socket s = socket.accept()
                            peers << (InetSocketAddress) s.remoteSocketAddress
                            s.close()
                        } catch (IOException ignored) {
                        }
                    }
                }
            }
        }

        int port() {
            socket.localPort
        }

        @Override
        void close() {
            socket.close()
        }
    }

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    /** Starts the engine on {@code checker} (the TCP_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        Path conf = dir.resolve('keepalived.conf')
        String body = checker.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server 127.0.0.1 ' + port + ' {\n        TCP_CHECK {\n'
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
                        events << (e != null ? 'ERROR' : r.status().name())
                        details << (e != null ? e.message : r.detail())
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

    void await(String what, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}: ${events}"
            Thread.sleep(10)
        }
    }

    /**
     * How many probe results {@code status} came in a row right before the last {@code change}
     * (the other changes left out), and the result before them.
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

    def 'the zip this build made loads as plugin check-tcp, providing TCP_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['TCP_CHECK'] as Set
        with(host.plugins()[0]) {
            id() == 'check-tcp'
            state() == 'STARTED'
            provider() == 'Vigil'
            keywords() == ['TCP_CHECK']
            version() == System.getProperty('vigil.pluginZip').replaceAll(/.*check-tcp-(.*)\.zip/, '$1')
        }
        host.checker('TCP_CHECK').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a listener that goes away and comes back: down after fall failed checks of retry+1 attempts, up after rise passes'() {
        given:
        def listener = new Listener('127.0.0.1')
        int port = listener.port()

        when: 'up and passing'
        run(port, '''\
            connect_timeout 1
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /connected to 127\.0\.0\.1:\d+ in [0-9.]+ ms/

        when: 'the listener goes away'
        listener.close()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each: four refusals in a row, right after a pass'
        runBefore('DOWN', 'L4CON') == [4, 'L4OK']
        details[events.indexOf('L4CON')] == "connection refused (127.0.0.1:${port})".toString()

        when: 'it comes back on the same port'
        listeners << new Listener('127.0.0.1', port)
        await('the real server up') { events.contains('UP') }

        then: 'three passes in a row bring it up'
        runBefore('UP', 'L4OK') == [3, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'connect_ip and connect_port pick what is probed; bindto and bind_port where the probe comes from'() {
        given:
        def listener = new Listener('127.0.0.1')
        int bindPort = freePort()

        when: 'the real server\'s own port is closed, connect_port names the listener'
        run(freePort(), """\
            connect_ip 127.0.0.1
            connect_port ${listener.port()}
            bindto 127.0.0.2
            bind_port ${bindPort}
            delay_loop 0.2
            warmup 0""")
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('L4CON')
        listener.peers.size() >= 3
        listener.peers.every { it.address.hostAddress == '127.0.0.2' && it.port == bindPort }
    }

    def 'a listener whose accept queue is full drops the connection: no answer within connect_timeout is L4TOUT'() {
        given: 'a listener that never accepts, its one-slot queue filled'
        def listener = new Listener('127.0.0.1', 0, 1, false)
        List<SocketChannel> fillers = []
        (1..4).each {
            def ch = SocketChannel.open()
            ch.configureBlocking(false)
            ch.connect(new InetSocketAddress('127.0.0.1', listener.port()))
            fillers << ch
        }
        Thread.sleep(200)
        listeners.addAll(fillers)

        when:
        run(listener.port(), '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('a timeout taking the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L4TOUT', 'DOWN']
        details[0] == "no connection to 127.0.0.1:${listener.port()} within 300 ms".toString()
    }
}
