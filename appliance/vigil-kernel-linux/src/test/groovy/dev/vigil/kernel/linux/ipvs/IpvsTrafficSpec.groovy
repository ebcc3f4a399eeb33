package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/**
 * Real HTTP traffic through IPVS as {@link IpvsForwarder} configures it: a client namespace
 * fetches a virtual address and two real-server namespaces answer with their names (busybox
 * httpd), so the split the scheduler makes is seen from the client. The kernel's counters, as the
 * forwarder reads them, are held against the client's count and against ipvsadm's reading of the
 * same table.
 *
 * <p>NAT: the client reaches the director on one link; the real servers sit behind it on a bridge,
 * route back through it, and the director rewrites the destination (VIP:80 to RS:8080) and the
 * replies. DR: client, director and real servers share one L2 segment (a bridge in its own
 * namespace); the real servers hold the VIP on lo with {@code arp_ignore=1} and
 * {@code arp_announce=2}, so only the director answers ARP for it, and IPVS only rewrites the
 * destination MAC; the real server answers the client directly, from the VIP (LVS-DR as in the
 * kernel's Documentation/networking/ipvs-sysctl.rst and the arp_ignore/arp_announce entries of
 * ip-sysctl.rst).
 *
 * <p>Needs the IPVS kernel the host lacks: it runs in the qemu guest of tests/qemu.
 */
@Requires(value = { IpvsForwarderSpec.usable() }, reason = 'needs root, iproute2, ipvsadm and a kernel with ip_vs loaded')
class IpvsTrafficSpec extends Specification {
    @Shared GuestLab lab = new GuestLab()
    @Shared Path dir
    @Shared Map<String, Net> nets = [:]

    /** One topology: who the client is, where the forwarder runs and what the real servers are. */
    static class Net {
        String client
        String director
        List<String> servers
        ServiceKey vip
        List<InetAddress> serverAddresses
        int serverPort
        ForwardingMethod method
        IpvsForwarder forwarder
        /** Connections each real server answered, as the client saw them, since its destination was added. */
        Map<String, Long> answered = [rs1: 0L, rs2: 0L]
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    def setupSpec() {
        dir = Files.createTempDirectory('vigil-ipvs-traffic')
        nets.NAT = nat()
        nets.DR = dr()
        nets.values().each { Net n ->
            n.forwarder = IpvsForwarder.inNamespace(n.director, dir.resolve("ipvs-${n.method}"))
            n.servers.eachWithIndex { String rs, int i ->
                def root = Files.createDirectories(dir.resolve(rs))
                Files.writeString(root.resolve('index.html'), "rs${i + 1}\n")
                lab.spawn(rs, 'busybox', 'httpd', '-f', '-p', "${n.serverPort}", '-h', root.toString())
            }
            // The director reaches the real servers directly; wait until both answer.
            n.serverAddresses.each { InetAddress a ->
                GuestLab.bash(n.director, "for i in \$(seq 100); do timeout 5 wget -q -O /dev/null " +
                        "http://${a.hostAddress}:${n.serverPort}/ && exit 0; sleep 0.1; done; exit 1")
            }
        }
    }

    def cleanupSpec() {
        nets.values().each { it.forwarder?.close() }
        lab.close()
        dir?.toFile()?.deleteDir()
    }

    /** Client 10.71.1.1 - director 10.71.1.2 (VIP 10.71.1.100) | bridge 10.71.2.1 - rs 10.71.2.11, .12. */
    Net nat() {
        String cli = lab.namespace('nat-cli')
        String director = lab.namespace('nat-dir')
        def servers = [lab.namespace('nat-rs1'), lab.namespace('nat-rs2')]
        GuestLab.veth(cli, 'eth0', director, 'c0')
        GuestLab.bash(cli, 'ip addr add 10.71.1.1/24 dev eth0; ip route add default via 10.71.1.2')
        GuestLab.bash(director, '''
            ip addr add 10.71.1.2/24 dev c0
            ip addr add 10.71.1.100/32 dev c0
            ip link add br0 type bridge
            ip link set br0 up
            ip addr add 10.71.2.1/24 dev br0
            sysctl -qw net.ipv4.ip_forward=1
        ''')
        servers.eachWithIndex { String rs, int i ->
            GuestLab.veth(director, "r${i + 1}", rs, 'eth0')
            GuestLab.exec(director, 'ip', 'link', 'set', "r${i + 1}", 'master', 'br0')
            GuestLab.bash(rs, "ip addr add 10.71.2.${11 + i}/24 dev eth0; ip route add default via 10.71.2.1")
        }
        new Net(client: cli, director: director, servers: servers, method: ForwardingMethod.NAT,
                vip: ServiceKey.of(ip('10.71.1.100'), 80, Protocol.TCP),
                serverAddresses: [ip('10.71.2.11'), ip('10.71.2.12')], serverPort: 8080)
    }

    /** Client 10.72.0.1, director 10.72.0.2 (VIP 10.72.0.100), rs 10.72.0.11, .12 (VIP on lo): one bridge. */
    Net dr() {
        String lan = lab.namespace('dr-lan')
        GuestLab.bash(lan, 'ip link add br0 type bridge; ip link set br0 up')
        String cli = lab.namespace('dr-cli')
        String director = lab.namespace('dr-dir')
        def servers = [lab.namespace('dr-rs1'), lab.namespace('dr-rs2')]
        [cli, director, *servers].eachWithIndex { String host, int i ->
            GuestLab.veth(host, 'eth0', lan, "p${i}")
            GuestLab.exec(lan, 'ip', 'link', 'set', "p${i}", 'master', 'br0')
        }
        GuestLab.bash(cli, 'ip addr add 10.72.0.1/24 dev eth0')
        GuestLab.bash(director, 'ip addr add 10.72.0.2/24 dev eth0; ip addr add 10.72.0.100/32 dev eth0')
        servers.eachWithIndex { String rs, int i ->
            GuestLab.bash(rs, """
                sysctl -qw net.ipv4.conf.all.arp_ignore=1
                sysctl -qw net.ipv4.conf.all.arp_announce=2
                ip addr add 10.72.0.${11 + i}/24 dev eth0
                ip addr add 10.72.0.100/32 dev lo
            """)
        }
        new Net(client: cli, director: director, servers: servers, method: ForwardingMethod.DR,
                vip: ServiceKey.of(ip('10.72.0.100'), 80, Protocol.TCP),
                serverAddresses: [ip('10.72.0.11'), ip('10.72.0.12')], serverPort: 80)
    }

    /** The VIP's service with the real servers at {@code weights} (null leaves one out). */
    static DesiredState pool(Net n, String scheduler, List<Integer> weights) {
        def dests = []
        weights.eachWithIndex { Integer w, int i ->
            if (w != null) {
                dests << new Destination(n.serverAddresses[i], n.serverPort, n.method, w, 0, 0)
            }
        }
        DesiredState.of(VirtualService.of(Service.of(n.vip, scheduler), dests))
    }

    /** {@code count} HTTP requests from the client to the VIP, one connection each; the answering servers in order. */
    static List<String> fetch(Net n, int count) {
        // busybox wget's own -T crashes (busybox 1.35); timeout bounds each request instead.
        def answers = GuestLab.bash(n.client, "for i in \$(seq ${count}); do timeout 10 wget -q -O - " +
                "http://${n.vip.address().hostAddress}/; done").readLines()*.trim().findAll()
        answers.each { n.answered[it] = (n.answered[it] ?: 0L) + 1 }
        answers
    }

    /** Connections IPVS scheduled to each real server so far, by server name, as the forwarder reports them. */
    static Map<String, Long> connections(Net n) {
        def stats = n.forwarder.stats().services()[n.vip]
        n.serverAddresses.withIndex().collectEntries { InetAddress a, int i ->
            ["rs${i + 1}".toString(), stats?.destinations()?.get(new DestinationKey(a, n.serverPort))?.connections() ?: 0L]
        }
    }

    /**
     * The forwarder's connection counters once they equal what the client saw, or as they are after
     * 15 s. IPVS folds its per-CPU counters into the figures it reports every 2 s (the rate
     * estimator of net/netfilter/ipvs/ip_vs_est.c), so a fresh connection shows up late.
     */
    static Map<String, Long> settledConnections(Net n) {
        long deadline = System.nanoTime() + 15_000_000_000L
        Map<String, Long> seen = connections(n)
        while ((seen != n.answered || serviceConnections(n) != n.answered.values().sum())
                && System.nanoTime() < deadline) {
            Thread.sleep(250)
            seen = connections(n)
        }
        seen
    }

    static long serviceConnections(Net n) {
        n.forwarder.stats().services()[n.vip]?.total()?.connections() ?: 0L
    }

    /**
     * Whether the forwarder's figures for the VIP's service equal ipvsadm's for the same table:
     * {@code Conns InPkts OutPkts InBytes OutBytes} of the service and of each destination
     * ({@code -Ln --stats --exact}: no K/M/G scaling), and each destination's {@code ActiveConn} and
     * {@code InActConn} ({@code -Ln}). ipvsadm reads between two forwarder reads that agree, so an
     * estimator tick or an expiring connection in between is a retry, not a difference.
     */
    static boolean sameAsIpvsadm(Net n) {
        long deadline = System.nanoTime() + 15_000_000_000L
        while (true) {
            def before = n.forwarder.stats().services()[n.vip]
            String stats = GuestLab.exec(n.director, 'ipvsadm', '-Ln', '--stats', '--exact')
            String list = GuestLab.exec(n.director, 'ipvsadm', '-Ln')
            def after = n.forwarder.stats().services()[n.vip]
            if (before == after) {
                Map<String, List<Long>> ours = [(n.vip.address().hostAddress + ':' + n.vip.port()):
                        [after.total().connections(), after.total().inPackets(), after.total().outPackets(),
                         after.total().inBytes(), after.total().outBytes()]]
                Map<String, List<Long>> ourGauges = [:]
                after.destinations().each { DestinationKey d, c ->
                    String name = d.address().hostAddress + ':' + d.port()
                    ours[name] = [c.connections(), c.inPackets(), c.outPackets(), c.inBytes(), c.outBytes()]
                    ourGauges[name] = [c.activeConnections(), c.inactiveConnections()]
                }
                assert ipvsadmColumns(stats, 2..6) == ours
                assert ipvsadmColumns(list, 4..5).findAll { it.key != ours.keySet().first() } == ourGauges
                return true
            }
            assert System.nanoTime() < deadline: 'the counters kept moving for 15 s'
            Thread.sleep(250)
        }
    }

    /**
     * The columns {@code range} (the protocol or arrow is column 0, the address 1) of every service
     * and destination row of an ipvsadm listing, as numbers by address:port; a row without them
     * (a service in {@code -Ln}) maps to [].
     */
    static Map<String, List<Long>> ipvsadmColumns(String listing, IntRange range) {
        Map<String, List<Long>> rows = [:]
        listing.readLines()*.trim().findAll {
            (it.startsWith('TCP ') || it.startsWith('-> ')) && !it.contains('RemoteAddress')
        }.each { String row ->
            def words = row.split(/\s+/)
            rows[words[1]] = words.size() > range.to ? words[range].collect { it as long } : []
        }
        rows
    }

    def "#mode: round robin alternates between the two real servers, and IPVS counts each connection"() {
        given:
        Net n = nets[mode]
        n.forwarder.apply(pool(n, 'rr', [1, 1]))

        when:
        def answers = fetch(n, 8)

        then: 'eight answers, strictly alternating'
        answers.size() == 8
        answers.toSet() == ['rs1', 'rs2'] as Set
        (1..<8).every { answers[it] != answers[it - 1] }

        and: "the kernel's counters, read through the forwarder, count every connection the client made"
        n.answered.values().sum() == 8
        settledConnections(n) == n.answered
        with(n.forwarder.stats().services()[n.vip].total()) {
            connections() == 8
            // At least SYN and request from each client (the last connection's may be folded in
            // at the next estimator tick), each 40 bytes of headers or more.
            inPackets() >= 2 * 8
            inBytes() >= 40 * inPackets()
            // NAT replies pass back through the director (a SYN-ACK at least); DR replies go
            // from the real server straight to the client, so IPVS sees none.
            mode == 'NAT' ? outPackets() >= 8 && outBytes() >= 40 * outPackets() : outPackets() == 0 && outBytes() == 0
        }

        and: 'ipvsadm reads the same figures from the kernel, counters and connection gauges alike'
        sameAsIpvsadm(n)

        where:
        mode << ['NAT', 'DR']
    }

    def "#mode: the real server sees the connection addressed as the method says"() {
        given:
        Net n = nets[mode]
        n.forwarder.apply(pool(n, 'rr', [1, 1]))

        when:
        fetch(n, 2)
        // The server side of each closed connection lingers in the real server's socket table.
        def sockets = GuestLab.exec(n.servers[0], 'ss', '-tan').readLines()*.trim()

        then: 'NAT rewrote the destination to the real server; DR delivered it to the VIP unchanged'
        sockets.collect { it.replace('[::ffff:', '').replace(']', '').split(/\s+/) }
                .any { it.size() >= 5 && it[3] == local && it[4].startsWith(client) }

        where:
        mode  | local            | client
        'NAT' | '10.71.2.11:8080' | '10.71.1.1:'
        'DR'  | '10.72.0.100:80'  | '10.72.0.1:'
    }

    def "#mode: weighted round robin splits 3:1"() {
        given:
        Net n = nets[mode]
        n.forwarder.apply(pool(n, 'wrr', [3, 1]))

        when:
        def answers = fetch(n, 8)

        then:
        answers.size() == 8
        answers.count('rs1') == 6
        answers.count('rs2') == 2
        settledConnections(n) == n.answered

        where:
        mode << ['NAT', 'DR']
    }

    def "#mode: a real server taken out gets no new connections"() {
        given:
        Net n = nets[mode]
        n.forwarder.apply(pool(n, 'rr', [1, 1]))

        when: 'rs1 is quiesced: weight 0'
        n.forwarder.apply(pool(n, 'rr', [0, 1]))
        def rs1Before = n.answered.rs1
        def quiesced = fetch(n, 6)

        then: 'it answers nothing more, and IPVS scheduled nothing more to it'
        quiesced == ['rs2'] * 6
        n.answered.rs1 == rs1Before
        settledConnections(n) == n.answered

        when: 'rs1 is removed from the service'
        n.forwarder.apply(pool(n, 'rr', [null, 1]))
        def removed = fetch(n, 4)

        then:
        removed == ['rs2'] * 4
        n.forwarder.current().services()[n.vip].destinations().keySet() ==
                [new DestinationKey(n.serverAddresses[1], n.serverPort)] as Set

        when: 'rs1 comes back'
        n.forwarder.apply(pool(n, 'rr', [1, 1]))
        def back = fetch(n, 4)

        then:
        back.count('rs1') == 2
        back.count('rs2') == 2

        where:
        mode << ['NAT', 'DR']
    }
}
