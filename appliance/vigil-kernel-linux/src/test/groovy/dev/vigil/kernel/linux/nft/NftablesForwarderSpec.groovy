package dev.vigil.kernel.linux.nft

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderContractSpec
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Requires

import java.util.concurrent.ThreadLocalRandom

/**
 * The forwarder contract against real nftables, each feature in a fresh network namespace, plus
 * the nftables specifics: the rules it writes, what it refuses, namespace confinement, and real
 * HTTP traffic balanced through it.
 */
@Requires(value = { NftablesForwarderSpec.usable() }, reason = 'needs root, iproute2 and libnftables1 + nftables')
class NftablesForwarderSpec extends ForwarderContractSpec {
    final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff))
    final String ns = "vnft-${id}"
    final List<String> namespaces = []
    final List<Process> processes = []

    static boolean usable() {
        String reason = null
        def uid = new File('/proc/self/status').readLines().find { it.startsWith('Uid:') }?.split(/\s+/)?.getAt(1)
        if (uid != '0') {
            reason = 'not root'
        } else if (!NftContext.available()) {
            reason = 'libnftables.so.1 missing (apt-get install libnftables1 nftables)'
        } else if (!['/usr/sbin/nft', '/sbin/nft'].any { new File(it).canExecute() }) {
            reason = 'the nft command is missing (apt-get install nftables)'
        }
        if (reason == null) {
            return true
        }
        System.err.println("*** SKIPPING nftables forwarder spec: ${reason} ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${reason}")
        }
        false
    }

    static String sh(String... command) {
        def p = new ProcessBuilder(command).redirectErrorStream(true).start()
        def out = p.inputStream.text
        int rc = p.waitFor()
        if (rc != 0) {
            throw new IllegalStateException("${command.join(' ')} exited ${rc}: ${out}")
        }
        out
    }

    String newNamespace(String suffix) {
        String name = "${ns}${suffix}"
        sh('ip', 'netns', 'add', name)
        namespaces << name
        sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        name
    }

    def setup() {
        newNamespace('')
    }

    def cleanup() {
        processes.each { it.destroyForcibly(); it.waitFor() }
        namespaces.each { new ProcessBuilder('ip', 'netns', 'del', it).start().waitFor() }
    }

    @Override
    Forwarder newForwarder() { NftablesForwarder.inNamespace(ns) }

    static final String FOREIGN = '''
        table ip foreign {
            chain pre {
                type nat hook prerouting priority -150; policy accept;
                ip daddr 192.0.2.10 tcp dport 80 counter jump sub comment "vigil:s TCP 192.0.2.10 80 rr 0 32 -"
            }
            chain sub {
                dnat to 203.0.113.1 comment "vigil:d 203.0.113.1 8080 NAT 1 0 0"
            }
        }
        '''

    @Override
    void plantForeignRule() {
        def f = File.createTempFile('foreign', '.nft')
        f.text = FOREIGN
        sh('ip', 'netns', 'exec', ns, 'nft', '-f', f.path)
        f.delete()
        foreignBefore = sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'foreign')
    }

    String foreignBefore

    @Override
    boolean foreignRuleIntact() {
        def listing = sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'foreign')
        listing == foreignBefore && listing.contains('ip daddr 192.0.2.10 tcp dport 80 counter packets 0 bytes 0 jump sub')
    }

    String listing() {
        sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'vigil')
    }

    def "wrr becomes weighted numgen slots, sh a weighted jhash, and weight 0 takes no slot"() {
        given:
        def f = forwarder()
        def d1 = Destination.nat(ip('198.51.100.1'), 8080)
        def d2 = Destination.nat(ip('198.51.100.2'), 8080).withWeight(3)
        def d3 = Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)

        when:
        f.apply(DesiredState.of(VirtualService.of(Service.of(web, sched), [d1, d2, d3])))
        def text = listing()

        then:
        text.contains(selector)
        text =~ /0 : jump s_tcp_c000020a_80_d_c6336401_8080, 1-3 : jump s_tcp_c000020a_80_d_c6336402_8080 \}/
        !(text =~ /: jump s_tcp_c000020a_80_d_c6336403_8080/)
        text.contains('ip daddr 192.0.2.10 tcp dport 80 jump s_tcp_c000020a_80')
        text.contains('counter name "s_tcp_c000020a_80_d_c6336402_8080" meta l4proto tcp dnat to 198.51.100.2:8080')
        f.current().services()[web].destinations()[d3.key()].weight() == 0

        where:
        sched | selector
        'wrr' | 'numgen inc mod 4 vmap'
        'sh'  | 'jhash ip saddr mod 4 seed 0x0 vmap'
    }

    def "fwmark, UDP and SCTP services dispatch on their own match and round-trip"() {
        given:
        def f = forwarder()
        def state = DesiredState.of(
                VirtualService.of(Service.of(ServiceKey.fwmark(7, AddressFamily.INET), 'rr'),
                        [Destination.nat(ip('198.51.100.1'), 0)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.20'), 53, Protocol.UDP), 'sh'),
                        [Destination.nat(ip('198.51.100.2'), 5353)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.21'), 3868, Protocol.SCTP), 'rr'),
                        [Destination.nat(ip('198.51.100.3'), 3868)]))

        when:
        f.apply(state)
        def text = listing()

        then:
        text.contains('meta mark 0x00000007 jump s_fwmark_7')
        text.contains('dnat to 198.51.100.1 comment')
        text.contains('ip daddr 192.0.2.20 udp dport 53 jump s_udp_c0000214_53')
        text.contains('meta l4proto udp dnat to 198.51.100.2:5353')
        text.contains('ip daddr 192.0.2.21 sctp dport 3868 jump s_sctp_c0000215_3868')
        forwarder().current() == state
        !forwarder().apply(state).changed()
    }

    def "a fresh namespace has no table until something is applied, and an empty apply creates none"() {
        given:
        def f = forwarder()

        expect:
        f.current().isEmpty()
        !f.apply(DesiredState.EMPTY).changed()
        !sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'tables').contains('vigil')
    }

    def "what nftables cannot express is refused before anything changes"() {
        given:
        def f = forwarder()
        f.apply(twoServices())

        when:
        f.apply(twoServices().with(bad))

        then:
        def e = thrown(KernelException)
        e.errno() == 95
        f.current() == twoServices()

        where:
        bad << [
                VirtualService.of(Service.of(web, 'wlc'), [Destination.nat(ip('198.51.100.1'), 8080)]),
                VirtualService.of(Service.of(web, 'rr').withPersistence(300), []),
                VirtualService.of(Service.of(web, 'rr'), [new Destination(ip('198.51.100.1'), 80, ForwardingMethod.DR, 1, 0, 0)]),
                VirtualService.of(Service.of(web, 'rr'), [new Destination(ip('198.51.100.1'), 80, ForwardingMethod.NAT, 1, 100, 0)]),
        ]
    }

    def "the rules live only in the forwarder's namespace"() {
        given:
        def other = newNamespace('o')
        def f = forwarder()

        when:
        f.apply(twoServices())

        then:
        listing().contains('vigil:s TCP 192.0.2.10 80 wrr 0 32 -')
        !sh('ip', 'netns', 'exec', other, 'nft', 'list', 'tables').contains('vigil')
        NftablesForwarder.inNamespace(other).withCloseable { it.current().isEmpty() }
    }

    def "HTTP through the VIP is balanced round robin over two servers and counted per destination"() {
        given: 'client -- director -- server; the director owns the VIP and is the server\'s gateway'
        int n = ThreadLocalRandom.current().nextInt(1, 250)
        String client = newNamespace('c')
        String server = newNamespace('s')
        sh('ip', '-n', ns, 'link', 'add', "vc${id}", 'type', 'veth', 'peer', 'name', "vcp${id}", 'netns', client)
        sh('ip', '-n', ns, 'link', 'add', "vs${id}", 'type', 'veth', 'peer', 'name', "vsp${id}", 'netns', server)
        sh('ip', '-n', ns, 'addr', 'add', "10.${n}.1.1/24", 'dev', "vc${id}")
        sh('ip', '-n', ns, 'addr', 'add', "10.${n}.1.100/32", 'dev', "vc${id}")
        sh('ip', '-n', ns, 'addr', 'add', "10.${n}.2.1/24", 'dev', "vs${id}")
        sh('ip', '-n', client, 'addr', 'add', "10.${n}.1.2/24", 'dev', "vcp${id}")
        sh('ip', '-n', server, 'addr', 'add', "10.${n}.2.2/24", 'dev', "vsp${id}")
        ["vc${id}", "vs${id}"].each { sh('ip', '-n', ns, 'link', 'set', it, 'up') }
        sh('ip', '-n', client, 'link', 'set', "vcp${id}", 'up')
        sh('ip', '-n', server, 'link', 'set', "vsp${id}", 'up')
        sh('ip', '-n', server, 'route', 'add', 'default', 'via', "10.${n}.2.1")
        sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        def dirs = [8080, 8081].collect { port ->
            def dir = File.createTempDir()
            new File(dir, 'id').text = "server-${port}"
            processes << new ProcessBuilder('ip', 'netns', 'exec', server, '/usr/bin/python3', '-m', 'http.server',
                    '--bind', "10.${n}.2.2", String.valueOf(port), '--directory', dir.path)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
            dir
        }
        [8080, 8081].each { port -> waitForHttp(server, "http://10.${n}.2.2:${port}/id") }
        def vip = ip("10.${n}.1.100")
        def key = ServiceKey.of(vip, 80, Protocol.TCP)
        def a = Destination.nat(ip("10.${n}.2.2"), 8080)
        def b = Destination.nat(ip("10.${n}.2.2"), 8081)
        def f = forwarder()
        f.apply(DesiredState.of(VirtualService.of(Service.of(key, 'rr'), [a, b])))

        when:
        def bodies = (1..4).collect { sh('ip', 'netns', 'exec', client, 'curl', '-sf', '--max-time', '10', "http://10.${n}.1.100/id").trim() }

        then: 'round robin alternates between the two'
        bodies.count('server-8080') == 2
        bodies.count('server-8081') == 2
        bodies[0] != bodies[1]

        and: 'each destination counted its two connections'
        def stats = f.stats().services()[key]
        stats.destinations()[a.key()].connections() == 2
        stats.destinations()[b.key()].connections() == 2
        stats.total().connections() == 4

        when: 'b is drained to weight 0: everything goes to a, counters survive the rewrite'
        f.apply(DesiredState.of(VirtualService.of(Service.of(key, 'rr'), [a, b.withWeight(0)])))
        def after = (1..3).collect { sh('ip', 'netns', 'exec', client, 'curl', '-sf', '--max-time', '10', "http://10.${n}.1.100/id").trim() }

        then:
        after == ['server-8080'] * 3
        f.stats().services()[key].destinations()[a.key()].connections() == 5
        f.stats().services()[key].destinations()[b.key()].connections() == 2

        cleanup:
        dirs*.deleteDir()
    }

    static void waitForHttp(String netns, String url) {
        long deadline = System.nanoTime() + 20_000_000_000L
        while (true) {
            def p = new ProcessBuilder('ip', 'netns', 'exec', netns, 'curl', '-sf', '--max-time', '2', url)
                    .redirectErrorStream(true).start()
            p.inputStream.text
            if (p.waitFor() == 0) {
                return
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no HTTP server at ${url} after 20 s")
            }
            Thread.sleep(200)
        }
    }
}
