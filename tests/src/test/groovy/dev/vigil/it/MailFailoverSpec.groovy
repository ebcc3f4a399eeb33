package dev.vigil.it

import dev.vigil.plugin.testkit.MailServers
import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * The mail notifier in running daemons: two Vigil nodes and a mail host on one bridge, each in its
 * own network namespace. The master is stopped (SIGTERM) and the new master's mail is read back
 * from real servers on the mail host:
 * <ul>
 *   <li>with keepalived's own mail settings ({@code smtp_server}, {@code notification_email},
 *       {@code notification_email_from} in {@code global_defs}, {@code smtp_alert} on the
 *       instance), through Debian's OpenSMTPD into a maildir per recipient;</li>
 *   <li>with a {@code vigil_notifier} block of type {@code mail} asking for STARTTLS and AUTH,
 *       through aiosmtpd with a certificate made here for the mail host's address;</li>
 *   <li>with keepalived's settings naming a port where nothing listens: the VIP moves as fast as with
 *       the live server, and the failed deliveries are logged and counted while the daemon goes on.</li>
 * </ul>
 *
 * <pre>
 *   n1 10.78.17.1 (node-1, MASTER, priority 100)    n2 10.78.17.2 (node-2, BACKUP, priority 90)
 *   mx 10.78.17.25 (OpenSMTPD on 25, aiosmtpd with STARTTLS and AUTH on 587, nothing on 2525)
 * </pre>
 */
@Stepwise
@Requires({ NetnsLab.usable() && MailServers.usable('mail spec') })
class MailFailoverSpec extends Specification {

    static final String VIP = '10.78.17.50'
    static final String MX = '10.78.17.25'
    static final int SMTP = 25
    static final int SUBMISSION = 587
    static final int DEAD = 2525
    static final List<String> RECIPIENTS = ['ops@vigil.test', 'dev@vigil.test']
    static final String USER = 'alice'
    static final String PASSWORD = 's3cret'
    // RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s, the hand-over time after a priority-0 advert.
    static final Duration SKEW_90 = Duration.ofNanos((long) ((256 - 90) / 256.0 * 1e9))
    static final Duration SLACK = Duration.ofMillis(250)
    static final String TAKE_OVER = '[node-2] VRRP Instance VI_1 - Entering MASTER state'
    static final String OWNING = '=> VRRP Instance is now owning VRRP VIPs <='
    static final String STOPPING = '[node-1] VRRP Instance VI_1 - Stopping'

    @Shared NetnsLab lab
    @Shared MailServers.OpenSmtpd smtpd
    @Shared MailServers.Recorder submission
    @Shared List<Path> certificate
    @Shared VigilNode n1
    @Shared VigilNode n2
    @Shared Duration liveMove

    /** keepalived's mail settings in {@code global_defs}, {@code smtp_alert} on the instance. */
    static String keepalivedMail(String routerId, String state, int priority, int port) {
        """\
        global_defs {
           router_id ${routerId}
           vrrp_mcast_group4 224.24.24.20
           notification_email {
               ${RECIPIENTS[0]}
               ${RECIPIENTS[1]}
           }
           notification_email_from vigil@${routerId}.vigil.test
           smtp_server ${MX} ${port}
           smtp_helo_name ${routerId}.vigil.test
           smtp_connect_timeout 10
        }
        """.stripIndent() + instance(state, priority, 'smtp_alert')
    }

    /** A {@code vigil_notifier} block of type mail with STARTTLS required and AUTH; no keepalived mail settings. */
    String vigilMail(String routerId, String state, int priority) {
        """\
        global_defs {
           router_id ${routerId}
           vrrp_mcast_group4 224.24.24.20
        }
        vigil_notifier ops-mail {
            type mail
            smtp_server ${MX} ${SUBMISSION}
            smtp_helo_name ${routerId}.vigil.test
            notification_email ${RECIPIENTS[0]} ${RECIPIENTS[1]}
            notification_email_from "Vigil ${routerId} <vigil@${routerId}.vigil.test>"
            starttls required
            tls_ca ${certificate[0]}
            smtp_user ${USER}
            smtp_password ${PASSWORD}
            timeout 20
        }
        """.stripIndent() + instance(state, priority, '')
    }

    static String instance(String state, int priority, String extra) {
        """
        vrrp_instance VI_1 {
            state ${state}
            interface eth0
            virtual_router_id 62
            priority ${priority}
            advert_int 1
            ${extra}
            authentication {
                auth_type PASS
                auth_pass 1111
            }
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        """.stripIndent()
    }

    /**
     * Starts node-1 (MASTER) and, once it holds the VIP, node-2 (BACKUP): node-2 then hears
     * node-1's adverts from its start and is never MASTER before the hand-over.
     */
    void startBoth(Closure<String> config) {
        Instant started = Instant.now()
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100)).start()
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30), started)
        NetnsLab.waitFor(Duration.ofSeconds(10), 'VIP on n1') { lab.hasAddress('n1', VIP) }
        n2 = new VigilNode(lab, 'n2', config('node-2', 'BACKUP', 90)).start()
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(30), started)
    }

    /** Stops both nodes. */
    void stopBoth() {
        [n1, n2].each { if (it?.process?.alive) { it.signal('TERM') } }
        [n1, n2].each { if (it?.process) { it.awaitExit(Duration.ofSeconds(20)) } }
    }

    /** Sends SIGTERM to n1 and measures until the VIP is on n2: polled every few ms, from the signal. */
    Duration handOver() {
        Instant stopped = Instant.now()
        n1.signal('TERM')
        NetnsLab.waitFor(Duration.ofSeconds(10), 'VIP on n2') { lab.hasAddress('n2', VIP) }
        Duration took = Duration.between(stopped, Instant.now())
        n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), stopped)
        assert n1.awaitExit(Duration.ofSeconds(20)) == 0
        took
    }

    /** {@code vigil status} of the daemon on {@code host}. */
    Map status(String host) {
        Map r = lab.vigil(host, 'status')
        assert r.exit == 0: "vigil status on ${host}: ${r.out}${r.err}"
        new JsonSlurper().parseText(r.out as String) as Map
    }

    /** The take-over mails in {@code recipient}'s maildir. */
    List<MailServers.Received> takeOvers(String recipient) {
        smtpd.mailbox(recipient).findAll { it.header('Subject') == TAKE_OVER }
    }

    /** The line of {@code node}'s log saying the take-over was mailed, or null. */
    static String mailedLine(VigilNode node) {
        node.logText().readLines().find { it.contains("mailed \"${TAKE_OVER}\"") }
    }

    String logs() {
        "--- n1 log:\n${n1?.logText()}\n--- n2 log:\n${n2?.logText()}\n--- smtpd log:\n${smtpd?.logText()}" +
                "\n--- submission log:\n${submission?.logText()}"
    }

    def setupSpec() {
        lab = new NetnsLab()
                .host('n1', '10.78.17.1/24')
                .host('n2', '10.78.17.2/24')
                .host('mx', MX + '/24')
        certificate = MailServers.certificate(lab.dir, 'mx', "IP:${MX}")
        smtpd = new MailServers.OpenSmtpd(lab.place('mx'), lab.dir, MX, SMTP, RECIPIENTS)
        submission = new MailServers.Recorder(lab.place('mx'), lab.dir, MX, SUBMISSION, certificate, USER, PASSWORD)
    }

    def cleanupSpec() {
        [n1, n2].each { node -> if (node?.process?.alive) { System.err.println("--- ${node.host} log:\n${node.logText()}") } }
        [n1, n2].each { node -> if (node?.process?.alive) { node.signal('KILL') } }
        lab?.close()
    }

    def 'with keepalived\'s mail settings, the new master\'s mail reaches both recipients through OpenSMTPD, once each'() {
        given:
        startBoth { String id, String state, int prio -> keepalivedMail(id, state, prio, SMTP) }

        when:
        Instant signalled = Instant.now()
        liveMove = handOver()
        println "VIP move with a live SMTP server: ${liveMove.toMillis()} ms (skew time ${SKEW_90.toMillis()} ms)"
        NetnsLab.waitFor(Duration.ofSeconds(30), "the take-over and node-1's stop mailed to both recipients\n${-> logs()}") {
            RECIPIENTS.every { r -> takeOvers(r) && smtpd.mailbox(r)*.header('Subject').contains(STOPPING) }
        }
        // Time for a second copy, were one on its way.
        Thread.sleep(2000)
        MailServers.Received ops = takeOvers('ops@vigil.test')[0]
        MailServers.Received dev = takeOvers('dev@vigil.test')[0]

        then: 'the take-over came within the skew time'
        liveMove < SKEW_90 + SLACK

        and: 'one mail per recipient'
        RECIPIENTS.collect { takeOvers(it).size() } == [1, 1]

        and: 'the envelope: the configured sender, each recipient (OpenSMTPD writes them into Return-Path and Delivered-To)'
        [ops, dev]*.header('Return-Path') == ['<vigil@node-2.vigil.test>'] * 2
        ops.header('Delivered-To') == 'ops@vigil.test'
        dev.header('Delivered-To') == 'dev@vigil.test'
        ops.header('Received') ==~ /from node-2\.vigil\.test \(.*\[10\.78\.17\.2]\) by .* \(OpenSMTPD\) with ESMTP id .*/

        and: 'the message: keepalived\'s subject and first body line, the sender and both recipients in its header'
        [ops, dev].every { m ->
            m.header('From') == 'vigil@node-2.vigil.test' &&
                    m.header('To') == 'ops@vigil.test, dev@vigil.test' &&
                    m.body.readLines()[0] == OWNING
        }
        dev.body == ops.body

        and: 'the event\'s fields after it'
        Map facts = ops.facts()
        facts.subMap('event', 'node', 'instance', 'from', 'to', 'priority') ==
                [event: 'vrrp.instance', node: 'node-2', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: '90']
        Instant.parse(facts.time).isAfter(signalled)

        and: 'the stopped master said it was stopping, once; the nodes mailed only what smtp_alert asks for (VRRP instance events)'
        RECIPIENTS.every { r -> smtpd.mailbox(r).count { it.header('Subject') == STOPPING } == 1 }
        RECIPIENTS.every { r -> smtpd.mailbox(r).every { it.facts().event == 'vrrp.instance' } }
    }

    def 'with a vigil_notifier mail block, the new master\'s mail arrives over STARTTLS with AUTH'() {
        given: 'n2 stopped too, then both restarted with the block and no keepalived mail settings'
        stopBoth()
        int before = submission.messages().size()
        startBoth(this.&vigilMail)

        when:
        Instant signalled = Instant.now()
        handOver()
        NetnsLab.waitFor(Duration.ofSeconds(40), "the take-over at the submission server\n${-> logs()}") {
            submission.messages().any { it.message.header('Subject') == TAKE_OVER }
        }
        NetnsLab.waitFor(Duration.ofSeconds(10), "the delivery logged\n${-> logs()}") { mailedLine(n2) }
        Thread.sleep(2000)
        List<Map> got = submission.messages().findAll { it.message.header('Subject') == TAKE_OVER }

        then: 'one message, for both recipients, from node-2, over TLS, authenticated as the configured user'
        got.size() == 1
        with(got[0]) {
            tls == 'yes'
            auth == 'yes'
            login == USER
            helo == 'node-2.vigil.test'
            peer == '10.78.17.2'
            mail_from == 'vigil@node-2.vigil.test'
            rcpt_to == RECIPIENTS
        }

        and: 'the message'
        with(got[0].message as MailServers.Received) {
            header('From') == 'Vigil node-2 <vigil@node-2.vigil.test>'
            header('To') == 'ops@vigil.test, dev@vigil.test'
            body.readLines()[0] == OWNING
            facts().subMap('event', 'node', 'instance', 'from', 'to') ==
                    [event: 'vrrp.instance', node: 'node-2', instance: 'VI_1', from: 'BACKUP', to: 'MASTER']
            Instant.parse(facts().time).isAfter(signalled)
        }

        and: 'without an events filter the block gets everything, each message over TLS with AUTH (node-2\'s start too)'
        List<Map> since = submission.messages().drop(before)
        since.every { it.tls == 'yes' && it.auth == 'yes' }
        since*.message*.header('Subject').contains('[node-2] Vigil - Starting')

        and: 'the log says where it went, and the password is in no line of it'
        mailedLine(n2) ==~ /.* INFO notifier ops-mail: mailed "\Q${TAKE_OVER}\E" to ops@vigil\.test, dev@vigil\.test through 10\.78\.17\.25:587 \(TLS, AUTH (PLAIN|LOGIN)\)/
        !n2.logText().contains(PASSWORD)
    }

    def 'with nothing listening at the SMTP port the VIP moves as fast; the failures are logged and counted, and the daemon goes on'() {
        given: 'both restarted with keepalived\'s settings naming a port where nothing listens'
        stopBoth()
        startBoth { String id, String state, int prio -> keepalivedMail(id, state, prio, DEAD) }
        assert lab.exec('mx', 'ss', '-Hltn', "sport = :${DEAD}".toString()).trim() == ''

        when:
        Duration deadMove = handOver()
        println "VIP move with a dead SMTP server: ${deadMove.toMillis()} ms (with a live one: ${liveMove.toMillis()} ms)"

        then: 'the dead server cost the take-over nothing'
        deadMove < SKEW_90 + SLACK
        (deadMove - liveMove).abs() < SLACK

        and: 'the take-over\'s mail failed, logged as a warning naming the notifier and the reason'
        NetnsLab.waitFor(Duration.ofSeconds(30), "a failed take-over mail logged\n${-> logs()}") {
            n2.logText().readLines().any {
                it.contains('WARN notifier smtp_alert: vrrp.instance not delivered: ') && it.contains("${MX}:${DEAD}") &&
                        it.contains('connection refused')
            }
        }

        and: 'counted in vigil status: node-2\'s BACKUP and MASTER mails failed, none delivered, the notifier still running'
        NetnsLab.waitFor(Duration.ofSeconds(30), 'two failures counted') { (status('n2').notifiers.smtp_alert.failed as long) >= 2 }
        Map before = status('n2')
        Map mail = before.notifiers.smtp_alert as Map
        mail.subMap('type', 'state', 'delivered', 'failed', 'timedOut', 'dropped') ==
                [type: 'mail', state: 'RUNNING', delivered: 0, failed: 2, timedOut: 0, dropped: 0]
        (mail.lastError as String).contains('connection refused')
        (before.instances.find { it.name == 'VI_1' } as Map).state == 'MASTER'

        when: 'node-1 comes back and takes VI_1 over again'
        Instant restarted = Instant.now()
        n1 = new VigilNode(lab, 'n1', keepalivedMail('node-1', 'MASTER', 100, DEAD)).start()
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(30), restarted)

        then: 'node-2 went on: its next mail was tried and failed too, and it answers'
        NetnsLab.waitFor(Duration.ofSeconds(30), 'a third failure counted') { (status('n2').notifiers.smtp_alert.failed as long) == 3 }
        n2.process.alive
        (status('n2').instances.find { it.name == 'VI_1' } as Map).state == 'BACKUP'
    }
}
