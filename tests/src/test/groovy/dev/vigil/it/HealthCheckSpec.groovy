package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * TCP_CHECK end to end, loaded as a plugin by a real daemon directing real HTTP traffic through
 * its VIP (NAT, nftables backend):
 *
 * <pre>
 *   cl 10.89.0.2 --br0-- 10.89.0.1 lb (VIP 10.89.0.100) 10.89.1.1 --br1-- r1 10.89.1.11:8080
 *                                                                     `-- r2 10.89.1.12:8080
 * </pre>
 *
 * r2's HTTP server is stopped: its TCP_CHECK fails, and the daemon takes it out of the forwarder
 * (and of {@code vigil services}) within delay_loop + retry x delay_before_retry + connect_timeout;
 * clients are served by r1 alone. Started again, r2 is back after rise passed checks.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class HealthCheckSpec extends Specification {

    static final String VIP = '10.89.0.100'
    static final String URL = "http://${VIP}/"
    static final String R2 = '[10.89.1.12]:8080 of [10.89.0.100]:tcp:80'

    // The checker's timing: detection within delay_loop + retry x delay_before_retry (+ connect_timeout for a silent server).
    static final int DELAY_LOOP = 1
    static final int RETRY = 1
    static final int DELAY_BEFORE_RETRY = 1
    static final int CONNECT_TIMEOUT = 1
    static final int RISE = 2

    @Shared NetnsLab lab
    @Shared VigilNode node
    @Shared Path server
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
        Server((host, port), Handler).serve_forever()
        '''.stripIndent()

    static String checker() {
        """\
                TCP_CHECK {
                    connect_timeout ${CONNECT_TIMEOUT}
                    delay_loop ${DELAY_LOOP}
                    retry ${RETRY}
                    delay_before_retry ${DELAY_BEFORE_RETRY}
                    rise ${RISE}
                }"""
    }

    static String config() {
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
    List<String> requests(int n) {
        lab.exec('cl', 'sh', '-c', "for i in \$(seq ${n}); do curl -s --max-time 3 ${URL} || echo FAILED; done").readLines()
    }

    Map vigil(String... args) {
        String java = Path.of(System.getProperty('java.home'), 'bin', 'java').toString()
        NetnsLab.capture(['ip', 'netns', 'exec', lab.ns('lb'), java, '-cp', System.getProperty('java.class.path'),
                          'dev.vigil.daemon.Main'] + (args as List))
    }

    Map status() {
        new JsonSlurper().parseText(vigil('status').out as String) as Map
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
        node = new VigilNode(lab, 'lb', config()).start()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30))
        awaitLog('forwarder: applied 1 service added, 2 real servers added', Instant.EPOCH)
        NetnsLab.waitFor(Duration.ofSeconds(10), 'both checkers probed') {
            status().checks?.realServers?.values()?.every { it.checkers[0].passes >= 1 }
        }
        def plugins = vigil('plugins')
        def checks = status().checks

        then:
        node.logText().contains('plugins: ')
        plugins.exit == 0
        plugins.out.readLines().find { it.startsWith('check-tcp ') } ==~ /check-tcp\s+\S+\s+Vigil\s+STARTED\s+TCP_CHECK/
        checks.transport == 'epoll'
        checks.realServers.keySet() == ['[10.89.1.11]:8080 of [10.89.0.100]:tcp:80', R2] as Set
        checks.realServers.values().every { it.state == 'UP' && it.checkers[0].checker == 'TCP_CHECK' && it.checkers[0].lastStatus == 'L4OK' }
        requests(20).toSet() == ['r1', 'r2'] as Set
    }

    def 'r2\'s HTTP server stops: TCP_CHECK takes it out of the forwarder within its detection time'() {
        when:
        stoppedAt = Instant.now()
        r2Http.destroy()
        r2Http.waitFor()
        Instant removedAt = awaitLog('forwarder: applied 1 real server removed (real server state)', stoppedAt)
        double detection = Duration.between(stoppedAt, removedAt).toMillis() / 1000.0
        lab.write('detection.txt', "r2 removed ${detection} s after its server stopped\n")

        then: 'at most delay_loop + retry x delay_before_retry + connect_timeout, plus a second for the apply and the log'
        detection <= DELAY_LOOP + RETRY * DELAY_BEFORE_RETRY + CONNECT_TIMEOUT + 1
        node.logText().contains("forwarder: real server ${R2} down (TCP_CHECK: L4CON connection refused (10.89.1.12:8080))")
        node.logText().contains("checks: ${R2}: TCP_CHECK down after 2 attempts: L4CON connection refused (10.89.1.12:8080)")

        and: 'vigil services no longer lists it, and every client is served by r1'
        !vigil('services').out.contains('10.89.1.12')
        vigil('services').out.contains('10.89.1.11:8080')
        requests(20) == ['r1'] * 20
        status().checks.realServers[R2].state == 'DOWN'
        (status().checks.realServers[R2].checkers[0].failures as int) >= 2
    }

    def 'r2 comes back: after rise passed checks it is in the forwarder again'() {
        when:
        restartedAt = Instant.now()
        r2Http = http('r2', '10.89.1.12')
        Instant addedAt = awaitLog('forwarder: applied 1 real server added (real server state)', restartedAt)
        double back = Duration.between(restartedAt, addedAt).toMillis() / 1000.0

        then: 'rise 2: two passes delay_loop apart'
        back <= RISE * DELAY_LOOP + 2
        node.logText().contains("checks: ${R2}: TCP_CHECK up after 2 passed checks: L4OK connected to 10.89.1.12:8080")
        vigil('services').out.contains('10.89.1.12:8080')
        requests(20).toSet() == ['r1', 'r2'] as Set
        status().checks.realServers[R2].state == 'UP'
    }

    def 'SIGTERM stops the checks with the daemon'() {
        when:
        node.signal('TERM')
        int code = node.awaitExit(Duration.ofSeconds(15))

        then:
        code == 0
        node.logText().contains('forwarder: shutdown: removed 1 service')
    }
}
