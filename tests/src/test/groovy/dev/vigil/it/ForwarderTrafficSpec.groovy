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
 * Real HTTP traffic through the VIP of a Vigil director, NAT mode with the nftables backend:
 *
 * <pre>
 *   cl 10.88.0.2 --br0-- 10.88.0.1 lb (VIP 10.88.0.100) 10.88.1.1 --br1-- r1 10.88.1.11 (:8080 "r1", :8081 "sorry")
 *                                                                     `-- r2 10.88.1.12 (:8080 "r2")
 * </pre>
 *
 * The real servers route back through the director (their default gateway), so replies are
 * un-NATed there. Each request is a new connection, so every request is scheduled. The spec shows
 * the split following the scheduler and weights, {@code vigil real-server} taking servers out and
 * back, the sorry server, the quorum scripts, {@code vigil services} against the configuration, a
 * SIGKILLed daemon restarted under wrk without a single failed request and without its rules being
 * rewritten, and the services removed at SIGTERM. Three notify FIFOs, read throughout, carry the
 * events in keepalived's line format: the real servers' and the quorum's on {@code notify_fifo} and
 * {@code lvs_notify_fifo}, the VRRP instance's on {@code notify_fifo} and {@code vrrp_notify_fifo}.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class ForwarderTrafficSpec extends Specification {

    static final String VIP = '10.88.0.100'
    static final String URL = "http://${VIP}/"

    @Shared NetnsLab lab
    @Shared VigilNode node
    @Shared Path quorumLog
    /** The FIFOs by keyword prefix ({@code notify}, {@code vrrp}, {@code lvs}), and what their readers copied. */
    @Shared Map<String, Path> fifos = [:]
    @Shared Map<String, Path> fifoCopies = [:]
    @Shared List<Process> fifoReaders = []

    static final String SERVER = '''\
        import http.server, sys
        name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def do_GET(self):
                body = (name + '\\n').encode()
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(body)))
                if self.headers.get('Connection', '').lower() == 'close':
                    self.send_header('Connection', 'close')
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256
        Server((host, port), Handler).serve_forever()
        '''.stripIndent()

    String config(String algo, int w1, int w2) {
        """\
        global_defs {
            router_id lb
            vigil_forwarder nftables
            notify_fifo ${fifos.notify}
            vrrp_notify_fifo ${fifos.vrrp}
            lvs_notify_fifo ${fifos.lvs}
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 88
            priority 255
            advert_int 1
            virtual_ipaddress {
                ${VIP}
            }
        }
        virtual_server ${VIP} 80 {
            lb_algo ${algo}
            lb_kind NAT
            protocol TCP
            omega
            quorum_up ${lab.dir.resolve('quorum-up.sh')}
            quorum_down ${lab.dir.resolve('quorum-down.sh')}
            sorry_server 10.88.1.11 8081
            real_server 10.88.1.11 8080 {
                weight ${w1}
            }
            real_server 10.88.1.12 8080 {
                weight ${w2}
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab()
                .host('cl', '10.88.0.2/24')
                .host('lb', '10.88.0.1/24')
                .attach('lb', 'eth1', '10.88.1.1/24', 'br1')
                .host('r1', '10.88.1.11/24', 'br1')
                .host('r2', '10.88.1.12/24', 'br1')
        lab.exec('lb', 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        ['r1', 'r2'].each { lab.exec(it, 'ip', 'route', 'add', 'default', 'via', '10.88.1.1') }
        quorumLog = lab.dir.resolve('quorum.log')
        ['notify', 'vrrp', 'lvs'].each { String kind ->
            fifos[kind] = lab.dir.resolve("${kind}.fifo")
            fifoCopies[kind] = lab.dir.resolve("${kind}-fifo.log")
            NetnsLab.sh('mkfifo', fifos[kind].toString())
            // Opened read-write, the reader is a writer too: it sees no end of file when a daemon goes.
            fifoReaders << new ProcessBuilder('sh', '-c', "exec cat 0<>${fifos[kind]} > ${fifoCopies[kind]}").start()
        }
        ['up', 'down'].each { state ->
            Path script = lab.write("quorum-${state}.sh", "#!/bin/sh\necho ${state} >> ${quorumLog}\n")
            script.toFile().setExecutable(true)
        }
        Path server = lab.write('server.py', SERVER)
        [['r1', 'r1', '10.88.1.11', '8080'], ['r1', 'sorry', '10.88.1.11', '8081'], ['r2', 'r2', '10.88.1.12', '8080']].each { h, name, ip, port ->
            lab.spawn(h, lab.dir.resolve("${name}-http.log"), ['/usr/bin/python3', server.toString(), name, ip, port])
        }
        [['r1', '10.88.1.11:8080'], ['r1', '10.88.1.11:8081'], ['r2', '10.88.1.12:8080']].each { h, hostPort ->
            NetnsLab.waitFor(Duration.ofSeconds(20), "HTTP on ${hostPort}") {
                lab.run(h, 'curl', '-sf', '--max-time', '1', "http://${hostPort}/") == 0
            }
        }
    }

    def cleanupSpec() {
        if (node?.process?.alive) {
            node.signal('KILL')
        }
        fifoReaders.each { it.destroy() }
        lab?.close()
    }

    /** The lines the reader of FIFO {@code kind} copied so far. */
    List<String> fifoLines(String kind) {
        Files.exists(fifoCopies[kind]) ? Files.readString(fifoCopies[kind]).readLines() : []
    }

    /** Waits until FIFO {@code kind} carried exactly {@code expected}. */
    void awaitFifo(String kind, List<String> expected) {
        NetnsLab.waitFor(Duration.ofSeconds(10), "${kind} FIFO lines ${expected}\n--- got:\n${-> fifoLines(kind).join('\n')}") {
            fifoLines(kind) == expected
        }
    }

    static final String R1 = 'RS [10.88.1.11]:tcp:8080 [10.88.0.100]:tcp:80'
    static final String R2 = 'RS [10.88.1.12]:tcp:8080 [10.88.0.100]:tcp:80'
    static final String VS = 'VS [10.88.0.100]:tcp:80'

    /** {@code n} requests from the client, one connection each: the answering servers' names in order. */
    List<String> requests(int n) {
        String out = lab.exec('cl', 'sh', '-c',
                "for i in \$(seq ${n}); do curl -s --max-time 3 -H 'Connection: close' ${URL} || echo FAILED; done")
        out.readLines()
    }

    /** Runs the vigil command line in the director's namespace (the API is on its loopback). */
    Map vigil(String... args) {
        lab.vigil('lb', args)
    }

    Map status() {
        new JsonSlurper().parseText(vigil('status').out as String) as Map
    }

    /**
     * The director's whole nftables ruleset with handles and without counter values: only Vigil
     * writes rules there, and whatever layout its backend uses, a rewritten rule gets a new handle.
     */
    String ruleset() {
        lab.exec('lb', 'nft', '-a', 'list', 'ruleset').replaceAll(/packets \d+ bytes \d+/, '')
    }

    void awaitLog(VigilNode n, String fragment, Instant after = Instant.EPOCH) {
        NetnsLab.waitFor(Duration.ofSeconds(20), "log line '${fragment}'\n--- log:\n${-> n.logText()}") {
            n.logText().readLines().any { it.contains(fragment) && Instant.parse(it.split(' ')[0]) >= after }
        }
    }

    List<String> quorumEvents() {
        Files.exists(quorumLog) ? Files.readAllLines(quorumLog) : []
    }

    def 'the daemon programs the VIP through nftables, and vigil services shows the configuration'() {
        when:
        node = new VigilNode(lab, 'lb', config('rr', 1, 1)).start()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20))
        awaitLog(node, 'forwarder: applied 1 service added, 2 real servers added (configuration)')
        def services = vigil('services')

        then: 'the backend and why'
        node.logText().contains('forwarder: backend nftables (vigil_forwarder nftables)')
        status().forwarder.backend == 'nftables'

        and: 'the table reads back as ipvsadm -Ln would print the configuration'
        services.exit == 0
        services.out.readLines()*.stripTrailing() == [
                'IP Virtual Server version 1.2.1 (backend=nftables)',
                'Prot LocalAddress:Port Scheduler Flags',
                '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
                'TCP  10.88.0.100:80 rr',
                '  -> 10.88.1.11:8080              Masq    1      -          -',
                '  -> 10.88.1.12:8080              Masq    1      -          -']
        ruleset().contains(VIP)
        ruleset().contains('10.88.1.11')
        ruleset().contains('10.88.1.12')
    }

    def 'round robin splits 400 connections evenly, and the counters agree with the client'() {
        when:
        def answers = requests(400)
        def stats = vigil('services', '--stats').out.readLines()

        then:
        answers.size() == 400
        !answers.contains('FAILED')
        Math.abs(answers.count('r1') - 200) <= 8
        Math.abs(answers.count('r2') - 200) <= 8
        answers.count('r1') + answers.count('r2') == 400

        and: 'vigil services --stats counts the same connections per real server'
        stats[1].startsWith('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes')
        stats.find { it.startsWith('  -> 10.88.1.11:8080') }.split(/\s+/)[3] as int == answers.count('r1')
        stats.find { it.startsWith('  -> 10.88.1.12:8080') }.split(/\s+/)[3] as int == answers.count('r2')
        stats.find { it.startsWith('TCP  10.88.0.100:80') }.split(/\s+/)[2] as int == 400
    }

    def 'weighted round robin 3:1 after a reload sends three quarters to r1'() {
        given:
        Instant before = Instant.now()
        Files.writeString(node.config, config('wrr', 3, 1))

        when:
        node.signal('HUP')
        awaitLog(node, 'forwarder: applied 1 service changed, 1 real server changed (configuration)', before)
        def answers = requests(400)

        then:
        !answers.contains('FAILED')
        Math.abs(answers.count('r1') / 400.0 - 0.75) <= 0.03
        answers.count('r1') + answers.count('r2') == 400
        vigil('services').out.readLines()*.stripTrailing().containsAll([
                'TCP  10.88.0.100:80 wrr',
                '  -> 10.88.1.11:8080              Masq    3      -          -',
                '  -> 10.88.1.12:8080              Masq    1      -          -'])
    }

    def 'a real server taken out through the command gets no new connections'() {
        when:
        def r = vigil('real-server', "${VIP}:80", '10.88.1.12:8080', 'down')
        def answers = requests(100)

        then:
        r.exit == 0
        r.out == 'real server [10.88.1.12]:8080 of [10.88.0.100]:tcp:80: up -> down\n'
        answers == ['r1'] * 100
        status().forwarder.realServers['[10.88.1.12]:8080 of [10.88.0.100]:tcp:80'] == 'DOWN'
        !vigil('services').out.contains('10.88.1.12')

        and: 'the LVS FIFO carries the change; starting with the quorum told nothing'
        awaitFifo('lvs', ["${R2} DOWN"]*.toString())

        and: 'a selector that names nothing is refused'
        with(vigil('real-server', "${VIP}:80", '10.88.1.99:8080', 'down')) {
            exit == 1
            err == 'no real server 10.88.1.99:8080 of 10.88.0.100:80 in the configuration\n'
        }
    }

    def 'with both out the sorry server takes over and quorum_down runs; back in, the real servers serve and quorum_up runs'() {
        when:
        vigil('real-server', "${VIP}:80", '10.88.1.11:8080', 'down')
        def sorry = requests(20)

        then:
        sorry == ['sorry'] * 20
        NetnsLab.waitFor(Duration.ofSeconds(5), 'quorum_down script') { quorumEvents() == ['down'] }
        status().forwarder.quorum['[10.88.0.100]:tcp:80'] == 'DOWN'

        when:
        vigil('real-server', "${VIP}:80", '10.88.1.11:8080', 'up')
        vigil('real-server', "${VIP}:80", '10.88.1.12', 'up')
        def back = requests(40)

        then:
        back.count('r1') == 30
        back.count('r2') == 10
        NetnsLab.waitFor(Duration.ofSeconds(5), 'quorum_up script') { quorumEvents() == ['down', 'up'] }

        and: 'each real server and quorum change is a line, in the order it happened'
        awaitFifo('lvs', ["${R2} DOWN", "${R1} DOWN", "${VS} DOWN", "${R1} UP", "${VS} UP", "${R2} UP"]*.toString())
    }

    def 'a SIGKILLed daemon restarted under wrk adopts its rules: no failed request, no rule rewritten'() {
        given: 'the rules as the first daemon left them (handles included, counters left out)'
        String before = ruleset()
        Map result = null
        Thread wrk = Thread.start {
            result = NetnsLab.capture(['ip', 'netns', 'exec', lab.ns('cl'), 'wrk', '-t', '2', '-c', '8', '-d', '6s',
                                       '-H', 'Connection: close', URL], null, 60)
        }

        when: 'the daemon dies two seconds into the run and a new one starts at once'
        Thread.sleep(2000)
        node.signal('KILL')
        node.awaitExit(Duration.ofSeconds(10))
        Instant restarted = Instant.now()
        node = new VigilNode(lab, 'lb', config('wrr', 3, 1)).start()
        awaitLog(node, 'forwarder: 1 service already in place, adopted unchanged', restarted)
        wrk.join(30_000)
        Files.writeString(lab.dir.resolve('wrk.txt'), result?.out as String ?: 'wrk did not finish')

        then: 'wrk saw every request answered: no socket errors, no non-2xx'
        result != null
        result.exit == 0
        !(result.out as String).contains('Socket errors')
        !(result.out as String).contains('Non-2xx')
        ((result.out as String) =~ /(\d+) requests in/)[0][1] as int > 500

        and: 'the new daemon changed nothing: every rule keeps its handle'
        ruleset() == before
        !node.logText().contains('forwarder: applied')
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10))
    }

    def 'SIGTERM removes the services (keepalived\'s default) and, with omega, runs quorum_down'() {
        when:
        node.signal('TERM')
        int code = node.awaitExit(Duration.ofSeconds(15))

        then:
        code == 0
        node.logText().contains('forwarder: shutdown: removed 1 service')
        !ruleset().contains('10.88.1.11')
        !ruleset().contains('10.88.1.12')
        quorumEvents() == ['down', 'up', 'down']
        lab.run('cl', 'curl', '-s', '--max-time', '2', URL) != 0

        and: 'omega told the live real servers and the quorum going down, on the LVS FIFO'
        awaitFifo('lvs', ["${R2} DOWN", "${R1} DOWN", "${VS} DOWN", "${R1} UP", "${VS} UP", "${R2} UP",
                          "${R1} DOWN", "${R2} DOWN", "${VS} DOWN"]*.toString())

        and: 'the VRRP FIFO has only the instance\'s lines; notify_fifo has both, in the same orders'
        !fifoLines('vrrp').isEmpty()
        fifoLines('vrrp').every { it.startsWith('INSTANCE "VI_1" ') }
        fifoLines('vrrp').contains('INSTANCE "VI_1" MASTER 255')
        fifoLines('vrrp').last() == 'INSTANCE "VI_1" STOP 255'
        fifoLines('notify').findAll { it.startsWith('INSTANCE ') } == fifoLines('vrrp')
        fifoLines('notify').findAll { !it.startsWith('INSTANCE ') } == fifoLines('lvs')

        and: 'no NUL or other byte beyond the lines'
        Files.readString(fifoCopies.lvs) == fifoLines('lvs').collect { it + '\n' }.join('')
    }
}
