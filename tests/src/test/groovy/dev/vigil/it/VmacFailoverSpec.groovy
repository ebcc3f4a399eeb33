package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * {@code use_vmac}: two Vigil nodes and a client on one bridge, each node serving HTTP on every
 * address. The VIP lives on a macvlan {@code vrrp.51} with the virtual router MAC
 * 00:00:5e:00:01:33 (RFC 5798 §7.3); adverts and gratuitous ARPs leave from it. The client's
 * neighbour entry for the VIP names that MAC; when the master stops, the backup takes over, the
 * entry keeps its MAC, the client sends no ARP request to find the VIP again, and its requests go
 * on, now answered by the other node. A tcpdump on the client sees every frame. Features run in
 * order.
 */
@Stepwise
@Requires({ NetnsLab.usable() && VmacFailoverSpec.tools() })
class VmacFailoverSpec extends Specification {

    static final String VIP = '10.78.0.50'
    static final String VMAC = '00:00:5e:00:01:33'
    static final String CLIENT = '10.78.0.100'

    @Shared NetnsLab lab
    @Shared VigilNode n1
    @Shared VigilNode n2
    @Shared Path capture
    @Shared Path requests

    /** tcpdump, curl and python3 (the HTTP servers): said loudly when one is missing. */
    static boolean tools() {
        def missing = ['tcpdump', 'curl', 'python3'].findAll { ['sh', '-c', "command -v ${it}"].execute().waitFor() != 0 }
        if (missing) {
            System.err.println("*** SKIPPING VmacFailoverSpec: missing ${missing.join(', ')} ***")
            if (Boolean.getBoolean('vigil.requireNetns')) {
                throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
            }
        }
        missing.isEmpty()
    }

    static String config(String routerId, String state, int priority) {
        """\
        global_defs {
           router_id ${routerId}
           vigil_api off
        }

        vrrp_instance VI_1 {
            state ${state}
            interface eth0
            virtual_router_id 51
            priority ${priority}
            advert_int 1
            use_vmac
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab()
                .host('n1', '10.78.0.1/24')
                .host('n2', '10.78.0.2/24')
                .host('cl', "${CLIENT}/24")
        ['n1', 'n2'].each { h ->
            Path root = lab.dir.resolve("www-${h}")
            Files.createDirectories(root)
            Files.writeString(root.resolve('node.txt'), "${h}\n")
            lab.spawn(h, lab.dir.resolve("${h}-http.log"),
                    ['python3', '-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', root.toString()])
        }
        capture = lab.dir.resolve('client-capture.txt')
        requests = lab.dir.resolve('client-requests.txt')
    }

    def cleanupSpec() {
        [n1, n2].each { node -> if (node != null) { System.err.println("--- ${node.host} log:\n${node.logText()}") } }
        if (capture != null && Files.exists(capture)) {
            System.err.println("--- client capture (tail):\n${Files.readAllLines(capture).takeRight(60).join('\n')}")
        }
        lab?.close()
    }

    /** The client's broadcast ARP requests for the VIP so far: each one is a (re-)resolution. */
    List<String> clientResolutions() {
        Files.readAllLines(capture).findAll {
            it.contains('> ff:ff:ff:ff:ff:ff') && it.contains("who-has ${VIP} tell ${CLIENT}")
        }
    }

    def 'the master carries the VIP on vrrp.51 with the virtual MAC and the client resolves the VIP to it'() {
        when:
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100)).start()
        n2 = new VigilNode(lab, 'n2', config('node-2', 'BACKUP', 90)).start()
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20))
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20))
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP on n1') { lab.hasAddress('n1', VIP) }
        lab.spawn('cl', capture, ['tcpdump', '-i', 'eth0', '-n', '-l', '-e', 'arp or ip proto 112'])
        NetnsLab.waitFor(Duration.ofSeconds(10), 'tcpdump listening') { Files.readString(capture).contains('listening on') }

        then: 'both nodes have the macvlan with the virtual MAC; only the master holds the VIP, on it'
        ['n1', 'n2'].every { lab.exec(it, 'ip', '-o', 'link', 'show', 'vrrp.51').contains("link/ether ${VMAC}") }
        lab.exec('n1', 'ip', '-o', 'addr', 'show', 'dev', 'vrrp.51').contains(" ${VIP}/24")
        !lab.exec('n1', 'ip', '-o', 'addr', 'show', 'dev', 'eth0').contains(" ${VIP}/")
        !lab.hasAddress('n2', VIP)

        and: "keepalived's sysctls: on the macvlan and on its base interface"
        sysctl('n1', 'net.ipv4.conf.vrrp/51.arp_ignore') == '1'
        sysctl('n1', 'net.ipv4.conf.vrrp/51.accept_local') == '1'
        sysctl('n1', 'net.ipv4.conf.vrrp/51.rp_filter') == '0'
        sysctl('n1', 'net.ipv6.conf.vrrp/51.disable_ipv6') == '1'
        sysctl('n1', 'net.ipv4.conf.eth0.arp_ignore') == '1'
        sysctl('n1', 'net.ipv4.conf.eth0.arp_filter') == '1'
        sysctl('n1', 'net.ipv4.conf.eth0.arp_announce') == '2'

        and: "the client reaches the VIP, which it resolved to the virtual MAC, not the node's own"
        lab.exec('cl', 'curl', '-s', '-m', '2', "http://${VIP}:8080/node.txt").trim() == 'n1'
        lab.exec('cl', 'ip', 'neigh', 'show', VIP).contains("lladdr ${VMAC}")
        !lab.exec('cl', 'ip', 'neigh', 'show', VIP).contains(lab.mac('n1'))

        and: "the master's adverts leave from the virtual MAC, with its own address as source"
        NetnsLab.waitFor(Duration.ofSeconds(5), 'an advert in the capture') {
            Files.readAllLines(capture).any {
                it.contains(" ${VMAC} > 01:00:5e:00:00:12") && it.contains('10.78.0.1 > 224.0.0.18') && it.contains('VRRP')
            }
        }
    }

    def 'after the master stops, the client goes on with the same neighbour entry and never re-resolves the VIP'() {
        given: 'the client sends a request every 100 ms'
        lab.spawn('cl', requests, ['sh', '-c',
                "while true; do curl -s -m 1 http://${VIP}:8080/node.txt || echo FAILED; sleep 0.1; done".toString()])
        NetnsLab.waitFor(Duration.ofSeconds(5), 'answers from n1') { Files.readAllLines(requests).count { it == 'n1' } >= 3 }
        int resolutionsBefore = clientResolutions().size()
        String entryBefore = lab.exec('cl', 'ip', 'neigh', 'show', VIP).trim()

        when:
        Instant stopped = Instant.now()
        n1.signal('TERM')
        n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), stopped)
        int exit = n1.awaitExit(Duration.ofSeconds(10))
        NetnsLab.waitFor(Duration.ofSeconds(10), 'answers from n2') { Files.readAllLines(requests).count { it == 'n2' } >= 10 }
        List<String> answers = Files.readAllLines(requests)
        String entryAfter = lab.exec('cl', 'ip', '-s', 'neigh', 'show', VIP).trim()
        println "client neighbour entry before: ${entryBefore}\nafter: ${entryAfter}"
        println "answers: ${answers.countBy { it }}"

        then: 'n2 took over, and its gratuitous ARP came from the virtual MAC'
        exit == 0
        lab.exec('n2', 'ip', '-o', 'addr', 'show', 'dev', 'vrrp.51').contains(" ${VIP}/24")
        Files.readAllLines(capture).any { it.contains(" ${VMAC} > ff:ff:ff:ff:ff:ff") && it.contains("who-has ${VIP} tell ${VIP}") }

        and: 'the client kept its entry: same virtual MAC, and no ARP request for the VIP since the failover'
        entryAfter.contains("lladdr ${VMAC}")
        clientResolutions().size() == resolutionsBefore

        and: 'its requests went on: answered by n1, then by n2, with at most a few lost at the hand-over'
        int lastN1 = answers.findLastIndexOf { it == 'n1' }
        int firstN2 = answers.findIndexOf { it == 'n2' }
        lastN1 >= 0 && firstN2 > lastN1
        answers.subList(lastN1 + 1, firstN2).size() <= 10
        answers.subList(firstN2, answers.size()).every { it == 'n2' }
    }

    def 'the stopped node deleted its macvlan and restored its base interface'() {
        expect:
        lab.run('n1', 'ip', 'link', 'show', 'vrrp.51') != 0
        sysctl('n1', 'net.ipv4.conf.eth0.arp_ignore') == '0'
        sysctl('n1', 'net.ipv4.conf.eth0.arp_filter') == '0'
        sysctl('n1', 'net.ipv4.conf.eth0.arp_announce') == '0'
        n1.logText().contains('deleted vrrp.51')

        when: 'n2 stops too'
        n2.signal('TERM')

        then:
        n2.awaitExit(Duration.ofSeconds(10)) == 0
        lab.run('n2', 'ip', 'link', 'show', 'vrrp.51') != 0
    }

    String sysctl(String host, String key) {
        lab.exec(host, 'sysctl', '-n', key).trim()
    }
}
