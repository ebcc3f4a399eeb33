package dev.vigil.plugin.smtp

import dev.vigil.plugin.testkit.CheckPluginSpecification
import dev.vigil.plugin.testkit.MailServers
import spock.lang.Requires

/**
 * The SMTP_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host,
 * its probes run by the real engine on the shared epoll loops against a real OpenSMTPD on
 * loopback (Debian's {@code opensmtpd}, started and stopped here as {@link MailServers.OpenSmtpd}),
 * and against listeners that speak just enough SMTP to refuse service (a 554 greeting) or
 * misbehave ({@link MailServers.Scripted}).
 */
@Requires({ MailServers.usable('SMTP_CHECK spec', MailServers.missingForOpenSmtpd()) })
class SmtpCheckPluginSpec extends CheckPluginSpecification {

    /** A real OpenSMTPD on 127.0.0.1:{@code port}, taking mail for no one; stopped by {@link #cleanup()}. */
    MailServers.OpenSmtpd openSmtpd(int port) {
        def s = new MailServers.OpenSmtpd(MailServers.LOCAL, dir, '127.0.0.1', port, [])
        listeners << s
        s
    }

    /** A {@link MailServers.Scripted} listener greeting with {@code greeting}, hanging up after the client's first line. */
    MailServers.Scripted scripted(String greeting) {
        def s = new MailServers.Scripted(greeting)
        listeners << s
        s
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
        def smtpd = openSmtpd(port)

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
        openSmtpd(port)
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [2, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'a server refusing service with a 554 greeting fails at once with its reply; nothing is sent to it'() {
        given:
        def fake = scripted('554 5.3.2 no service here\r\n')

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
        def fake = scripted('220-first line\r\n220 second line\r\n')

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
        openSmtpd(port)
        def fake = scripted('421 4.3.0 busy\r\n')

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
        openSmtpd(port)

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
        def silent = scripted('')

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
