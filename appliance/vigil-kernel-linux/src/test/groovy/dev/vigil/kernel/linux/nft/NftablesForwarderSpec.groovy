package dev.vigil.kernel.linux.nft

import static dev.vigil.kernel.linux.TwoHosts.sh
import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderContractSpec
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.ForwardingOp
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Requires

import java.util.HexFormat
import java.util.concurrent.ThreadLocalRandom

/**
 * The forwarder contract against real nftables, each feature in a fresh network namespace, plus
 * the nftables specifics: the rules it writes for NAT and DR, what it refuses, namespace
 * confinement, the earlier layout's table, and real traffic balanced through it (DR traffic:
 * {@link NftablesDirectRoutingSpec}).
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
    Forwarder.FlushScope flushScope() { Forwarder.FlushScope.OWNED }

    @Override
    boolean foreignRuleIntact() {
        def listing = sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'foreign')
        listing == foreignBefore && listing.contains('ip daddr 192.0.2.10 tcp dport 80 counter packets 0 bytes 0 jump sub')
    }

    /** The namespace's whole ruleset as nft lists it, with runs of white space made one space. */
    String listing(String netns = ns) {
        sh('ip', 'netns', 'exec', netns, 'nft', 'list', 'ruleset').replaceAll(/\s+/, ' ')
    }

    /**
     * The namespace's ruleset as nft's JSON objects without handles, sorted: tables, maps and
     * chains are listed in the order they were made, and elements in the order the kernel keeps
     * them, neither of which says anything about the rules. A rule keeps its place in its chain.
     */
    static List<String> canonical(String netns) {
        def json = Json.parse(sh('ip', 'netns', 'exec', netns, 'nft', '-j', 'list', 'ruleset'))
        Map<String, Integer> positions = [:]
        json.nftables.findAll { !it.metainfo }.collect {
            def o = withoutHandles(it)
            if (o.rule) {
                String chain = "${o.rule.family} ${o.rule.table} ${o.rule.chain}"
                positions[chain] = (positions[chain] ?: 0) + 1
                o.rule.position = positions[chain]
            }
            Json.write(o)
        }.sort()
    }

    static Object withoutHandles(Object o) {
        if (o instanceof Map) {
            def m = new TreeMap()
            o.each { k, v -> if (k != 'handle') { m[k] = withoutHandles(v) } }
            if (m.elem instanceof List) {
                m.elem = m.elem.sort(false) { Json.write(it) }
            }
            return m
        }
        o instanceof List ? o.collect { withoutHandles(it) } : o
    }

    /** Runs {@code script} with {@code nft -f} in {@code netns}. */
    static void nftFile(String netns, String script) {
        def f = File.createTempFile('vigil', '.nft')
        f.text = script
        try {
            sh('ip', 'netns', 'exec', netns, 'nft', '-f', f.path)
        } finally {
            f.delete()
        }
    }

    /** A DR destination with weight 1 at the service's port. */
    static Destination dr(String address, int port = 80) {
        new Destination(ip(address), port, ForwardingMethod.DR, 1, 0, 0)
    }

    def "wrr becomes weighted numgen slots, sh a weighted jhash, and weight 0 takes no slot"() {
        given:
        def f = forwarder()
        def d1 = Destination.nat(ip('198.51.100.1'), 8080)
        def d2 = Destination.nat(ip('198.51.100.2'), 8080).withWeight(3)
        def d3 = Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)

        when:
        f.apply(DesiredState.of(VirtualService.of(new Service(web, sched, 0, 32, flags as Set), [d1, d2, d3])))
        def text = listing()

        then: 'the dispatch map sends the service to its chain, whose rule draws one of 4 slots'
        text.contains('map services { type ipv4_addr . inet_proto . inet_service : verdict elements = { 192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80 } }')
        text.contains("chain s_tcp_c000020a_80 { ${rule} map @s_tcp_c000020a_80 comment \"vigil:s TCP 192.0.2.10 80 ${sched} 0 32 ${flags.join(',') ?: '-'}\" }")
        !text.contains('dr_prerouting')

        and: 'slot 0 is d1, slots 1-3 are d2, and d3 sits on key 4, which no draw reaches'
        text.contains('0 counter packets 0 bytes 0 comment "vigil:d 198.51.100.1 8080 NAT 1 0 0" : 198.51.100.1 . 8080')
        text.contains('1-3 counter packets 0 bytes 0 comment "vigil:d 198.51.100.2 8080 NAT 3 0 0" : 198.51.100.2 . 8080')
        text.contains('4 counter packets 0 bytes 0 comment "vigil:d 198.51.100.3 8080 NAT 0 0 0" : 198.51.100.3 . 8080')
        f.current().services()[web].destinations()[d3.key()].weight() == 0

        where: 'with sh-port, nft folds the protocol match into the port it hashes'
        sched | flags       | rule
        'wrr' | []          | 'meta l4proto tcp dnat ip to numgen inc mod 4'
        'sh'  | []          | 'meta l4proto tcp dnat ip to jhash ip saddr mod 4 seed 0x0'
        'sh'  | ['sh-port'] | 'dnat ip to jhash ip saddr . tcp sport mod 4 seed 0x0'
        'wrr' | ['sh-port'] | 'meta l4proto tcp dnat ip to numgen inc mod 4'
    }

    def "DR becomes dup to a weighted jhash slot's address then drop, dispatched by a filter chain before NAT"() {
        given:
        def f = forwarder()
        def state = DesiredState.of(VirtualService.of(new Service(web, 'sh', 0, 32, flags as Set),
                [dr('198.51.100.1'), dr('198.51.100.2').withWeight(3), dr('198.51.100.3', 8080).withWeight(0)]))

        when:
        f.apply(state)
        def text = listing()

        then: 'the table gets the DR dispatch: its own maps, looked up by a filter chain at mangle + 10'
        text.contains('map dr_services { type ipv4_addr . inet_proto . inet_service : verdict elements = { 192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80 } }')
        text.contains('map services { type ipv4_addr . inet_proto . inet_service : verdict }')
        text.contains('chain dr_prerouting { type filter hook prerouting priority mangle + 10; policy accept; ip daddr . meta l4proto . th dport vmap @dr_services meta mark vmap @dr_fwmarks }')

        and: 'the rule sends a copy to the slot\'s address and drops the original'
        text.contains("chain s_tcp_c000020a_80 { dup to ${selector} map @s_tcp_c000020a_80 drop comment \"vigil:s TCP 192.0.2.10 80 sh 0 32 ${flags.join(',') ?: '-'}\" }")

        and: 'the map holds addresses only: DR does not change the port'
        text.contains('typeof numgen inc mod 2 : ip daddr flags interval counter elements = { 0 counter packets 0 bytes 0 comment "vigil:d 198.51.100.1 80 DR 1 0 0" : 198.51.100.1, 1-3 counter packets 0 bytes 0 comment "vigil:d 198.51.100.2 80 DR 3 0 0" : 198.51.100.2, 4 counter packets 0 bytes 0 comment "vigil:d 198.51.100.3 8080 DR 0 0 0" : 198.51.100.3 }')

        and: 'it reads back, and a new instance adopts it'
        f.current() == state
        forwarder().current() == state
        !forwarder().apply(state).changed()

        where:
        flags       | selector
        []          | 'jhash ip saddr mod 4 seed 0x0'
        ['sh-port'] | 'jhash ip saddr . th sport mod 4 seed 0x0'
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
        text.contains('0x00000007 : jump s_fwmark_7')
        text.contains('dnat to numgen inc mod 1 map @s_fwmark_7')
        text.contains('comment "vigil:d 198.51.100.1 0 NAT 1 0 0" : 198.51.100.1 }')
        text.contains('192.0.2.20 . udp . 53 : jump s_udp_c0000214_53')
        text.contains('meta l4proto udp dnat ip to jhash ip saddr mod 1 seed 0x0 map @s_udp_c0000214_53')
        text.contains(': 198.51.100.2 . 5353')
        text.contains('192.0.2.21 . sctp . 3868 : jump s_sctp_c0000215_3868')
        text.contains('meta l4proto sctp dnat ip to numgen inc mod 1 map @s_sctp_c0000215_3868')
        forwarder().current() == state
        !forwarder().apply(state).changed()
    }

    /** Services of every kind the backend takes, for comparing with what nft -f makes. */
    static DesiredState variety() {
        def v6 = ServiceKey.of(ip('2001:db8::10'), 443, Protocol.TCP)
        DesiredState.of(
                VirtualService.of(Service.of(web, 'wrr'), [Destination.nat(ip('198.51.100.1'), 8080).withWeight(2),
                        Destination.nat(ip('198.51.100.2'), 0), Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)]),
                VirtualService.of(Service.of(dns, 'sh'), [Destination.nat(ip('198.51.100.4'), 5353).withWeight(5)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.12'), 3868, Protocol.SCTP), 'rr'), []),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.13'), 25, Protocol.TCP), 'rr'),
                        [Destination.nat(ip('198.51.100.5'), 25).withWeight(0)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(7, AddressFamily.INET), 'rr'),
                        [Destination.nat(ip('198.51.100.6'), 0), Destination.nat(ip('198.51.100.7'), 0).withWeight(4)]),
                VirtualService.of(Service.of(v6, 'wrr'), [Destination.nat(ip('2001:db8:1::1'), 8443).withWeight(3),
                        Destination.nat(ip('2001:db8:1::2'), 8443)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(8, AddressFamily.INET6), 'sh'),
                        [Destination.nat(ip('2001:db8:1::3'), 0)]),
                VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.15'), 80, Protocol.TCP), 'sh', 0, 32, ['sh-port'] as Set),
                        [Destination.nat(ip('198.51.100.11'), 8080).withWeight(2), Destination.nat(ip('198.51.100.12'), 8080)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.16'), 443, Protocol.TCP), 'sh'),
                        [dr('198.51.100.13', 443).withWeight(2), dr('198.51.100.14', 443), dr('198.51.100.15', 443).withWeight(0)]),
                VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.17'), 53, Protocol.UDP), 'sh', 0, 32, ['sh-port'] as Set),
                        [dr('198.51.100.16', 53)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(9, AddressFamily.INET), 'sh'), [dr('198.51.100.17', 80)]),
                VirtualService.of(new Service(ServiceKey.of(ip('2001:db8::20'), 80, Protocol.TCP), 'sh', 0, 128, ['sh-port'] as Set),
                        [dr('2001:db8:1::5'), dr('2001:db8:1::6').withWeight(2)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(10, AddressFamily.INET6), 'sh'), [dr('2001:db8:1::7', 0)]))
    }

    def "the forwarder makes exactly the rules nft -f makes from NftScript, from empty and after changes"() {
        given:
        def f = forwarder()
        def reference = newNamespace('r')

        when: 'from empty'
        f.apply(variety())
        nftFile(reference, NftScript.of(variety()))

        then:
        canonical(ns) == canonical(reference)
        canonical(ns).size() > 30
        listing().contains('table ip6 vigil_')
        listing().contains('dup to jhash ip6 saddr . th sport mod 3 seed 0x0 map @s_tcp_20010db8000000000000000000000020_80 drop')

        when: 'changed on top: weights, a destination each way, a scheduler, a service each way, NAT to DR and back'
        def changed = variety()
                .with(VirtualService.of(Service.of(web, 'rr'), [Destination.nat(ip('198.51.100.2'), 0),
                        Destination.nat(ip('198.51.100.3'), 8080), Destination.nat(ip('198.51.100.9'), 8080).withWeight(2)]))
                .with(VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.12'), 3868, Protocol.SCTP), 'rr'),
                        [Destination.nat(ip('198.51.100.8'), 3868)]))
                .without(dns)
                .with(VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.14'), 80, Protocol.UDP), 'sh'),
                        [Destination.nat(ip('198.51.100.10'), 8080)]))
                .with(VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.15'), 80, Protocol.TCP), 'sh', 0, 32, ['sh-port'] as Set),
                        [dr('198.51.100.11').withWeight(2), dr('198.51.100.12')]))
                .with(VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.16'), 443, Protocol.TCP), 'sh'),
                        [Destination.nat(ip('198.51.100.13'), 8443)]))
                .with(VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.17'), 53, Protocol.UDP), 'sh', 0, 32, [] as Set),
                        [dr('198.51.100.16', 53).withWeight(3), dr('198.51.100.18', 53)]))
                .without(ServiceKey.fwmark(9, AddressFamily.INET))
                .with(VirtualService.of(new Service(ServiceKey.of(ip('2001:db8::20'), 80, Protocol.TCP), 'sh', 0, 128, ['sh-port'] as Set),
                        [dr('2001:db8:1::6').withWeight(2)]))
        f.apply(changed)
        def fresh = newNamespace('f')
        nftFile(fresh, NftScript.of(changed))

        then: 'the same rules as nft makes from empty, in the same tables'
        canonical(ns) == canonical(fresh)
        forwarder().current() == changed
    }

    def "a one-destination change rewrites only that service's map elements and rule (#method)"() {
        given:
        def f = forwarder()
        f.apply(variety())
        def log = File.createTempFile('vigil-monitor', '.txt')
        def monitor = new ProcessBuilder('ip', 'netns', 'exec', ns, 'nft', 'monitor', 'ruleset').redirectErrorStream(true)
                .redirectOutput(log).start()
        processes << monitor
        Thread.sleep(500)

        when:
        f.apply(variety().with(changed))
        Thread.sleep(500)
        monitor.destroy()
        monitor.waitFor()
        def events = log.readLines().findAll { it.startsWith('add ') || it.startsWith('delete ') }
        log.delete()

        then: 'slot 2 becomes 2-5 for the second destination and 3 becomes 6 for the idle one, their elements replaced; the rule draws mod 6; nothing else is touched'
        events.size() >= 3
        events.every { it.contains(chain) }
        events.any { it.startsWith('delete element') && it.contains(' 2 ') }
        events.any { it.startsWith('add element') && it.contains('2-5') }
        events.any { it.startsWith('delete rule') }
        events.any { it.startsWith('add rule') }
        !events.any { it.contains(untouched) }
        listing().contains(rule)

        where:
        method | changed | chain | untouched | rule
        'NAT'  | VirtualService.of(Service.of(web, 'wrr'), [Destination.nat(ip('198.51.100.1'), 8080).withWeight(2),
                Destination.nat(ip('198.51.100.2'), 0).withWeight(4), Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)]) |
                's_tcp_c000020a_80' | '198.51.100.1' | 'dnat ip to numgen inc mod 6 map @s_tcp_c000020a_80'
        'DR'   | VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.16'), 443, Protocol.TCP), 'sh'), [dr('198.51.100.13', 443).withWeight(2),
                dr('198.51.100.14', 443).withWeight(4), dr('198.51.100.15', 443).withWeight(0)]) |
                's_tcp_c0000210_443' | '198.51.100.13' | 'dup to jhash ip saddr mod 6 seed 0x0 map @s_tcp_c0000210_443 drop'
    }

    def "an element re-written because its slots moved keeps its counter"() {
        given: 'connections made in the namespace itself go through the output chain; a veth link routes them'
        routeRealServers()
        def f = forwarder()
        f.apply(variety())

        when: 'six connections to web: slots 0-1 are the first destination, slot 2 the second'
        6.times { connect('192.0.2.10', 80) }
        def second = new DestinationKey(ip('198.51.100.2'), 0)

        then:
        f.stats().services()[web].destinations()[second].connections() == 2
        f.stats().services()[web].total().connections() == 6

        when: 'the first destination\'s weight grows: the second one\'s slot moves from 2 to 3'
        f.apply(variety().with(VirtualService.of(Service.of(web, 'wrr'), [Destination.nat(ip('198.51.100.1'), 8080).withWeight(3),
                Destination.nat(ip('198.51.100.2'), 0), Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)])))

        then:
        listing().contains('3 counter packets 2 bytes ')
        f.stats().services()[web].destinations()[second].connections() == 2
        f.stats().services()[web].total().connections() == 6
    }

    def "the conntrack entries of a removed NAT destination go, those of the others and of a quiesced one stay"() {
        given: 'connections made in the namespace itself go through the output chain; a veth link routes them'
        routeRealServers()
        def f = forwarder()
        f.apply(variety())
        def web2 = { List ds -> variety().with(VirtualService.of(Service.of(web, 'wrr'), ds)) }
        def first = Destination.nat(ip('198.51.100.1'), 8080).withWeight(2)
        def third = Destination.nat(ip('198.51.100.3'), 8080).withWeight(0)

        when: 'six connections to web: four DNATed to 198.51.100.1:8080, two to 198.51.100.2:80; none answered'
        6.times { connect('192.0.2.10', 80) }

        then:
        repliesFrom() == ['198.51.100.1:8080': 4, '198.51.100.2:80': 2]

        when: 'the second destination is removed'
        f.apply(web2([first, third]))

        then: 'its entries are gone, the first one\'s stay'
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(2, 2, null)
        repliesFrom() == ['198.51.100.1:8080': 4]

        when: 'the first one is quiesced (weight 0): its connections stay, as IPVS keeps them'
        f.apply(web2([first.withWeight(0), third]))

        then:
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(0, 0, null)
        repliesFrom() == ['198.51.100.1:8080': 4]

        when: 'the service is removed'
        f.apply(variety().without(web))

        then: 'the entries of its destinations go with it'
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(4, 4, null)
        repliesFrom() == [:]
    }

    def "hundreds of conntrack entries go in one apply, after a transaction has sized the socket's send buffer"() {
        given: 'as above; the first apply is an nf_tables transaction of a few kilobytes'
        routeRealServers()
        def f = forwarder()
        def pool = VirtualService.of(Service.of(web, 'rr'), [Destination.nat(ip('198.51.100.1'), 8080)])
        f.apply(DesiredState.of(pool))

        when: '300 connections to the one destination: their deletions take more than one 16 KiB datagram'
        sh('ip', 'netns', 'exec', ns, 'bash', '-c',
                'for i in $(seq 300); do (exec 3<>/dev/tcp/192.0.2.10/80) 2>/dev/null & done; sleep 1; kill $(jobs -p) 2>/dev/null; wait; true')
        def opened = repliesFrom()['198.51.100.1:8080']

        and:
        f.apply(DesiredState.of(VirtualService.of(Service.of(web, 'rr'), [])))

        then:
        opened == 300
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(300, 300, null)
        repliesFrom() == [:]
    }

    def "many real servers removed from one service: one dump of that service's connections"() {
        given: 'web with 20 real servers, and another service whose connections stay'
        routeRealServers()
        def f = forwarder()
        def many = (1..20).collect { Destination.nat(ip("198.51.100.${it}"), 8080) }
        def other = VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.13'), 25, Protocol.TCP), 'rr'),
                [Destination.nat(ip('198.51.100.200'), 25)])
        f.apply(DesiredState.of(VirtualService.of(Service.of(web, 'rr'), many), other))

        when: 'two connections to each of web\'s real servers, three to the other service'
        40.times { connect('192.0.2.10', 80) }
        3.times { connect('192.0.2.13', 25) }
        def before = repliesFrom().values().sum()

        and: 'seventeen of web\'s real servers are removed'
        f.apply(DesiredState.of(VirtualService.of(Service.of(web, 'rr'), many.take(3)), other))

        then: 'the kernel sent web\'s 40 entries only, and only the removed servers\' 34 went'
        before == 40
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(40, 34, null)
        repliesFrom().size() == 3
        repliesFrom().values().every { it == 2 }
    }

    def "real servers removed from more services than filtered dumps: one dump of the translated entries, not of the director's own connections"() {
        given: 'five services of one real server each'
        routeRealServers()
        def f = forwarder()
        def vips = (10..14).collect { "192.0.2.${it}" }
        def services = vips.withIndex().collect { vip, i ->
            VirtualService.of(Service.of(ServiceKey.of(ip(vip), 80, Protocol.TCP), 'rr'), [Destination.nat(ip("198.51.100.${i + 1}"), 8080)])
        }
        f.apply(DesiredState.of(services as VirtualService[]))

        when: 'two connections to each service, and three the director makes to a real server itself (not translated)'
        vips.each { vip -> 2.times { connect(vip, 80) } }
        3.times { connect('198.51.100.1', 8080) }
        def direct = conntrackLines().count { it.contains('dst=198.51.100.1 ') && it.contains('dport=8080 ') }

        and: 'every service loses its real server'
        f.apply(DesiredState.of(services.collect { VirtualService.of(it.service(), []) } as VirtualService[]))

        then: 'the kernel sent the ten translated entries only; they went, the director\'s own stay'
        Conntrack.FILTERED_DUMPS < vips.size()
        direct == 3
        f.lastConntrackCleanup() == new NftablesForwarder.ConntrackCleanup(10, 10, null)
        conntrackLines().count { it.contains('dst=198.51.100.1 ') && it.contains('dport=8080 ') } == 3
        conntrackLines().count { it.contains('dport=80 ') } == 0
    }

    /**
     * A veth pair in the forwarder's namespace, 192.0.2.1/24 on d0, routing the real servers'
     * 198.51.100.0/24 out of it: connections made in the namespace itself go through the output
     * chain and are DNATed there; nobody answers them, so they stay in conntrack as SYN_SENT.
     */
    void routeRealServers() {
        sh('ip', '-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1')
        sh('ip', '-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'd0')
        sh('ip', '-n', ns, 'link', 'set', 'd0', 'up')
        sh('ip', '-n', ns, 'link', 'set', 'd1', 'up')
        sh('ip', '-n', ns, 'route', 'add', '198.51.100.0/24', 'dev', 'd0')
    }

    /**
     * The conntrack entries of TCP connections to 192.0.2.10:80 in the forwarder's namespace,
     * counted by the source of their reply tuple (the real server they were DNATed to), as
     * /proc/net/nf_conntrack lists them.
     */
    List<String> conntrackLines() {
        sh('ip', 'netns', 'exec', ns, 'cat', '/proc/net/nf_conntrack').readLines()
    }

    Map<String, Integer> repliesFrom() {
        def table = new File('/proc/net/nf_conntrack')
        if (!table.exists()) {
            throw new IllegalStateException('/proc/net/nf_conntrack is missing: nf_conntrack is not loaded, or built without procfs')
        }
        def out = new TreeMap<String, Integer>()
        sh('ip', 'netns', 'exec', ns, 'cat', '/proc/net/nf_conntrack').readLines().each { line ->
            def src = line.findAll(/src=(\S+)/) { it[1] }
            def sport = line.findAll(/sport=(\d+)/) { it[1] }
            if (line.contains(' tcp ') && line.contains('dst=192.0.2.10 ') && line.contains('dport=80 ') && src.size() == 2) {
                out.merge("${src[1]}:${sport[1]}".toString(), 1, Integer::sum)
            }
        }
        out
    }

    /** Opens a TCP connection from the forwarder's namespace (nobody answers: the SYN is enough). */
    void connect(String address, int port) {
        new ProcessBuilder('ip', 'netns', 'exec', ns, 'timeout', '0.3', 'bash', '-c', "echo > /dev/tcp/${address}/${port}")
                .redirectErrorStream(true).start().with { it.inputStream.text; it.waitFor() }
    }

    /** The vigil table holding service {@code name}'s chain. */
    String tableOf(String name) {
        def m = sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'chains').readLines()
        String table = null
        for (String line : m) {
            def t = line =~ /^table ip (vigil_[0-9a-f]) \{/
            if (t) {
                table = t[0][1]
            } else if (line.contains("chain ${name} {")) {
                return table
            }
        }
        throw new IllegalStateException("no chain ${name}")
    }

    def "a service deleted behind the forwarder's back: the change to it fails and changes nothing, then the next apply reads the tables and makes it again"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def where = tableOf('s_tcp_c000020a_80')
        nftFile(ns, """delete element ip ${where} services { 192.0.2.10 . tcp . 80 }
delete chain ip ${where} s_tcp_c000020a_80
delete map ip ${where} s_tcp_c000020a_80
""")
        def wanted = twoServices().with(webPool(['198.51.100.1': 2, '198.51.100.2': 3]))
            .with(VirtualService.of(Service.of(dns, 'rr'), [Destination.nat(ip('198.51.100.3'), 5353).withWeight(2)]))
        def before = listing()

        when: 'the forwarder still takes web to be there'
        f.apply(wanted)

        then: 'refused as one transaction: dns did not change either'
        def e = thrown(KernelException)
        e.call() == 'nf_tables'
        e.errno() == 2
        e.message.contains('s_tcp_c000020a_80')
        e.message.contains('nothing was changed')
        listing() == before

        when:
        def report = f.apply(wanted)

        then: 'it read the tables: web is added whole, dns updated'
        report.operations().first() == new ForwardingOp.AddService(Service.of(web, 'wrr'))
        f.current() == wanted
        listing().contains('192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80')
    }

    def "a service damaged behind the forwarder's back is not reported, and the next apply removes its remains and makes it again"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def where = tableOf('s_tcp_c000020a_80')
        sh('ip', 'netns', 'exec', ns, 'nft', 'flush', 'chain', 'ip', where, 's_tcp_c000020a_80')

        expect:
        f.current() == twoServices().without(web)
        f.apply(twoServices()).operations().first() == new ForwardingOp.AddService(Service.of(web, 'wrr'))
        forwarder().current() == twoServices()
        listing().count('chain s_tcp_c000020a_80 {') == 1
    }

    def "a DR service whose dispatch element was moved to the NAT map behind the forwarder's back is not reported, and the next apply makes it again"() {
        given:
        def f = forwarder()
        def state = DesiredState.of(VirtualService.of(Service.of(web, 'sh'), [dr('198.51.100.1'), dr('198.51.100.2')]))
        f.apply(state)
        def where = tableOf('s_tcp_c000020a_80')
        nftFile(ns, """delete element ip ${where} dr_services { 192.0.2.10 . tcp . 80 }
add element ip ${where} services { 192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80 }
""")

        expect: 'a DR rule reached from a NAT chain is not what the forwarder makes'
        f.current().isEmpty()
        f.apply(state).operations().first() == new ForwardingOp.AddService(Service.of(web, 'sh'))
        forwarder().current() == state
        listing().contains('map services { type ipv4_addr . inet_proto . inet_service : verdict }')
    }

    def "a fresh namespace has no table until something is applied, and an empty apply creates none"() {
        given:
        def f = forwarder()

        expect:
        f.current().isEmpty()
        !f.apply(DesiredState.EMPTY).changed()
        !sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'tables').contains('vigil')
    }

    def "what nftables cannot express is refused before anything changes, and says why"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def before = listing()

        when:
        f.apply(twoServices().with(bad))

        then:
        def e = thrown(KernelException)
        e.errno() == 95
        e.message == "nftables: ${bad.key()}: ${reason} is not supported by the nftables forwarder (errno 95)"
        NftablesForwarder.limitation(bad) == reason
        f.current() == twoServices()
        listing() == before

        where:
        bad                                                                                                    || reason
        VirtualService.of(Service.of(web, 'wlc'), [Destination.nat(ip('198.51.100.1'), 8080)])                   || 'lb_algo wlc (the nftables forwarder does [rr, sh, wrr])'
        VirtualService.of(Service.of(web, 'rr').withPersistence(300), [])                                        || 'persistence_timeout'
        VirtualService.of(new Service(web, 'sh', 0, 32, ['sh-port', 'sh-fallback'] as Set), [])                 || 'flags [sh-fallback]'
        VirtualService.of(Service.of(web, 'rr'), [dr('198.51.100.1')])                                          || DR_NEEDS_SH.replace('#', 'rr')
        VirtualService.of(Service.of(web, 'wrr'), [dr('198.51.100.1'), dr('198.51.100.2')])                     || DR_NEEDS_SH.replace('#', 'wrr')
        VirtualService.of(Service.of(web, 'sh'), [dr('198.51.100.1'), Destination.nat(ip('198.51.100.2'), 80)]) || 'NAT and DR real servers in one virtual server (the nftables forwarder forwards a service one way)'
        VirtualService.of(Service.of(web, 'sh'), [new Destination(ip('198.51.100.1'), 80, ForwardingMethod.TUN, 1, 0, 0)]) || 'TUN forwarding to 198.51.100.1:80 (the nftables forwarder does NAT and DR)'
        VirtualService.of(Service.of(web, 'rr'), [new Destination(ip('198.51.100.1'), 80, ForwardingMethod.NAT, 1, 100, 0)]) || 'uthreshold/lthreshold on 198.51.100.1:80'
        VirtualService.of(Service.of(ServiceKey.fwmark(3, AddressFamily.INET), 'rr'), [Destination.nat(ip('198.51.100.1'), 80)]) || 'a real server port on a fwmark service (198.51.100.1:80)'
    }

    static final String DR_NEEDS_SH = 'lb_algo # with DR forwarding (the director sees only the client\'s packets of a DR' +
            ' connection and nftables keeps no state for it, so only a hash of each packet can keep a connection on one' +
            ' real server: use lb_algo sh)'

    def "what DR can express is taken: sh, sh-port, a port on a fwmark service, sh-port on rr (which ignores it)"() {
        expect:
        NftablesForwarder.limitation(vs) == null
        forwarder().apply(DesiredState.of(vs)).changed()
        forwarder().current() == DesiredState.of(vs)

        where:
        vs << [
                VirtualService.of(new Service(web, 'sh', 0, 32, ['sh-port'] as Set), [dr('198.51.100.1'), dr('198.51.100.2', 8080)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(3, AddressFamily.INET), 'sh'), [dr('198.51.100.1', 80)]),
                VirtualService.of(new Service(web, 'rr', 0, 32, ['sh-port'] as Set), [Destination.nat(ip('198.51.100.1'), 8080)]),
        ]
    }

    def "a service moving between NAT and DR is made anew in one transaction, and a table's DR chain goes with its last DR service"() {
        given:
        def f = forwarder()
        def asNat = DesiredState.of(VirtualService.of(Service.of(web, 'sh'), [Destination.nat(ip('198.51.100.1'), 80)]))
        def asDr = DesiredState.of(VirtualService.of(Service.of(web, 'sh'), [dr('198.51.100.1')]))
        f.apply(asNat)

        when:
        def report = f.apply(asDr)
        def text = listing()

        then: 'to the diff it is one changed destination; in the tables, the service moved to the DR dispatch'
        report.operations() == [new ForwardingOp.UpdateDestination(web, dr('198.51.100.1'))]
        text.contains('map dr_services { type ipv4_addr . inet_proto . inet_service : verdict elements = { 192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80 } }')
        text.contains('map services { type ipv4_addr . inet_proto . inet_service : verdict }')
        text.contains('dup to jhash ip saddr mod 1 seed 0x0 map @s_tcp_c000020a_80 drop')
        text.count('chain s_tcp_c000020a_80 {') == 1
        forwarder().current() == asDr

        when: 'back to NAT: the table holds no DR service, so its DR chain and maps go'
        f.apply(asNat)
        text = listing()

        then:
        text.contains('map services { type ipv4_addr . inet_proto . inet_service : verdict elements = { 192.0.2.10 . tcp . 80 : jump s_tcp_c000020a_80 } }')
        !text.contains('dr_')
        canonical(ns) == canonical(newNamespace('r').tap { nftFile(it, NftScript.of(asNat)) })
        forwarder().current() == asNat
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
        def (int n, String client, String server) = natLine()
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

    /**
     * The single table of the earlier layout (one per family, {@code vigil}) as that forwarder made
     * it for one NAT service with one destination: NAT base chains jumping to a {@code services}
     * chain, one rule per service carrying the service comment, a chain per service picking a
     * chain per destination, which counts into a named counter and DNATs under the destination
     * comment.
     */
    static String legacyTable(String family, String vip, int port, String dest, int destPort) {
        def key = ServiceKey.of(ip(vip), port, Protocol.TCP)
        String svc = ServicePlan.nameOf(key)
        String dc = "${svc}_d_${HexFormat.of().formatHex(ip(dest).address)}_${destPort}"
        String to = family == 'ip' ? "${dest}:${destPort}" : "[${dest}]:${destPort}"
        """
        table ${family} vigil {
            counter ${dc} { }
            chain prerouting { type nat hook prerouting priority -100; policy accept; jump services; }
            chain output { type nat hook output priority -100; policy accept; jump services; }
            chain services {
                ${family} daddr ${vip} tcp dport ${port} jump ${svc} comment "vigil:s TCP ${vip} ${port} rr 0 ${family == 'ip' ? 32 : 128} -"
            }
            chain ${dc} {
                counter name "${dc}" meta l4proto tcp dnat to ${to} comment "vigil:d ${dest} ${destPort} NAT 1 0 0"
            }
            chain ${svc} {
                numgen inc mod 1 vmap { 0 : jump ${dc} }
            }
        }
        """
    }

    /**
     * client -- director -- server: two new namespaces on veth links to the director's
     * ({@code ns}), the director holding the VIP {@code 10.n.1.100} and routing for the server.
     * Returns n (the second octet, random so that runs do not collide), the client and the server.
     */
    List natLine() {
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
        [n, client, server]
    }

    /** The tables of {@code netns}, one {@code family name} line each. */
    static List<String> tables(String netns) {
        sh('ip', 'netns', 'exec', netns, 'nft', 'list', 'tables').readLines()*.trim().findAll()*.replace('table ', '')
    }

    def "the earlier layout's table is deleted in the first apply's transaction, and a connection it translated keeps flowing"() {
        given: 'client -- director -- server, echo servers on 8080 and 8081 that prefix their port'
        def (int n, String client, String server) = natLine()
        def scripts = File.createTempDir()
        def echo = new File(scripts, 'echo.py')
        echo.text = ECHO_SERVER
        def talk = new File(scripts, 'talk.py')
        talk.text = LINE_CLIENT
        [8080, 8081].each { port ->
            processes << new ProcessBuilder('ip', 'netns', 'exec', server, '/usr/bin/python3', echo.path, "10.${n}.2.2",
                    String.valueOf(port)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        }
        [8080, 8081].each { port -> waitForPort(ns, "10.${n}.2.2", port) }
        nftFile(ns, legacyTable('ip', "10.${n}.1.100", 80, "10.${n}.2.2", 8080))
        nftFile(ns, legacyTable('ip6', '2001:db8::10', 80, '2001:db8:1::1', 8080))
        def wanted = DesiredState.of(VirtualService.of(Service.of(ServiceKey.of(ip("10.${n}.1.100"), 80, Protocol.TCP), 'rr'),
                [Destination.nat(ip("10.${n}.2.2"), 8081)]))

        when: 'a connection is made through the earlier layout'
        def held = new ProcessBuilder('ip', 'netns', 'exec', client, '/usr/bin/python3', talk.path, "10.${n}.1.100", '80')
                .redirectErrorStream(true).start()
        processes << held
        def lines = held.inputStream.newReader()
        held.outputStream.write('a\n'.bytes)
        held.outputStream.flush()

        then:
        lines.readLine() == '8080:a'
        tables(ns).containsAll(['ip vigil', 'ip6 vigil'])

        when: 'a forwarder finds the earlier table: it does not read it as state, and its first apply deletes it'
        def f = forwarder()
        def before = f.current()
        f.apply(wanted)

        then: 'both families\' earlier tables went, with the new rules in the same transaction'
        before.isEmpty()
        !tables(ns).any { it.endsWith(' vigil') }
        tables(ns).any { it.startsWith('ip vigil_') }
        f.current() == wanted

        and: 'the held connection keeps its translation to 8080; a new one meets the new rules'
        held.outputStream.write('b\n'.bytes)
        held.outputStream.flush()
        lines.readLine() == '8080:b'
        fed('c\n', 'ip', 'netns', 'exec', client, 'timeout', '10', '/usr/bin/python3', talk.path, "10.${n}.1.100", '80')
                .trim() == '8081:c'

        cleanup:
        scripts?.deleteDir()
    }

    def "only a table named vigil in ip or ip6 that carries Vigil's comments is taken for the earlier layout, even when the apply has nothing else to do"() {
        given:
        nftFile(ns, legacyTable('ip6', '2001:db8::10', 80, '2001:db8:1::1', 8080))
        nftFile(ns, """
            table ip vigil { chain prerouting { type nat hook prerouting priority -100; policy accept; tcp dport 80 dnat to 198.51.100.1; }; }
            table inet vigil { chain c { tcp dport 80 accept comment "vigil:s TCP 192.0.2.10 80 rr 0 32 -"; }; }
            table ip vigil_old { chain c { tcp dport 80 accept comment "vigil:s TCP 192.0.2.10 80 rr 0 32 -"; }; }
            """)
        def f = forwarder()

        when:
        def report = f.apply(DesiredState.EMPTY)

        then: 'nothing to forward, but the earlier ip6 table is gone; the others are not Vigil\'s'
        !report.changed()
        tables(ns).sort() == ['inet vigil', 'ip vigil', 'ip vigil_old']

        when:
        f.apply(twoServices())

        then:
        tables(ns).containsAll(['inet vigil', 'ip vigil', 'ip vigil_old'])
        forwarder().current() == twoServices()
    }

    /** Echoes each line it receives on a connection, prefixed by its port: {@code python3 echo.py ADDRESS PORT}. */
    static final String ECHO_SERVER = '''
import socketserver, sys
port = int(sys.argv[2])
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b"%d:%s" % (port, line))
            self.wfile.flush()
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer((sys.argv[1], port), Echo).serve_forever()
'''

    /** Sends each line of its input on one connection and prints each answer: {@code python3 talk.py ADDRESS PORT}. */
    static final String LINE_CLIENT = '''
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
f = s.makefile("rwb")
for line in sys.stdin:
    f.write(line.encode())
    f.flush()
    print(f.readline().decode().strip(), flush=True)
'''

    /** Runs a command with {@code input} on its standard input; its output, or a failure unless it exits 0. */
    static String fed(String input, String... command) {
        def p = new ProcessBuilder(command).redirectErrorStream(true).start()
        p.outputStream.withStream { it.write(input.bytes) }
        def out = p.inputStream.text
        if (p.waitFor() != 0) {
            throw new IllegalStateException("${command.join(' ')} exited ${p.exitValue()}: ${out}")
        }
        out
    }

    /** Waits until {@code address:port} accepts TCP connections from {@code netns}. */
    static void waitForPort(String netns, String address, int port) {
        long deadline = System.nanoTime() + 20_000_000_000L
        while (true) {
            def p = new ProcessBuilder('ip', 'netns', 'exec', netns, 'timeout', '2', 'bash', '-c',
                    "echo > /dev/tcp/${address}/${port}").redirectErrorStream(true).start()
            p.inputStream.text
            if (p.waitFor() == 0) {
                return
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nothing listens on ${address}:${port} after 20 s")
            }
            Thread.sleep(200)
        }
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
