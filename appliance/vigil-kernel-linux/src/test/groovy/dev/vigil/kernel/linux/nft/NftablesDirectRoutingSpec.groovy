package dev.vigil.kernel.linux.nft

import static dev.vigil.kernel.linux.TwoHosts.sh
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.ForwarderStats
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.security.MessageDigest
import java.util.concurrent.ThreadLocalRandom

/**
 * Real traffic through {@link NftablesForwarder}'s direct routing (LVS-DR). Client, director and
 * two real servers share one L2 segment, a bridge in its own namespace. The director holds the
 * virtual address on its interface; the real servers hold it on lo with {@code arp_ignore=1} and
 * {@code arp_announce=2} (for IPv6 a loopback address draws no neighbour advertisement anyway), so
 * only the director answers for it (the arp_ignore/arp_announce entries of the kernel's
 * Documentation/networking/ip-sysctl.rst). The forwarder sends each packet on to a real server's
 * MAC unchanged; the real server answers the client directly, from the virtual address. Each real
 * server runs an HTTP server that answers with its name, the local address and port the connection
 * came to and the client's address and port; the director runs none, so a packet the forwarder
 * fails to send on is refused there and the request fails.
 */
@Requires(value = { NftablesDirectRoutingSpec.usable() }, reason = 'needs root, iproute2, python3 and libnftables1 + nftables')
class NftablesDirectRoutingSpec extends Specification {
    static final String VIP = '10.75.0.100'
    static final String VIP6 = 'fd75::100'
    static final List<String> SERVERS = ['10.75.0.11', '10.75.0.12']
    static final List<String> SERVERS6 = ['fd75::11', 'fd75::12']
    /** The client's own address and 64 more, all on the segment. */
    static final String CLIENT = '10.75.0.1'
    static final List<String> CLIENTS = (1..64).collect { "10.75.1.${it}".toString() }
    static final String CLIENT6 = 'fd75::1'

    @Shared String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff))
    @Shared String lan = "vdr-${id}-lan"
    @Shared String client = "vdr-${id}-cli"
    @Shared String director = "vdr-${id}-dir"
    @Shared List<String> servers = ["vdr-${id}-rs1", "vdr-${id}-rs2"]
    @Shared List<Process> processes = []
    @Shared File dir
    @Shared File big
    @Shared NftablesForwarder forwarder

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static boolean usable() {
        if (!NftablesForwarderSpec.usable()) {
            return false
        }
        def missing = ['/usr/bin/python3'].findAll { !new File(it).canExecute() }
        if (missing.isEmpty()) {
            return true
        }
        System.err.println("*** SKIPPING nftables DR spec: ${missing.join(', ')} missing ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
        }
        false
    }

    def setupSpec() {
        dir = File.createTempDir('vigil-dr', '')
        new File(dir, 'server.py').text = SERVER
        new File(dir, 'client.py').text = CLIENT_SCRIPT
        // 20 MB that no two runs share, so a download that mixed two servers' answers would not match.
        big = new File(dir, 'big')
        byte[] chunk = new byte[1 << 20]
        big.withOutputStream { out -> 20.times { ThreadLocalRandom.current().nextBytes(chunk); out.write(chunk) } }
        [lan, client, director, *servers].each { ns ->
            sh('ip', 'netns', 'add', ns)
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        }
        sh('ip', '-n', lan, 'link', 'add', 'br0', 'type', 'bridge')
        sh('ip', '-n', lan, 'link', 'set', 'br0', 'up')
        [client, director, *servers].eachWithIndex { String host, int i ->
            sh('ip', '-n', host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', "p${i}", 'netns', lan)
            sh('ip', '-n', lan, 'link', 'set', "p${i}", 'master', 'br0')
            sh('ip', '-n', lan, 'link', 'set', "p${i}", 'up')
            sh('ip', '-n', host, 'link', 'set', 'eth0', 'up')
        }
        bash(client, "ip addr add ${CLIENT}/16 dev eth0; ip addr add ${CLIENT6}/64 dev eth0 nodad; " +
                CLIENTS.collect { "ip addr add ${it}/16 dev eth0" }.join('; '))
        bash(director, """
            ip addr add 10.75.0.2/16 dev eth0
            ip addr add ${VIP}/32 dev eth0
            ip addr add fd75::2/64 dev eth0 nodad
            ip addr add ${VIP6}/128 dev eth0 nodad
        """)
        servers.eachWithIndex { String rs, int i ->
            bash(rs, """
                sysctl -qw net.ipv4.conf.all.arp_ignore=1
                sysctl -qw net.ipv4.conf.all.arp_announce=2
                ip addr add ${SERVERS[i]}/16 dev eth0
                ip addr add ${SERVERS6[i]}/64 dev eth0 nodad
                ip addr add ${VIP}/32 dev lo
                ip addr add ${VIP6}/128 dev lo
            """)
            processes << new ProcessBuilder('ip', 'netns', 'exec', rs, '/usr/bin/python3', new File(dir, 'server.py').path,
                    "rs${i + 1}", big.path).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        }
        // The servers answer on their own addresses before any rule exists.
        servers.indices.each { i ->
            bash(client, "for i in \$(seq 100); do /usr/bin/python3 -c 'import urllib.request; " +
                    "urllib.request.urlopen(\"http://${SERVERS[i]}/id\", timeout=2)' 2>/dev/null && exit 0; " +
                    "sleep 0.2; done; exit 1")
        }
        forwarder = NftablesForwarder.inNamespace(director)
    }

    def cleanupSpec() {
        forwarder?.close()
        processes.each { it.destroyForcibly(); it.waitFor() }
        [lan, client, director, *servers].each { new ProcessBuilder('ip', 'netns', 'del', it).start().waitFor() }
        dir?.deleteDir()
    }

    static String bash(String ns, String script) {
        sh('ip', 'netns', 'exec', ns, 'bash', '-ec', script)
    }

    static Destination dr(String address, int weight) {
        new Destination(ip(address), 80, ForwardingMethod.DR, weight, 0, 0)
    }

    /** The VIP's service, {@code sh} with the given flags, the real servers at {@code weights} (null leaves one out). */
    static DesiredState pool(String vip, List<String> addresses, List<Integer> weights, List<String> flags = [],
                             String scheduler = 'sh') {
        def dests = []
        weights.eachWithIndex { Integer w, int i ->
            if (w != null) {
                dests << dr(addresses[i], w)
            }
        }
        def key = ServiceKey.of(ip(vip), 80, Protocol.TCP)
        DesiredState.of(VirtualService.of(new Service(key, scheduler, 0, key.family().name() == 'INET' ? 32 : 128,
                flags as Set), dests))
    }

    /** One answer as the client saw it. */
    static class Answer {
        String source
        String server
        String local
        String peer
    }

    /**
     * Runs the client: {@code each} makes {@code count} connections from each source address, one
     * request each; {@code keep} makes {@code count} requests on one connection. Every answer, or
     * a failure naming the source.
     */
    List<Answer> fetch(String mode, String vip, int count, List<String> sources) {
        def out = sh(['ip', 'netns', 'exec', client, 'timeout', '120', '/usr/bin/python3', new File(dir, 'client.py').path,
                      mode, vip, String.valueOf(count), *sources] as String[])
        out.readLines().findAll().collect { line ->
            def w = line.split(' ')
            if (w.length != 4 || w[1] == 'ERROR') {
                throw new IllegalStateException("client: ${line}")
            }
            new Answer(source: w[0], server: w[1], local: w[2], peer: w[3])
        }
    }

    /** Packets and bytes the forwarder counted per real server of the VIP's service. */
    Map<String, ForwarderStats.Counters> counted(String vip, List<String> addresses) {
        def stats = forwarder.stats().services()[ServiceKey.of(ip(vip), 80, Protocol.TCP)]
        addresses.withIndex().collectEntries { String a, int i ->
            ["rs${i + 1}".toString(), stats?.destinations()?.get(new DestinationKey(ip(a), 80)) ?: ForwarderStats.Counters.ZERO]
        }
    }

    def "sh sends each client address to one real server, split by weight, and the real server sees the VIP"() {
        given:
        def state = pool(VIP, SERVERS, [3, 1])
        forwarder.apply(state)
        def before = counted(VIP, SERVERS)

        when: 'four connections from each of 64 addresses'
        def answers = fetch('each', VIP, 4, CLIENTS)
        def byClient = answers.groupBy { it.source }

        then: 'every connection is answered, by the real server, addressed to the VIP, from the client address'
        answers.size() == 256
        answers.every { it.local == "${VIP}:80" && it.peer.startsWith("${it.source}:") }

        and: 'an address always meets the same real server; about 3 in 4 addresses meet rs1'
        byClient.size() == 64
        byClient.values().every { it*.server.unique().size() == 1 }
        def onRs1 = byClient.count { k, v -> v[0].server == 'rs1' }
        // 64 addresses drawn 3:1 give 48 on average, with a standard deviation of about 3.5.
        onRs1 >= 36 && onRs1 <= 60

        and: 'the forwarder counted the packets it sent on to each (not connections: DR keeps no state)'
        def after = counted(VIP, SERVERS)
        ['rs1', 'rs2'].every { rs ->
            long sent = after[rs].inPackets() - before[rs].inPackets()
            int connections = answers.count { it.server == rs }
            // Each connection: SYN, request, FIN and ACKs from the client; a header is 40 bytes or more.
            after[rs].connections() == 0 && sent >= 3 * connections && after[rs].inBytes() - before[rs].inBytes() >= 40 * sent
        }

        and: 'the director keeps no connection state for them: the originals die unconfirmed, the copies are untracked'
        sh('ip', 'netns', 'exec', director, 'cat', '/proc/sys/net/netfilter/nf_conntrack_count').trim() == '0'

        and: 'the rules read back as applied, and another instance adopts them'
        forwarder.current() == state
        NftablesForwarder.inNamespace(director).withCloseable { it.current() == state && !it.apply(state).changed() }

        when: 'rs1 weighs more: both elements are re-written on new slots'
        forwarder.apply(pool(VIP, SERVERS, [4, 1]))

        then: 'they keep their counters'
        counted(VIP, SERVERS) == after
    }

    def "sh-port spreads the connections of one address by weight, and keeps every packet of each on one real server"() {
        given:
        def state = pool(VIP, SERVERS, [3, 1], ['sh-port'])
        forwarder.apply(state)

        when: '300 connections from one address'
        def answers = fetch('each', VIP, 300, [CLIENT])

        then: 'each answered by a real server addressed to the VIP; 3 in 4 by rs1 within 4 standard deviations (7.5)'
        answers.size() == 300
        answers.every { it.local == "${VIP}:80" && it.peer.startsWith("${CLIENT}:") }
        def onRs1 = answers.count { it.server == 'rs1' }
        onRs1 >= 195 && onRs1 <= 255

        when: '200 requests on one keep-alive connection, then a 20 MB download'
        def kept = fetch('keep', VIP, 200, [CLIENT])
        def download = fetch('big', VIP, 1, [CLIENT])[0]

        then: 'one connection, one real server throughout'
        kept.size() == 200
        kept*.peer.unique().size() == 1
        kept*.server.unique().size() == 1
        download.local == sha256(big) && download.peer == String.valueOf(big.length())
        forwarder.current() == state
    }

    def "a real server at weight 0 or removed gets no new connections, and comes back when restored"() {
        given:
        forwarder.apply(pool(VIP, SERVERS, [1, 1]))
        def split = fetch('each', VIP, 1, CLIENTS)

        expect: 'both take connections to begin with'
        split*.server.unique().sort() == ['rs1', 'rs2']

        when: 'rs1 is quiesced: weight 0'
        forwarder.apply(pool(VIP, SERVERS, [0, 1]))
        def before = counted(VIP, SERVERS)
        def quiesced = fetch('each', VIP, 1, CLIENTS)

        then: 'rs2 answers everyone, and not one packet went to rs1'
        quiesced.size() == 64
        quiesced*.server.unique() == ['rs2']
        counted(VIP, SERVERS).rs1 == before.rs1
        forwarder.current() == pool(VIP, SERVERS, [0, 1])

        when: 'rs1 is removed'
        forwarder.apply(pool(VIP, SERVERS, [null, 1]))
        def removed = fetch('each', VIP, 1, CLIENTS)

        then:
        removed*.server.unique() == ['rs2']
        forwarder.current().services().values()[0].destinations().keySet() == [new DestinationKey(ip(SERVERS[1]), 80)] as Set

        when: 'rs1 comes back: the addresses that met it at first meet it again'
        forwarder.apply(pool(VIP, SERVERS, [1, 1]))
        def back = fetch('each', VIP, 1, CLIENTS)

        then:
        back*.server == split*.server
    }

    def "IPv6: sh-port spreads connections by weight through ip6 dup, and the real server sees the VIP"() {
        given:
        def state = pool(VIP6, SERVERS6, [1, 1], ['sh-port'])
        forwarder.apply(state)

        when:
        def answers = fetch('each', VIP6, 100, [CLIENT6])
        def kept = fetch('keep', VIP6, 100, [CLIENT6])

        then: 'even split of 100 within 4 standard deviations (5)'
        answers.size() == 100
        answers.every { it.local == "[${VIP6}]:80" && it.peer.startsWith("[${CLIENT6}]:") }
        answers.count { it.server == 'rs1' } in 30..70
        kept*.peer.unique().size() == 1 && kept*.server.unique().size() == 1
        forwarder.current() == state
    }

    def "rr and wrr with DR are refused before any change, saying why and what to use"() {
        given:
        def state = pool(VIP, SERVERS, [1, 1])
        forwarder.apply(state)

        when:
        forwarder.apply(pool(VIP, SERVERS, [1, 1], [], scheduler))

        then:
        def e = thrown(KernelException)
        e.errno() == 95
        e.message == "nftables: TCP ${VIP}:80: lb_algo ${scheduler} with DR forwarding (the director sees only the" +
                " client's packets of a DR connection and nftables keeps no state for it, so only a hash of each" +
                " packet can keep a connection on one real server: use lb_algo sh) is not supported by the nftables" +
                " forwarder (errno 95)"
        forwarder.current() == state
        fetch('each', VIP, 1, CLIENTS.take(8)).size() == 8

        where:
        scheduler << ['rr', 'wrr']
    }

    static String sha256(File f) {
        def md = MessageDigest.getInstance('SHA-256')
        f.eachByte(1 << 16) { byte[] b, int n -> md.update(b, 0, n) }
        HexFormat.of().formatHex(md.digest())
    }

    /**
     * The real server: {@code python3 server.py NAME BIGFILE}, HTTP/1.1 on port 80 of every
     * address. {@code /id} answers {@code NAME LOCAL PEER} (addresses as {@code a:p} or
     * {@code [a]:p}); {@code /big} sends the file.
     */
    static final String SERVER = '''
import http.server, os, socket, sys
name, big = sys.argv[1], sys.argv[2]
def where(a):
    host = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, a[1])
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(big)))
            self.end_headers()
            with open(big, "rb") as f:
                while True:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
            return
        body = ("%s %s %s\\n" % (name, where(self.connection.getsockname()), where(self.client_address))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
Server(("::", 80), Handler).serve_forever()
'''

    /**
     * The client: {@code python3 client.py each|keep|big VIP COUNT SOURCE...}. Prints one line per
     * answer, {@code SOURCE NAME LOCAL PEER}; for {@code big}, {@code SOURCE NAME SHA256 LENGTH};
     * {@code SOURCE ERROR ...} when a request fails.
     */
    static final String CLIENT_SCRIPT = '''
import hashlib, http.client, sys
mode, vip, count, sources = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def connect(source):
    return http.client.HTTPConnection(vip, 80, timeout=10, source_address=(source, 0))
for source in sources:
    try:
        if mode == "each":
            for i in range(count):
                c = connect(source)
                c.request("GET", "/id", headers={"Connection": "close"})
                print(source, c.getresponse().read().decode().strip(), flush=True)
                c.close()
        elif mode == "keep":
            c = connect(source)
            for i in range(count):
                c.request("GET", "/id")
                print(source, c.getresponse().read().decode().strip(), flush=True)
            c.close()
        else:
            c = connect(source)
            c.request("GET", "/big")
            r = c.getresponse()
            h = hashlib.sha256()
            n = 0
            while True:
                chunk = r.read(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            print(source, "big", h.hexdigest(), n, flush=True)
    except Exception as e:
        print(source, "ERROR", type(e).__name__, str(e).replace(" ", "_"), flush=True)
'''
}
