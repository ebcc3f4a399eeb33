package dev.vigil.plugin.mail

import dev.vigil.api.ConfigBlock
import dev.vigil.api.Notifier
import dev.vigil.api.NotifierContext
import dev.vigil.api.NotifierEvent
import dev.vigil.plugin.testkit.CheckPluginSpecification
import dev.vigil.plugin.testkit.MailServers
import org.pf4j.DefaultPluginManager
import org.pf4j.PluginState
import org.pf4j.RuntimeMode
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Clock
import java.time.Duration
import java.time.Instant
import java.time.ZoneOffset
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The {@code mail} notifier as the daemon runs it: the zip this build made, loaded by PF4J from a
 * plugins directory of its own; its blocks read by the daemon's configuration reader; each event
 * handed to its sink the way the host's delivery lane does, with a delivery timeout; the mail
 * received by a real server (OpenSMTPD, or aiosmtpd where TLS is needed: see {@link MailServers})
 * and read back from its mailbox: subject, sender, recipients and body.
 */
@Requires({ MailNotifierPluginSpec.usable() })
class MailNotifierPluginSpec extends Specification {

    static boolean usable() {
        MailServers.usable('mail notifier plugin spec')
    }

    static final Instant NOW = Instant.parse('2026-05-04T10:15:30Z')

    @Shared
    @TempDir
    Path shared
    @Shared
    DefaultPluginManager plugins
    @Shared
    Notifier notifier
    @Shared
    List<Path> trusted
    @Shared
    List<Path> stranger

    @TempDir
    Path dir
    final List<Closeable> servers = []
    final List<String> logged = new CopyOnWriteArrayList<>()

    def setupSpec() {
        Path zip = Path.of(System.getProperty('vigil.pluginZip'))
        assert Files.exists(zip): "the build did not make ${zip}"
        Path pluginsDir = Files.createDirectories(shared.resolve('plugins'))
        Files.copy(zip, pluginsDir.resolve(zip.fileName))
        plugins = new DefaultPluginManager(pluginsDir) {
            @Override
            RuntimeMode getRuntimeMode() {
                RuntimeMode.DEPLOYMENT
            }
        }
        plugins.loadPlugins()
        plugins.startPlugins()
        // The plugin's own extensions: its classes are on this spec's class path too.
        notifier = plugins.getExtensions(Notifier, 'notify-mail')[0]
        // The submission server's certificate, for 127.0.0.1 and mail.vigil.test; and another one.
        trusted = MailServers.certificate(shared, 'mail.vigil.test', 'DNS:mail.vigil.test,IP:127.0.0.1')
        stranger = MailServers.certificate(shared, 'other.vigil.test', 'DNS:other.vigil.test')
    }

    def cleanupSpec() {
        // One by one: PF4J's stopPlugins() modifies the list it walks.
        plugins?.stopPlugin('notify-mail')
        plugins?.unloadPlugin('notify-mail')
    }

    def cleanup() {
        servers*.close()
    }

    /** What the host gives a sink: the block, node lb1, a fixed clock, the timeout, a logger recording into {@link #logged}. */
    NotifierContext context(ConfigBlock block, Duration timeout = Duration.ofSeconds(10)) {
        System.Logger logger = new System.Logger() {
            String getName() { 'ops-mail' }

            boolean isLoggable(System.Logger.Level level) { true }

            void log(System.Logger.Level level, ResourceBundle bundle, String msg, Throwable thrown) { logged << "${level} ${msg}".toString() }

            void log(System.Logger.Level level, ResourceBundle bundle, String format, Object... params) { logged << "${level} ${format}".toString() }
        }
        [name           : { 'ops-mail' },
         config         : { block },
         node           : { 'lb1' },
         deliveryTimeout: { timeout },
         clock          : { Clock.fixed(NOW, ZoneOffset.UTC) },
         logger         : { logger }] as NotifierContext
    }

    /** The sink of a block of {@code lines}, after validate found no error in it. */
    Notifier.Sink sink(String lines, Duration timeout = Duration.ofSeconds(10)) {
        ConfigBlock block = NotifierBlocks.block(dir, lines)
        def problems = notifier.validate(block)
        assert problems.findAll { it.severity().name() == 'ERROR' }.isEmpty(): problems
        notifier.create(context(block, timeout))
    }

    /**
     * Whether {@code e} is a failed delivery as the plugin reports it: an {@link SmtpException} of
     * the plugin's class loader (a class of the same name as this spec's, not the same class).
     */
    static boolean smtpFailure(IOException e) {
        e.class.name == SmtpException.name && e.class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    static NotifierEvent failover() {
        new NotifierEvent(NotifierEvent.VRRP_INSTANCE, 'lb1', NOW,
                [instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: '150', cause: 'master down timer'])
    }

    OpenSmtpdServer smtpd(List<String> recipients = ['ops@vigil.test', 'dev@vigil.test']) {
        int port = CheckPluginSpecification.freePort()
        def s = new MailServers.OpenSmtpd(MailServers.LOCAL, dir, '127.0.0.1', port, recipients)
        servers << s
        new OpenSmtpdServer(server: s, port: port)
    }

    static class OpenSmtpdServer {
        MailServers.OpenSmtpd server
        int port
    }

    /** The submission server: STARTTLS with {@link #trusted}, AUTH for alice, mail for ops@vigil.test alone; {@code hidden} not offered. */
    MailServers.Recorder submission(int port, List<String> hidden = []) {
        def s = new MailServers.Recorder(MailServers.LOCAL, dir, '127.0.0.1', port, trusted, 'alice', 's3cret',
                ['ops@vigil.test'], hidden)
        servers << s
        s
    }

    def 'the zip this build made loads as plugin notify-mail, providing the mail type'() {
        expect:
        with(plugins.getPlugin('notify-mail')) {
            pluginState == PluginState.STARTED
            descriptor.pluginDescription.startsWith('mail: ')
        }
        notifier.types() == ['mail'] as Set
        notifier.class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a failover mailed through a real OpenSMTPD: sender, recipients, subject, headers and body as received'() {
        given:
        def smtpd = smtpd()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            smtp_helo_name lb1.vigil.test
            notification_email {
                ops@vigil.test
                Dev team <dev@vigil.test>
            }
            notification_email_from vigil@lb1.vigil.test""")

        when:
        sink.deliver(failover())
        def ops = smtpd.server.awaitMailbox('ops@vigil.test')
        def dev = smtpd.server.awaitMailbox('dev@vigil.test')

        then: 'each recipient got one message; the envelope is the configured one (OpenSMTPD records it in Return-Path and Delivered-To)'
        ops.size() == 1 && dev.size() == 1
        ops[0].header('Return-Path') == '<vigil@lb1.vigil.test>'
        ops[0].header('Delivered-To') == 'ops@vigil.test'
        dev[0].header('Delivered-To') == 'dev@vigil.test'
        ops[0].header('Received') ==~ /from lb1\.vigil\.test \(localhost \[127\.0\.0\.1]\) by .* \(OpenSMTPD\) with ESMTP id .*/

        and: "keepalived's subject and body line, the headers, the details"
        with(ops[0]) {
            header('Subject') == '[lb1] VRRP Instance VI_1 - Entering MASTER state'
            header('From') == 'vigil@lb1.vigil.test'
            header('To') == 'ops@vigil.test, Dev team <dev@vigil.test>'
            header('Date') == 'Mon, 4 May 2026 10:15:30 +0000'
            header('Message-ID') ==~ /<\d+\.[0-9a-f]+\.vigil@lb1\.vigil\.test>/
            header('X-Mailer') == 'Vigil'
            header('Content-Type') == 'text/plain; charset=UTF-8'
            body.readLines() == ['=> VRRP Instance is now owning VRRP VIPs <=', '', 'event: vrrp.instance', 'node: lb1',
                                 'time: 2026-05-04T10:15:30Z', 'instance: VI_1', 'from: BACKUP', 'to: MASTER', 'priority: 150',
                                 'cause: master down timer']
        }
        dev[0].body == ops[0].body

        and: 'the sink says so in the log'
        logged == ['INFO mailed "[lb1] VRRP Instance VI_1 - Entering MASTER state" to ops@vigil.test, dev@vigil.test through 127.0.0.1:' + smtpd.port]
    }

    def 'UTF-8 and a line that starts with a period arrive intact: encoded subject, 8BITMIME body, dot-stuffing undone by the server'() {
        given:
        def smtpd = smtpd()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email ops@vigil.test""")
        def event = new NotifierEvent(NotifierEvent.POLICY_ACTION, 'lb1', NOW,
                [policy: 'drain-zürich', revision: '4', action: 'drain', target: '[10.0.0.2]:tcp:80', reason: 'first line\n.\n..second'])

        when:
        sink.deliver(event)
        def mail = smtpd.server.awaitMailbox('ops@vigil.test')[0]

        then:
        MailMessageSpec.decodeWords(mail.header('Subject')) == '[lb1] Policy drain-zürich - drain'
        mail.header('Content-Transfer-Encoding') == '8bit'
        mail.body.readLines()[0] == '=> Policy drain-zürich (revision 4) did drain on [10.0.0.2]:tcp:80 <='
        mail.body.readLines().takeRight(3) == ['reason: first line', '.', '..second']
        mail.header('Return-Path') ==~ /<keepalived@.+>/
    }

    def 'a refused recipient is reported with the reply; the others still get the mail'() {
        given:
        def smtpd = smtpd()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email ops@vigil.test nobody@vigil.test dev@vigil.test""")

        when:
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message ==~ /SMTP server 127\.0\.0\.1:\d+ refused nobody@vigil\.test: 5\d\d ".*<nobody@vigil\.test>"; "\[lb1] VRRP Instance VI_1 - Entering MASTER state" was mailed to ops@vigil\.test, dev@vigil\.test/
        smtpd.server.awaitMailbox('ops@vigil.test').size() == 1
        smtpd.server.awaitMailbox('dev@vigil.test').size() == 1
    }

    def 'every recipient refused: no message is sent, and the replies are the reason'() {
        given:
        def smtpd = smtpd()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email nobody@vigil.test""")

        when:
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message ==~ /SMTP server 127\.0\.0\.1:\d+ refused every recipient \(nobody@vigil\.test: 5\d\d ".*"\)/
        !smtpd.server.logText().contains('smtp message')
    }

    def 'starttls required against a server without STARTTLS: fails before the envelope, nothing sent'() {
        given:
        def smtpd = smtpd()
        def required = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email ops@vigil.test
            starttls required""")

        when:
        required.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message ==~ /SMTP server 127\.0\.0\.1:\d+ does not offer STARTTLS \(starttls required\); it offers 8BITMIME, .*/
        !smtpd.server.logText().contains('MAIL FROM')
        !smtpd.server.logText().contains('smtp message')

        when: 'starttls yes goes on in the clear'
        def opportunistic = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email ops@vigil.test
            starttls yes""")
        opportunistic.deliver(failover())

        then:
        smtpd.server.awaitMailbox('ops@vigil.test').size() == 1
    }

    def 'AUTH over a connection without TLS: the password is not sent'() {
        given:
        def smtpd = smtpd()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${smtpd.port}
            notification_email ops@vigil.test
            starttls yes
            smtp_user alice
            smtp_password s3cret""")

        when:
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message ==~ /SMTP server 127\.0\.0\.1:\d+ offers no STARTTLS, and the password of smtp_user is not sent in the clear \(smtp_auth_cleartext no\)/
        !smtpd.server.logText().contains('AUTH')
    }

    def 'the server down: connection refused, at once, naming the server'() {
        given:
        int port = CheckPluginSpecification.freePort()
        def sink = sink("""\
            smtp_server 127.0.0.1 ${port}
            notification_email ops@vigil.test""")

        when:
        long t0 = System.nanoTime()
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message == "SMTP server 127.0.0.1:${port}: cannot connect to 127.0.0.1: connection refused".toString()
        Duration.ofNanos(System.nanoTime() - t0) < Duration.ofSeconds(2)
    }

    def 'a server that accepts and never answers costs the delivery timeout, not smtp_connect_timeout'() {
        given:
        def silent = new ServerSocket(0, 5, InetAddress.getByName('127.0.0.1'))
        servers << silent
        def sink = sink("""\
            smtp_server 127.0.0.1 ${silent.localPort}
            notification_email ops@vigil.test
            smtp_connect_timeout 30""", Duration.ofMillis(800))

        when:
        long t0 = System.nanoTime()
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        Duration took = Duration.ofNanos(System.nanoTime() - t0)
        e.message ==~ /SMTP server 127\.0\.0\.1:\d+ did not answer the greeting within \d+ ms \(the delivery timeout\)/
        took >= Duration.ofMillis(700) && took < Duration.ofMillis(1500)
    }

    def 'STARTTLS with the server certificate verified against tls_ca, then AUTH PLAIN: delivered over TLS'() {
        given:
        int port = CheckPluginSpecification.freePort()
        def server = submission(port)
        def sink = sink("""\
            smtp_server 127.0.0.1 ${port}
            smtp_helo_name lb1.vigil.test
            notification_email ops@vigil.test
            notification_email_from "Vigil lb1 <vigil@lb1.vigil.test>"
            starttls required
            tls_ca ${trusted[0]}
            smtp_user alice
            smtp_password s3cret""")
        def event = new NotifierEvent(NotifierEvent.REAL_SERVER_DOWN, 'lb1', NOW, [virtual_server: '[10.0.0.1]:tcp:80',
                real_server: '[10.0.0.2]:tcp:80', from: 'UP', to: 'DOWN', reason: 'connexion refusée (10.0.0.2:80)'])

        when:
        sink.deliver(event)
        def got = server.awaitMessages()[0]

        then: 'the envelope, over TLS, as alice'
        got.tls == 'yes'
        got.auth == 'yes'
        got.login == 'alice'
        got.helo == 'lb1.vigil.test'
        got.mail_from == 'vigil@lb1.vigil.test'
        got.rcpt_to == ['ops@vigil.test']
        got.mail_option.contains('BODY=8BITMIME')

        and: 'the message'
        with(got.message as MailServers.Received) {
            header('Subject') == '[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN'
            header('From') == 'Vigil lb1 <vigil@lb1.vigil.test>'
            header('To') == 'ops@vigil.test'
            names() == ['From', 'To', 'Subject', 'Date', 'Message-ID', 'X-Mailer', 'MIME-Version', 'Content-Type',
                        'Content-Transfer-Encoding']
            body.readLines()[0] == '=> CHECK failed on service : connexion refusée (10.0.0.2:80) <='
        }
        logged == ["INFO mailed \"[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN\" to ops@vigil.test through 127.0.0.1:${port} (TLS, AUTH PLAIN)".toString()]
    }

    def 'AUTH LOGIN when the server offers no PLAIN'() {
        given:
        int port = CheckPluginSpecification.freePort()
        def server = submission(port, ['PLAIN'])
        def sink = sink("""\
            smtp_server 127.0.0.1 ${port}
            notification_email ops@vigil.test
            starttls yes
            tls_ca ${trusted[0]}
            smtp_user alice
            smtp_password s3cret""")

        when:
        sink.deliver(failover())

        then:
        server.awaitMessages()[0].login == 'alice'
        logged[0].endsWith('(TLS, AUTH LOGIN)')
    }

    def "a wrong password: the server's refusal is the reason, the password is not in it, nothing is sent"() {
        given:
        int port = CheckPluginSpecification.freePort()
        def server = submission(port)
        def sink = sink("""\
            smtp_server 127.0.0.1 ${port}
            notification_email ops@vigil.test
            starttls required
            tls_ca ${trusted[0]}
            smtp_user alice
            smtp_password wrong-one""")

        when:
        sink.deliver(failover())

        then:
        def e = thrown(IOException)
        smtpFailure(e)
        e.message == "SMTP server 127.0.0.1:${port} refused AUTH PLAIN for alice: 535 \"5.7.8 Authentication credentials invalid\" (expected 235)".toString()
        !e.message.contains('wrong-one')
        server.empty()
    }

    def 'certificate checks: an untrusted certificate or another name fails the handshake; tls_verify no takes any'() {
        given:
        int port = CheckPluginSpecification.freePort()
        def server = submission(port)
        String base = """\
            notification_email ops@vigil.test
            starttls required"""

        when: 'the JDK trust store does not know the self-signed certificate'
        sink("smtp_server 127.0.0.1 ${port}\n${base}").deliver(failover())

        then:
        def untrusted = thrown(IOException)
        smtpFailure(untrusted)
        untrusted.message == ("SMTP server 127.0.0.1:${port}: TLS handshake failed: its certificate is not trusted"
                + " (tls_ca, else the JDK's trust store): unable to find valid certification path to requested target").toString()

        when: 'trusted, but the name is not the certificate\'s (localhost; it names mail.vigil.test and 127.0.0.1)'
        sink("smtp_server localhost ${port}\n${base}\ntls_ca ${trusted[0]}").deliver(failover())

        then:
        def wrongName = thrown(IOException)
        smtpFailure(wrongName)
        wrongName.message == ("SMTP server localhost:${port}: TLS handshake failed: its certificate does not name it:"
                + ' No subject alternative DNS name matching localhost found.').toString()

        when: 'another CA'
        sink("smtp_server 127.0.0.1 ${port}\n${base}\ntls_ca ${stranger[0]}").deliver(failover())

        then:
        def other = thrown(IOException)
        smtpFailure(other)
        other.message.endsWith('TLS handshake failed: its certificate is not trusted (tls_ca, else the JDK\'s trust store):'
                + ' unable to find valid certification path to requested target')
        !other.message.contains('PKIX') && !other.message.contains('sun.security')
        server.empty()

        when: 'tls_verify no: encrypted, unverified'
        sink("smtp_server 127.0.0.1 ${port}\n${base}\ntls_verify no").deliver(failover())

        then:
        server.awaitMessages()[0].tls == 'yes'
    }

    /**
     * A listener speaking just enough SMTP for what no real server here does: it refuses EHLO
     * (as an RFC 821 server would) and offers no 8BITMIME. Records every line it hears.
     */
    class OldServer implements Closeable {
        final ServerSocket socket = new ServerSocket(0, 5, InetAddress.getByName('127.0.0.1'))
        final List<String> heard = new CopyOnWriteArrayList<>()

        OldServer() {
            Thread.startDaemon {
                socket.accept().withCloseable { Socket s ->
                    s.soTimeout = 5000
                    def reader = new BufferedReader(new InputStreamReader(s.inputStream, 'ISO-8859-1'))
                    def out = s.outputStream
                    def say = { String line -> out.write((line + '\r\n').getBytes('ISO-8859-1')); out.flush() }
                    say('220-old.vigil.test greets you')
                    say('220 in two lines')
                    String line
                    while ((line = reader.readLine()) != null) {
                        heard << line
                        if (line.startsWith('EHLO')) {
                            say('502 5.5.1 EHLO not implemented')
                        } else if (line == 'DATA') {
                            say('354 go ahead')
                            while ((line = reader.readLine()) != '.') {
                                heard << line
                            }
                            heard << line
                            say('250 2.0.0 taken')
                        } else if (line == 'QUIT') {
                            say('221 2.0.0 bye')
                            break
                        } else {
                            say('250 2.0.0 ok')
                        }
                    }
                }
            }
        }

        @Override
        void close() {
            socket.close()
        }
    }

    def 'a server that refuses EHLO gets HELO; without 8BITMIME a UTF-8 body goes as base64'() {
        given:
        def old = new OldServer()
        servers << old
        def sink = sink("""\
            smtp_server 127.0.0.1 ${old.socket.localPort}
            smtp_helo_name lb1.vigil.test
            notification_email ops@vigil.test
            notification_email_from vigil@lb1.vigil.test""")
        def event = new NotifierEvent(NotifierEvent.TRACKER, 'lb1', NOW, [tracker: 'chk_café', from: 'OK', to: 'FAULT', instances: 'VI_1'])

        when:
        sink.deliver(event)
        MailServers.await('QUIT') { old.heard.contains('QUIT') }
        int data = old.heard.indexOf('DATA')
        def message = new MailServers.Received(old.heard.subList(data + 1, old.heard.indexOf('.')).join('\r\n').getBytes('ISO-8859-1'))

        then: 'the commands, in order, after the two-line greeting was read to its end'
        old.heard[0..<data] == ['EHLO lb1.vigil.test', 'HELO lb1.vigil.test', 'MAIL FROM:<vigil@lb1.vigil.test>', 'RCPT TO:<ops@vigil.test>']
        old.heard.last() == 'QUIT'

        and:
        message.header('Content-Transfer-Encoding') == 'base64'
        new String(Base64.mimeDecoder.decode(message.body), 'UTF-8').readLines()[0] == '=> Tracker chk_café changed from OK to FAULT <='
    }
}
