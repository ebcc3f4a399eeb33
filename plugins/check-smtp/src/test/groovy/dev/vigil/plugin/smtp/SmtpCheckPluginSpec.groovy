package dev.vigil.plugin.smtp

import dev.vigil.plugin.testkit.CheckPluginSpecification
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The SMTP_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host,
 * its probes run by the real engine on the shared epoll loops against a real OpenSMTPD on
 * loopback (Debian's {@code opensmtpd}, started and stopped here), and against listeners that
 * speak just enough SMTP to refuse service (a 554 greeting) or misbehave.
 */
@Requires({ SmtpCheckPluginSpec.usable() })
class SmtpCheckPluginSpec extends CheckPluginSpecification {

    /** OpenSMTPD needs root (it drops to its own users) and Debian's opensmtpd. */
    static boolean usable() {
        List<String> missing = []
        if (!new File('/usr/sbin/smtpd').canExecute()) {
            missing << '/usr/sbin/smtpd (apt-get install opensmtpd)'
        }
        if (!'root'.equals(System.getProperty('user.name'))) {
            missing << 'root (OpenSMTPD starts as root)'
        }
        requireOrSkip('SMTP_CHECK spec', missing)
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

    /** Starts the engine on {@code checker} (the SMTP_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        start(keepalivedConf(block('SMTP_CHECK', checker), "127.0.0.1 ${port}"))
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
        when:
        def loaded = load(keepalivedConf(block('SMTP_CHECK', 'helo_name "two words"'), '127.0.0.1 25', '10.9.9.9 25'))

        then:
        loaded.hasErrors()
        loaded.diagnostics()*.format().any {
            it.contains(":4:23") && it.contains('helo_name "two words" (expected: a domain or address literal')
        }
    }
}
