package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * A failover policy end to end: Vigil MASTER (priority 150) against keepalived BACKUP (120), a
 * virtual server with three HTTP real servers checked by HTTP_GET, and the policy of the issue
 * stored and activated with {@code vigil policy}:
 *
 * <pre>
 *   cl 10.91.0.50 --br0-- 10.91.0.1 lb (Vigil, VIP 10.91.0.100)      peer 10.91.0.2 (keepalived)
 *                          10.91.1.1 --br1-- r1 .11, r2 .12, r3 .13 (python http.server :80)
 * </pre>
 *
 * When two HTTP servers stop, fewer than two are healthy: the policy lowers VI_1 by 50 (150 -> 100),
 * keepalived's 120 wins and the VIP moves to the peer. When they return the policy resets the
 * offset and Vigil preempts back. The audit trail and {@code vigil status} show what it did.
 */
@Requires({ NetnsLab.usable() && KeepalivedNode.present() })
class PolicyFailoverSpec extends Specification {

    static final String VIP = '10.91.0.100'

    NetnsLab lab
    VigilNode lb
    KeepalivedNode peer
    Map<String, Process> servers = [:]

    static final String POLICY = '''\
        policy('web-capacity') {
            on realServerDown { event ->
                if (service('10.91.0.100:80').healthyCount() < 2) {
                    instance('VI_1').lowerPriority(50)
                }
            }
            on realServerUp { event ->
                if (service('10.91.0.100:80').healthyCount() >= 2) {
                    instance('VI_1').resetPriority()
                }
            }
        }
        '''.stripIndent()

    def cleanup() {
        if (lb != null) {
            System.err.println("--- lb (vigil) log:\n${lb.logText()}")
        }
        if (peer != null) {
            System.err.println("--- peer (keepalived) log:\n${peer.logText()}")
        }
        servers.values().each { it.destroy() }
        lab?.close()
    }

    static String vigilConfig(Path store) {
        def real = { String ip ->
            """\
            real_server ${ip} 80 {
                HTTP_GET {
                    url {
                        path /
                        status_code 200
                    }
                    connect_timeout 1
                    retry 0
                }
            }
            """.stripIndent()
        }
        """\
        global_defs {
            router_id lb
            vigil_forwarder nftables
            vigil_policy_store ${store}
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 91
            version 2
            priority 150
            advert_int 1
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        virtual_server ${VIP} 80 {
            delay_loop 1
            lb_algo rr
            lb_kind NAT
            protocol TCP
        """.stripIndent() + ['10.91.1.11', '10.91.1.12', '10.91.1.13'].collect { real(it).readLines().collect { '    ' + it }.join('\n') }.join('\n') + '\n}\n'
    }

    static String keepalivedConfig() {
        """\
        global_defs {
            router_id peer
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 91
            version 2
            priority 120
            advert_int 1
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        """.stripIndent()
    }

    void serve(String host, String ip) {
        servers[host] = lab.spawn(host, lab.dir.resolve("${host}-http.log"), ['/usr/bin/python3', '-m', 'http.server', '--bind', ip, '80'])
    }

    void stop(String host) {
        Process p = servers.remove(host)
        p.destroy()
        p.waitFor()
    }

    Map status() {
        def r = lab.vigil('lb', 'status')
        assert r.exit == 0: "vigil status failed: ${r}"
        new JsonSlurper().parseText(r.out as String) as Map
    }

    Map policy(String... args) {
        def r = lab.vigil('lb', *(['policy'] + (args as List) + ['--store', store.toString()]))
        r
    }

    Path store

    def 'fewer than two healthy real servers lower VI_1 by 50: the VIP moves to the peer, and back when they return'() {
        given: 'the lab, the three HTTP servers, Vigil with an empty store, keepalived'
        lab = new NetnsLab()
                .host('lb', '10.91.0.1/24')
                .host('peer', '10.91.0.2/24')
                .host('cl', '10.91.0.50/24')
                .attach('lb', 'eth1', '10.91.1.1/24', 'br1')
                .host('r1', '10.91.1.11/24', 'br1')
                .host('r2', '10.91.1.12/24', 'br1')
                .host('r3', '10.91.1.13/24', 'br1')
        lab.exec('lb', 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        ['r1', 'r2', 'r3'].each { lab.exec(it, 'ip', 'route', 'add', 'default', 'via', '10.91.1.1') }
        serve('r1', '10.91.1.11')
        serve('r2', '10.91.1.12')
        serve('r3', '10.91.1.13')
        store = lab.dir.resolve('policies.db')
        lb = new VigilNode(lab, 'lb', vigilConfig(store)).start()
        lb.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30))
        peer = new KeepalivedNode(lab, 'peer', keepalivedConfig()).start()
        NetnsLab.waitFor(Duration.ofSeconds(20), 'the three real servers up') {
            status().forwarder?.realServers?.values()?.count { it == 'UP' } == 3
        }

        and: 'traffic through the VIP reaches a real server'
        assert lab.run('cl', 'curl', '-sf', '-o', '/dev/null', '--max-time', '5', "http://${VIP}/") == 0

        when: 'the policy is added and activated with vigil policy'
        Path file = lab.write('web-capacity.groovy', POLICY)
        def added = policy('add', 'web-capacity', file.toString(), '--comment', 'fail over below two healthy')
        def activated = policy('activate', 'web-capacity', '1')

        then: 'the daemon runs it within a few seconds'
        added.exit == 0
        activated.exit == 0
        NetnsLab.waitFor(Duration.ofSeconds(10), 'the daemon to run web-capacity r1') {
            lb.logText().readLines().any { it.contains('policy web-capacity r1') && it.contains('loaded') }
        }

        when: 'two of the three HTTP servers stop'
        Instant before = Instant.now()
        stop('r2')
        stop('r3')

        then: 'the policy lowers VI_1 to 100, keepalived (120) takes over and holds the VIP'
        Instant lost = lb.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20), before)
        peer.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), before)
        lb.logText().contains('effective priority 150 -> 100')
        NetnsLab.waitFor(Duration.ofSeconds(5), 'the VIP on the peer') { lab.hasAddress('peer', VIP) && !lab.hasAddress('lb', VIP) }
        status().policies.offsets == [VI_1: ['web-capacity': -50]]

        when: 'they return'
        serve('r2', '10.91.1.12')
        serve('r3', '10.91.1.13')

        then: 'the policy resets the offset and Vigil (150) preempts back'
        lb.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20), lost)
        peer.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(10), lost)
        lb.logText().contains('effective priority 100 -> 150')
        NetnsLab.waitFor(Duration.ofSeconds(5), 'the VIP back on lb') { lab.hasAddress('lb', VIP) && !lab.hasAddress('peer', VIP) }
        NetnsLab.waitFor(Duration.ofSeconds(10), 'traffic through the VIP again') {
            lab.run('cl', 'curl', '-sf', '-o', '/dev/null', '--max-time', '2', "http://${VIP}/") == 0
        }

        and: "the audit trail holds the policy's actions"
        def audit = policy('audit', 'web-capacity')
        audit.exit == 0
        audit.out.contains('priority VI_1 offset -50')
        audit.out.contains('priority VI_1 offset 0')
    }
}
