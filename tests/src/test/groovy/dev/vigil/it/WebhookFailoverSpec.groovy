package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * The webhook notifier in running daemons: two Vigil nodes and a receiver host on one bridge, each
 * in its own network namespace, the receiver host running the plugin specs' {@code receiver.py}
 * twice, a live one (answers 204, checks the signature) and a hung one (takes the request, never
 * answers). The VIP's move on a SIGTERM of the master is measured twice: with a webhook to the live
 * receiver only, and with the new master's second webhook stuck on the hung receiver at that
 * moment. Delivery never blocks the engine, so the two times must agree.
 *
 * <p>It needs the daemon's notifier host ({@code vigil_notifier} blocks handed to the plugin of
 * their {@code type}, one delivery lane per block). {@link #notifierHost()} asks {@code vigil check}
 * whether a block reaches the webhook plugin's {@code validate}, and the spec is skipped, loudly,
 * when it does not.
 */
@Stepwise
@Requires({ NetnsLab.usable() && WebhookFailoverSpec.notifierHost() })
class WebhookFailoverSpec extends Specification {

    static final String VIP = '10.78.16.50'
    static final String RECEIVER = '10.78.16.100'
    static final String SECRET = 's3cret'
    // RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s, the hand-over time after a priority-0 advert.
    static final Duration SKEW_90 = Duration.ofNanos((long) ((256 - 90) / 256.0 * 1e9))
    static final Duration SLACK = Duration.ofMillis(250)
    static final Path RECEIVER_PY = Path.of(System.getProperty('vigil.root', '..'),
            'plugins', 'notify-webhook', 'src', 'test', 'resources', 'receiver.py').toAbsolutePath().normalize()

    @Shared NetnsLab lab
    @Shared VigilNode n1
    @Shared VigilNode n2
    @Shared Path liveRecord
    @Shared Path hungRecord
    @Shared Duration liveMove
    @Shared Duration hungMove

    /**
     * Whether the daemon hands a {@code vigil_notifier} block to the webhook plugin: {@code vigil check}
     * on a block with a misspelt keyword reports the plugin's own error for it. Says why loudly when not.
     */
    static synchronized boolean notifierHost() {
        if (hostSeen == null) {
            hostSeen = askCheck()
        }
        hostSeen
    }

    /** {@link #notifierHost()}'s answer, asked once (Spock evaluates a class's condition for each feature). */
    private static Boolean hostSeen

    private static boolean askCheck() {
        Path conf = Files.createTempFile('vigil-notifier-probe-', '.conf')
        try {
            Files.writeString(conf, 'vigil_notifier probe {\n    type webhook\n    url http://127.0.0.1:9/\n    secert x\n}\n')
            Map r = NetnsLab.capture(NetnsLab.vigilCommand('check', '-f', conf.toString()))
            if (r.out.contains('unknown keyword "secert" in a webhook notifier')) {
                return true
            }
            System.err.println('*** SKIPPING WebhookFailoverSpec: the daemon did not hand a vigil_notifier block to the '
                    + "webhook plugin (is notify-webhook in the plugins directory, and the notifier host built?); vigil check said:\n"
                    + r.out + r.err + ' ***')
            false
        } finally {
            Files.deleteIfExists(conf)
        }
    }

    static String notifier(String name, int port, int timeout = 10) {
        """\
        vigil_notifier ${name} {
            type webhook
            url http://${RECEIVER}:${port}/hook
            secret ${SECRET}
            timeout ${timeout}
            retries 3
            retry_delay 1
        }
        """.stripIndent()
    }

    static String config(String routerId, String state, int priority, String notifiers) {
        """\
        global_defs {
           router_id ${routerId}
           vrrp_mcast_group4 224.24.24.19
        }

        """.stripIndent() + notifiers + """
        vrrp_instance VI_1 {
            state ${state}
            interface eth0
            virtual_router_id 61
            priority ${priority}
            advert_int 1
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

    /** Every POST a receiver recorded, its body parsed: [request, event]. */
    static List<List<Map>> received(Path record) {
        Files.exists(record) ? Files.readAllLines(record).collect { String l ->
            Map request = new JsonSlurper().parseText(l) as Map
            [request, new JsonSlurper().parseText(request.body as String) as Map]
        } : []
    }

    /** The vrrp.instance events of {@code node} into {@code state} a receiver got. */
    static List<List<Map>> transitions(Path record, String node, String state) {
        received(record).findAll { it[1].event == 'vrrp.instance' && it[1].node == node && it[1].to == state }
    }

    /** Sends SIGTERM to n1 and measures until the VIP is on n2: polled every few ms, from the signal. */
    Duration handOver() {
        Instant stopped = Instant.now()
        n1.signal('TERM')
        NetnsLab.waitFor(Duration.ofSeconds(10), 'VIP on n2') { lab.hasAddress('n2', VIP) }
        Duration took = Duration.between(stopped, Instant.now())
        n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(5), stopped)
        assert n1.awaitExit(Duration.ofSeconds(15)) == 0
        took
    }

    def setupSpec() {
        assert Files.exists(RECEIVER_PY): "no ${RECEIVER_PY}"
        lab = new NetnsLab()
                .host('n1', '10.78.16.1/24')
                .host('n2', '10.78.16.2/24')
                .host('rx', RECEIVER + '/24')
        liveRecord = lab.dir.resolve('live.jsonl')
        hungRecord = lab.dir.resolve('hung.jsonl')
        lab.spawn('rx', lab.dir.resolve('live.out'), ['/usr/bin/python3', RECEIVER_PY.toString(), '--bind', RECEIVER,
                                                      '--port', '8080', '--record', liveRecord.toString(), '--secret', SECRET])
        lab.spawn('rx', lab.dir.resolve('hung.out'), ['/usr/bin/python3', RECEIVER_PY.toString(), '--bind', RECEIVER,
                                                      '--port', '8081', '--record', hungRecord.toString(), '--hang'])
        NetnsLab.waitFor(Duration.ofSeconds(10), 'both receivers listening') {
            ['live.out', 'hung.out'].every { f ->
                Path p = lab.dir.resolve(f)
                Files.exists(p) && Files.readString(p).contains('listening')
            }
        }
    }

    def cleanupSpec() {
        [n1, n2].each { node -> if (node?.process?.alive) { System.err.println("--- ${node.host} log:\n${node.logText()}") } }
        [n1, n2].each { node -> if (node?.process?.alive) { node.signal('KILL') } }
        lab?.close()
    }

    def 'with a live receiver, the master hands the VIP over within skew time and the receiver hears of it'() {
        given:
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100, notifier('ops-hook', 8080))).start()
        n2 = new VigilNode(lab, 'n2', config('node-2', 'BACKUP', 90, notifier('ops-hook', 8080))).start()
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20))
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20))
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP on n1') { lab.hasAddress('n1', VIP) }
        NetnsLab.waitFor(Duration.ofSeconds(5), 'node-1 MASTER at the receiver') { transitions(liveRecord, 'node-1', 'MASTER') }

        when: 'SIGTERM to n1 (node-2 may have been MASTER for a moment at start, before node-1\'s adverts came)'
        Instant signalled = Instant.now()
        liveMove = handOver()
        println "VIP move with a live receiver: ${liveMove.toMillis()} ms (skew time ${SKEW_90.toMillis()} ms)"
        NetnsLab.waitFor(Duration.ofSeconds(5), 'node-2 MASTER at the receiver') { transitions(liveRecord, 'node-2', 'MASTER') }
        Thread.sleep(1000)

        then: 'the take-over came after the skew time'
        liveMove < SKEW_90 + SLACK

        and: 'the receiver got it once, signed, naming the instance and both states'
        List<List<Map>> got = transitions(liveRecord, 'node-2', 'MASTER').findAll { Instant.parse(it[1].time as String).isAfter(signalled) }
        if (got.size() != 1) {
            System.err.println("--- n1 log:\n${n1.logText()}\n--- n2 log:\n${n2.logText()}")
        }
        got.size() == 1
        got[0][0].verified == true
        got[0][1].subMap('instance', 'from', 'to') == [instance: 'VI_1', from: 'BACKUP', to: 'MASTER']
        received(liveRecord)*.getAt(1)*.id.unique().size() == received(liveRecord).size()
    }

    def 'with the new master\'s second webhook stuck on a receiver that never answers, the VIP moves as fast'() {
        given: 'n2 stopped too, then both restarted; n2 also notifies the hung receiver'
        n2.signal('TERM')
        n2.awaitExit(Duration.ofSeconds(15))
        Instant started = Instant.now()
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100, notifier('ops-hook', 8080))).start()
        n2 = new VigilNode(lab, 'n2', config('node-2', 'BACKUP', 90, notifier('ops-hook', 8080) + notifier('hung-hook', 8081, 30))).start()
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20), started)
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20), started)
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP on n1') { lab.hasAddress('n1', VIP) }

        and: 'n2\'s hung-hook lane is blocked on an event right now (each delivery takes its whole 30 s)'
        NetnsLab.waitFor(Duration.ofSeconds(10), 'a request at the hung receiver') {
            received(hungRecord).any { it[1].node == 'node-2' }
        }
        assert Duration.between(started, Instant.now()) < Duration.ofSeconds(25)

        when:
        Instant stopped = Instant.now()
        hungMove = handOver()
        println "VIP move with a hung receiver: ${hungMove.toMillis()} ms (with a live one: ${liveMove.toMillis()} ms)"
        NetnsLab.waitFor(Duration.ofSeconds(3), 'node-2 MASTER at the live receiver') {
            transitions(liveRecord, 'node-2', 'MASTER').any { Instant.parse(it[1].time as String).isAfter(stopped.minusSeconds(1)) }
        }

        then: 'the hung receiver cost the take-over nothing'
        hungMove < SKEW_90 + SLACK
        (hungMove - liveMove).abs() < SLACK

        and: 'the live receiver heard of the take-over at once, the hung notifier holding only its own lane'
        transitions(liveRecord, 'node-2', 'MASTER').last()[0].verified == true

        and: 'the daemon is still there, and logged the hung deliveries as failures, not as a stall'
        n2.process.alive
        NetnsLab.waitFor(Duration.ofSeconds(45), 'a failed delivery logged for hung-hook') {
            n2.logText().readLines().any { it.contains('hung-hook') && it.contains('no answer within') }
        }
    }
}
