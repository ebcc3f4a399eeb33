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
 * Health checks end to end, loaded as plugins by a real daemon directing real HTTP traffic through
 * its VIP (NAT, nftables backend):
 *
 * <pre>
 *   cl 10.89.0.2 --br0-- 10.89.0.1 lb (VIP 10.89.0.100) 10.89.1.1 --br1-- r1 10.89.1.11:8080
 *                                                                     `-- r2 10.89.1.12:8080
 * </pre>
 *
 * The VIP has three services on the same two HTTP servers: port 80 checked by TCP_CHECK, port 81
 * by HTTP_GET (url path and status_code), port 82 (r1 only) by a MISC_CHECK with
 * {@code misc_dynamic} whose exit status the spec sets, and with it r1's weight in
 * {@code vigil services}. r2's HTTP server is stopped while wrk loads port 81: both checkers fail,
 * and the daemon takes r2 out of the forwarder (and of {@code vigil services}) within
 * delay_loop + retry x delay_before_retry + connect_timeout; wrk, run again at once, sees no error, and
 * clients are served by r1 alone. Started again, r2 is back after rise passed checks and gets
 * traffic again.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class HealthCheckSpec extends Specification {

    static final String VIP = '10.89.0.100'
    static final String URL = "http://${VIP}/"
    static final String HTTP_URL = "http://${VIP}:81/"
    static final String R2 = '[10.89.1.12]:8080 of [10.89.0.100]:tcp:80'
    static final String R2_HTTP = '[10.89.1.12]:8080 of [10.89.0.100]:tcp:81'
    static final String R1_MISC = '[10.89.1.11]:8080 of [10.89.0.100]:tcp:82'
    static final int WRK_CONNECTIONS = 4

    // The checker's timing: detection within delay_loop + retry x delay_before_retry (+ connect_timeout for a silent server).
    static final int DELAY_LOOP = 1
    static final int RETRY = 1
    static final int DELAY_BEFORE_RETRY = 1
    static final int CONNECT_TIMEOUT = 1
    static final int RISE = 2

    @Shared NetnsLab lab
    @Shared VigilNode node
    @Shared Path server
    @Shared Path miscStatus
    @Shared Process r2Http
    @Shared Instant stoppedAt
    @Shared Instant restartedAt

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
                self.send_header('Connection', 'close')
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128
        Server((host, port), Handler).serve_forever()
        '''.stripIndent()

    static String checker(String keyword = 'TCP_CHECK', String extra = '') {
        """\
                ${keyword} {${extra}
                    connect_timeout ${CONNECT_TIMEOUT}
                    delay_loop ${DELAY_LOOP}
                    retry ${RETRY}
                    delay_before_retry ${DELAY_BEFORE_RETRY}
                    rise ${RISE}
                }"""
    }

    static final String URL_BLOCK = """
                    url {
                        path /health
                        status_code 200
                    }"""

    /** A MISC_CHECK script that exits with the status written in {@code status}. */
    static String miscScript(Path status) {
        "#!/bin/sh\nexit \$(cat ${status})\n"
    }

    static String config(Path script) {
        """\
        global_defs {
            router_id lb
            vigil_forwarder nftables
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 89
            priority 255
            advert_int 1
            virtual_ipaddress {
                ${VIP}
            }
        }
        virtual_server ${VIP} 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.89.1.11 8080 {
        ${checker()}
            }
            real_server 10.89.1.12 8080 {
        ${checker()}
            }
        }
        virtual_server ${VIP} 81 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.89.1.11 8080 {
        ${checker('HTTP_GET', URL_BLOCK)}
            }
            real_server 10.89.1.12 8080 {
        ${checker('HTTP_GET', URL_BLOCK)}
            }
        }
        virtual_server ${VIP} 82 {
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            real_server 10.89.1.11 8080 {
                weight 1
                MISC_CHECK {
                    misc_path ${script}
                    misc_dynamic
                    delay_loop ${DELAY_LOOP}
                }
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab()
                .host('cl', '10.89.0.2/24')
                .host('lb', '10.89.0.1/24')
                .attach('lb', 'eth1', '10.89.1.1/24', 'br1')
                .host('r1', '10.89.1.11/24', 'br1')
                .host('r2', '10.89.1.12/24', 'br1')
        lab.exec('lb', 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        ['r1', 'r2'].each { lab.exec(it, 'ip', 'route', 'add', 'default', 'via', '10.89.1.1') }
        server = lab.write('server.py', SERVER)
        miscStatus = lab.write('misc-status', '0\n')
        http('r1', '10.89.1.11')
        r2Http = http('r2', '10.89.1.12')
    }

    def cleanupSpec() {
        if (node?.process?.alive) {
            node.signal('KILL')
        }
        lab?.close()
    }

    /** Starts the HTTP server of {@code host} and waits until it answers. */
    Process http(String host, String ip) {
        Process p = lab.spawn(host, lab.dir.resolve("${host}-http.log"), ['/usr/bin/python3', server.toString(), host, ip, '8080'])
        NetnsLab.waitFor(Duration.ofSeconds(20), "HTTP on ${ip}:8080") {
            lab.run(host, 'curl', '-sf', '--max-time', '1', "http://${ip}:8080/") == 0
        }
        p
    }

    /** {@code n} requests from the client, one connection each: the answering servers' names in order. */
    List<String> requests(int n, String url = URL) {
        lab.exec('cl', 'sh', '-c', "for i in \$(seq ${n}); do curl -s --max-time 3 ${url} || echo FAILED; done").readLines()
    }

    /** wrk from the client through the VIP's HTTP_GET service for {@code seconds}, in the background. */
    Process wrkStart(int seconds, String name) {
        lab.spawn('cl', lab.dir.resolve("${name}.txt"), ['wrk', '-t2', "-c${WRK_CONNECTIONS}", "-d${seconds}s", HTTP_URL]*.toString())
    }

    /** What a finished wrk run printed, and its counts: requests, socket errors, non-2xx/3xx answers. */
    Map wrkResult(Process p, String name) {
        assert p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS): "wrk ${name} did not end"
        String out = Files.readString(lab.dir.resolve("${name}.txt"))
        def errors = out =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
        def non2xx = out =~ /Non-2xx or 3xx responses: (\d+)/
        def requests = out =~ /(\d+) requests in /
        assert requests.find(): "wrk ${name} printed no summary:\n${out}"
        [out         : out, exit: p.exitValue(), requests: requests.group(1) as long,
         socketErrors: errors.find() ? (1..4).sum { errors.group(it) as long } : 0L,
         non2xx      : non2xx.find() ? non2xx.group(1) as long : 0L]
    }

    /** The weight {@code vigil services} shows for {@code realServer} in the service on {@code port} of the VIP. */
    Integer servicesWeight(int port, String realServer) {
        List<String> lines = vigil('services').out.readLines()
        int at = lines.findIndexOf { it ==~ /TCP\s+${java.util.regex.Pattern.quote(VIP)}:${port}\s.*/ }
        assert at >= 0: "no service ${VIP}:${port} in vigil services:\n${lines.join('\n')}"
        for (String line : lines.drop(at + 1)) {
            if (!line.startsWith('  ->')) {
                break
            }
            def m = line =~ /->\s+${java.util.regex.Pattern.quote(realServer)}\s+\S+\s+(\d+)\s/
            if (m.find()) {
                return m.group(1) as int
            }
        }
        null
    }

    Map vigil(String... args) {
        lab.vigil('lb', args)
    }

    Map status() {
        new JsonSlurper().parseText(vigil('status').out as String) as Map
    }

    /** The time stamp of the first log line after {@code after} that {@code pattern} finds something in. */
    Instant awaitLog(java.util.regex.Pattern pattern, Instant after, Duration timeout = Duration.ofSeconds(20)) {
        Instant at = null
        NetnsLab.waitFor(timeout, "log line matching /${pattern}/\n--- log:\n${-> node.logText()}") {
            String line = node.logText().readLines().find { pattern.matcher(it).find() && Instant.parse(it.split(' ')[0]) >= after }
            at = line ? Instant.parse(line.split(' ')[0]) : null
            at != null
        }
        at
    }

    /** The time stamp of the first log line after {@code after} that contains {@code fragment}. */
    Instant awaitLog(String fragment, Instant after, Duration timeout = Duration.ofSeconds(20)) {
        Instant at = null
        NetnsLab.waitFor(timeout, "log line '${fragment}'\n--- log:\n${-> node.logText()}") {
            String line = node.logText().readLines().find { it.contains(fragment) && Instant.parse(it.split(' ')[0]) >= after }
            at = line ? Instant.parse(line.split(' ')[0]) : null
            at != null
        }
        at
    }

    def 'the daemon loads TCP_CHECK from the build\'s plugins directory and both real servers pass'() {
        when:
        Path script = lab.write('misc-check.sh', miscScript(miscStatus))
        script.toFile().setExecutable(true)
        node = new VigilNode(lab, 'lb', config(script)).start()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30))
        awaitLog('forwarder: applied 3 services added, 5 real servers added', Instant.EPOCH)
        NetnsLab.waitFor(Duration.ofSeconds(10), 'every checker probed') {
            status().checks?.realServers?.values()?.every { it.checkers[0].passes >= 1 }
        }
        def plugins = vigil('plugins')
        def checks = status().checks

        then:
        node.logText().contains('plugins: ')
        plugins.exit == 0
        plugins.out.readLines().find { it.startsWith('check-tcp ') } ==~ /check-tcp\s+\S+\s+Vigil\s+STARTED\s+TCP_CHECK/
        checks.transport == 'epoll'
        checks.realServers.keySet() == ['[10.89.1.11]:8080 of [10.89.0.100]:tcp:80', R2,
                                        '[10.89.1.11]:8080 of [10.89.0.100]:tcp:81', R2_HTTP, R1_MISC] as Set
        checks.realServers.values().every { it.state == 'UP' }
        checks.realServers.findAll { it.key.endsWith(':80') }.values().every { it.checkers[0].checker == 'TCP_CHECK' && it.checkers[0].lastStatus == 'L4OK' }
        checks.realServers.findAll { it.key.endsWith(':81') }.values().every { it.checkers[0].checker == 'HTTP_GET' && it.checkers[0].lastStatus == 'L7OK' }
        checks.realServers[R1_MISC].checkers[0].checker == 'MISC_CHECK'
        requests(20).toSet() == ['r1', 'r2'] as Set
        requests(20, HTTP_URL).toSet() == ['r1', 'r2'] as Set
    }

    def 'misc_dynamic: r1\'s weight in vigil services follows the MISC_CHECK script\'s exit status minus 2; exit 0 keeps it'() {
        expect: 'exit 0: the configured weight'
        servicesWeight(82, '10.89.1.11:8080') == 1

        when: 'exit 7'
        Instant at = Instant.now()
        Files.writeString(miscStatus, '7\n')
        awaitLog("forwarder: real server ${R1_MISC} weight 1 -> 5 (up; MISC_CHECK: L7OK", at)
        awaitLog('forwarder: applied 1 real server changed (real server weight)', at)

        then:
        servicesWeight(82, '10.89.1.11:8080') == 5
        node.logText().readLines().any { it.contains("checks: ${R1_MISC}: MISC_CHECK sets weight 5: L7OK") }

        when: 'exit 12'
        at = Instant.now()
        Files.writeString(miscStatus, '12\n')
        awaitLog("forwarder: real server ${R1_MISC} weight 5 -> 10", at)

        then:
        servicesWeight(82, '10.89.1.11:8080') == 10

        when: 'exit 0 (keepalived: a pass that sets no weight leaves the last one)'
        Files.writeString(miscStatus, '0\n')
        long probes = status().checks.realServers[R1_MISC].checkers[0].probes as long
        NetnsLab.waitFor(Duration.ofSeconds(10), 'two more probes, the last exiting 0') {
            def c = status().checks.realServers[R1_MISC].checkers[0]
            (c.probes as long) >= probes + 2 && c.lastResult?.contains('exit status 0')
        }

        then:
        servicesWeight(82, '10.89.1.11:8080') == 10
        status().checks.realServers[R1_MISC].state == 'UP'

        when: 'exit 2: weight 0, the real server stays in the service'
        at = Instant.now()
        Files.writeString(miscStatus, '2\n')
        awaitLog("forwarder: real server ${R1_MISC} weight 10 -> 0", at)

        then:
        servicesWeight(82, '10.89.1.11:8080') == 0

        when: 'exit 1: down, out of the service; exit 3: back at weight 1'
        at = Instant.now()
        Files.writeString(miscStatus, '1\n')
        awaitLog("forwarder: real server ${R1_MISC} down (MISC_CHECK: PROCERR", at)
        Integer whileDown = servicesWeight(82, '10.89.1.11:8080')
        at = Instant.now()
        Files.writeString(miscStatus, '3\n')
        awaitLog("forwarder: real server ${R1_MISC} up", at)

        then:
        whileDown == null
        servicesWeight(82, '10.89.1.11:8080') == 1
        node.logText().contains("forwarder: real server ${R1_MISC} weight 0 -> 1 (down, taken when it comes back; MISC_CHECK: L7OK")
    }

    def 'r2\'s HTTP server stops under wrk load: TCP_CHECK and HTTP_GET take it out of the forwarder within their detection time'() {
        given: 'wrk through the HTTP_GET service, for long enough to span the stop and the detection'
        Process during = wrkStart(10, 'wrk-during')
        sleep(2000)

        when:
        stoppedAt = Instant.now()
        r2Http.destroy()
        r2Http.waitFor()
        Instant tcpDownAt = awaitLog("forwarder: real server ${R2} down (", stoppedAt)
        Instant httpDownAt = awaitLog("forwarder: real server ${R2_HTTP} down (", stoppedAt)
        Instant tcpRemovedAt = awaitLog('forwarder: applied 1 real server removed (real server state)', tcpDownAt)
        Instant httpRemovedAt = awaitLog('forwarder: applied 1 real server removed (real server state)', httpDownAt)
        double tcpDetection = Duration.between(stoppedAt, tcpRemovedAt).toMillis() / 1000.0
        double httpDetection = Duration.between(stoppedAt, httpRemovedAt).toMillis() / 1000.0
        Map duringRun = wrkResult(during, 'wrk-during')
        String report = "r2 removed ${tcpDetection} s (TCP_CHECK, port 80) and ${httpDetection} s (HTTP_GET, port 81)" +
                " after its server stopped; wrk during the stop: ${duringRun.requests} requests, ${duringRun.socketErrors}" +
                " socket errors, ${duringRun.non2xx} non-2xx/3xx\n"
        lab.write('detection.txt', report)
        println report

        then: 'at most delay_loop + retry x delay_before_retry + connect_timeout, plus a second for the apply and the log'
        tcpDetection <= DELAY_LOOP + RETRY * DELAY_BEFORE_RETRY + CONNECT_TIMEOUT + 1
        httpDetection <= DELAY_LOOP * (RETRY + 1) + CONNECT_TIMEOUT + 1
        node.logText().contains("forwarder: real server ${R2} down (TCP_CHECK: L4CON connection refused (10.89.1.12:8080))")
        node.logText().contains("checks: ${R2}: TCP_CHECK down after 2 attempts: L4CON connection refused (10.89.1.12:8080)")
        node.logText().contains("forwarder: real server ${R2_HTTP} down (HTTP_GET: ")
        node.logText().readLines().any { it.contains("checks: ${R2_HTTP}: HTTP_GET down after 2 attempts: ") }
        duringRun.requests > 0

        when: 'wrk again, right after the detection'
        // Right away: the connections r2 reset while it was still in the forwarder left conntrack
        // entries in CLOSE, bound by NAT to r2, which a new connection reusing such a client port
        // would be taken for; the forwarder deleted them when it removed r2.
        Map after = wrkResult(wrkStart(3, 'wrk-after'), 'wrk-after')
        println "wrk after the detection: ${after.requests} requests, ${after.socketErrors} socket errors, ${after.non2xx} non-2xx/3xx"

        then: 'no error at all'
        after.exit == 0
        after.requests > 0
        after.socketErrors == 0
        after.non2xx == 0
        !after.out.contains('Socket errors')

        and: 'vigil services no longer lists it, and every client is served by r1'
        !vigil('services').out.contains('10.89.1.12')
        vigil('services').out.contains('10.89.1.11:8080')
        requests(20) == ['r1'] * 20
        requests(20, HTTP_URL) == ['r1'] * 20
        status().checks.realServers[R2].state == 'DOWN'
        status().checks.realServers[R2_HTTP].state == 'DOWN'
        (status().checks.realServers[R2].checkers[0].failures as int) >= 2
    }

    def 'r2 comes back: after rise passed checks it is in the forwarder again and gets traffic'() {
        when:
        restartedAt = Instant.now()
        r2Http = http('r2', '10.89.1.12')
        Instant addedAt = awaitLog("forwarder: real server ${R2} up", restartedAt)
        Instant httpAddedAt = awaitLog("forwarder: real server ${R2_HTTP} up", restartedAt)
        // Both of r2's checkers may pass in the same step of the engine's 10 ms probe grid: one apply then adds both.
        awaitLog(~/forwarder: applied (1 real server added \(real server state\)|2 real servers added \(2 real server states\))/,
                [addedAt, httpAddedAt].max())
        double back = Duration.between(restartedAt, addedAt).toMillis() / 1000.0
        double httpBack = Duration.between(restartedAt, httpAddedAt).toMillis() / 1000.0
        println "r2 back ${back} s (TCP_CHECK) and ${httpBack} s (HTTP_GET) after its server started"
        Map load = wrkResult(wrkStart(3, 'wrk-back'), 'wrk-back')

        then: 'rise 2: two passes delay_loop apart'
        back <= RISE * DELAY_LOOP + 2
        httpBack <= RISE * DELAY_LOOP + 2
        node.logText().contains("checks: ${R2}: TCP_CHECK up after 2 passed checks: L4OK connected to 10.89.1.12:8080")
        node.logText().readLines().any { it.contains("checks: ${R2_HTTP}: HTTP_GET up after 2 passed checks: L7OK") }
        vigil('services').out.count('10.89.1.12:8080') == 2
        requests(20).toSet() == ['r1', 'r2'] as Set
        requests(20, HTTP_URL).toSet() == ['r1', 'r2'] as Set
        status().checks.realServers[R2].state == 'UP'
        status().checks.realServers[R2_HTTP].state == 'UP'

        and: 'wrk through both again without an error'
        load.requests > 0
        load.socketErrors == 0
        load.non2xx == 0
    }

    def 'SIGTERM stops the checks with the daemon'() {
        when:
        node.signal('TERM')
        int code = node.awaitExit(Duration.ofSeconds(15))

        then:
        code == 0
        node.logText().contains('forwarder: shutdown: removed 3 services')
    }
}
