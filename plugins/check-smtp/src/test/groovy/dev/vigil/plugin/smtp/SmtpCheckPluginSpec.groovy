package dev.vigil.plugin.smtp

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

import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The SMTP_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host,
 * its probes run by the real engine on the shared epoll loops against a real OpenSMTPD on
 * loopback (Debian's {@code opensmtpd}, started and stopped here), and against listeners that
 * speak just enough SMTP to refuse service (a 554 greeting) or misbehave.
 */
@Requires({ SmtpCheckPluginSpec.usable() })
class SmtpCheckPluginSpec extends Specification {

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

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    /** Starts the engine on {@code checker} (the SMTP_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        Path conf = dir.resolve('keepalived.conf')
        String body = checker.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server 127.0.0.1 ' + port + ' {\n        SMTP_CHECK {\n'
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


    /** OpenSMTPD needs root (it drops to its own users) and Debian's opensmtpd. */
    static boolean usable() {
        List<String> missing = []
        if (!new File('/usr/sbin/smtpd').canExecute()) {
            missing << '/usr/sbin/smtpd (apt-get install opensmtpd)'
        }
        if (!'root'.equals(System.getProperty('user.name'))) {
            missing << 'root (OpenSMTPD starts as root)'
        }
        if (missing.isEmpty()) {
            return true
        }
        System.err.println("*** SKIPPING SMTP_CHECK spec: ${missing.join(', ')} missing ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
        }
        false
    }

    /** A real OpenSMTPD in the foreground on 127.0.0.1:{@code port}, delivering mail for no one. */
    class OpenSmtpd implements Closeable {
        final Process process
        final Path log

        OpenSmtpd(int port) {
            Path conf = dir.resolve('smtpd.conf')
            Files.writeString(conf, "listen on 127.0.0.1 port ${port}\naction \"local\" mbox\n"
                    + "match from local for domain \"vigil.test\" action \"local\"\n")
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString('rw-------'))
            log = dir.resolve("smtpd-${System.nanoTime()}.log")
            process = new ProcessBuilder('/usr/sbin/smtpd', '-d', '-f', conf.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start()
            listeners << this
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
            while (true) {
                try {
                    new Socket('127.0.0.1', port).close()
                    break
                } catch (IOException ignored) {
                    assert process.alive: "smtpd exited: ${Files.readString(log)}"
                    assert System.nanoTime() < deadline: "smtpd did not listen on ${port}: ${Files.readString(log)}"
                    Thread.sleep(50)
                }
            }
        }

        @Override
        void close() {
            if (process.alive) {
                process.destroy()
                assert process.waitFor(10, TimeUnit.SECONDS): 'smtpd did not stop'
            }
        }
    }

    /** A listener that greets every connection with {@code greeting} and hangs up after the client's first line. */
    class Scripted implements Closeable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName('127.0.0.1'))
        final List<String> heard = new CopyOnWriteArrayList<>()

        Scripted(String greeting) {
            listeners << this
            Thread.startDaemon {
                while (!socket.closed) {
                    try {
                        socket.accept().withCloseable { Socket s ->
                            s.soTimeout = 2000
                            s.outputStream.write(greeting.getBytes('ISO-8859-1'))
                            s.outputStream.flush()
                            def line = new BufferedReader(new InputStreamReader(s.inputStream, 'ISO-8859-1')).readLine()
                            if (line != null) {
                                heard << line
                            }
                        }
                    } catch (IOException ignored) {
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

    def 'the zip this build made loads as plugin check-smtp, providing SMTP_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['SMTP_CHECK'] as Set
        with(host.plugins()[0]) {
            id() == 'check-smtp'
            state() == 'STARTED'
            keywords() == ['SMTP_CHECK']
        }
        host.checker('SMTP_CHECK').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a real OpenSMTPD stopped and started again: down after fall failed checks, up after rise passes'() {
        given:
        int port = freePort()
        def smtpd = new OpenSmtpd(port)

        when: 'up and passing'
        run(port, '''\
            helo_name probe.vigil.test
            connect_timeout 2
            delay_loop 0.3
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 2''')
        await('two passes') { events.count('L7OK') >= 2 }

        then: 'the greeting and the HELO reply are OpenSMTPD\'s'
        !events.contains('DOWN')
        details[0] ==~ /SMTP greeting 220 ".*ESMTP OpenSMTPD", HELO answered 250 ".*Hello probe\.vigil\.test \[127\.0\.0\.1\].*" from 127\.0\.0\.1:\d+ in [0-9.]+ ms/

        when: 'smtpd stops'
        smtpd.close()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each, right after a pass'
        runBefore('DOWN', 'L4CON') == [4, 'L7OK']
        details[events.indexOf('L4CON')] == "connection refused (127.0.0.1:${port})".toString()

        when: 'it starts again on the same port'
        new OpenSmtpd(port)
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [2, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'a server refusing service with a 554 greeting fails at once with its reply; nothing is sent to it'() {
        given:
        def fake = new Scripted('554 5.3.2 no service here\r\n')

        when:
        run(fake.port(), '''\
            connect_timeout 2
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L7RSP', 'DOWN']
        details[0] == 'SMTP greeting 554 "5.3.2 no service here" (expected 220)'
        fake.heard.isEmpty()
    }

    def 'a multi-line greeting is read to its end before HELO; a server hanging up on HELO fails'() {
        given:
        def fake = new Scripted('220-first line\r\n220 second line\r\n')

        when:
        run(fake.port(), '''\
            helo_name probe.vigil.test
            connect_timeout 2
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then: 'HELO was sent once the greeting ended; the listener hung up instead of answering'
        fake.heard[0] == 'HELO probe.vigil.test'
        events[0] == 'L7RSP'
        details[0] == 'connection closed by the server while waiting for the reply to HELO'
    }

    def 'host blocks: every host is probed and all must pass; the failing one is named'() {
        given:
        int port = freePort()
        new OpenSmtpd(port)
        def fake = new Scripted('421 4.3.0 busy\r\n')

        when:
        run(port, """\
            connect_timeout 2
            delay_loop 0.5
            retry 0
            warmup 0
            host {
                connect_ip 127.0.0.1
            }
            host {
                connect_port ${fake.port()}
            }""")
        await('the real server down') { events.contains('DOWN') }

        then:
        events[0] == 'L7RSP'
        details[0] == "host 127.0.0.1:${fake.port()}: SMTP greeting 421 \"4.3.0 busy\" (expected 220)".toString()
    }

    def 'host blocks that all answer pass together'() {
        given:
        int port = freePort()
        new OpenSmtpd(port)

        when:
        run(freePort(), """\
            connect_timeout 2
            delay_loop 0.5
            warmup 0
            host {
                connect_port ${port}
            }
            host {
                connect_ip 127.0.0.1
                connect_port ${port}
            }""")
        await('a result') { !events.isEmpty() }

        then:
        events[0] == 'L7OK'
        details[0] ==~ /all 2 hosts answered: SMTP greeting 220 ".*OpenSMTPD".*/
    }

    def 'a server that accepts but never greets: L7TOUT when connect_timeout runs out, naming the step'() {
        given:
        def silent = new Scripted('')

        when:
        run(silent.port(), '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L7TOUT', 'DOWN']
        details[0] == "no complete SMTP dialogue with 127.0.0.1:${silent.port()} within 300 ms (while waiting for the greeting)".toString()
    }

    def 'a helo_name that would put a space on the command line is refused at its location'() {
        given:
        Path conf = dir.resolve('bad.conf')
        Files.writeString(conf, 'virtual_server 10.9.9.9 25 {\n    real_server 127.0.0.1 25 {\n        SMTP_CHECK {\n'
                + '            helo_name "two words"\n        }\n    }\n}\n')

        when:
        def loaded = CheckerValidation.apply(ConfigLoader.load(conf, LoadOptions.defaults()), host)

        then:
        loaded.hasErrors()
        loaded.diagnostics()*.format().any {
            it.contains(":4:23") && it.contains('helo_name "two words" (expected: a domain or address literal')
        }
    }
}
