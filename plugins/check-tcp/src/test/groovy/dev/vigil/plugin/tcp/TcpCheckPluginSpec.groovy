package dev.vigil.plugin.tcp

import dev.vigil.plugin.testkit.CheckPluginSpecification
import dev.vigil.plugin.testkit.TcpListener
import spock.lang.Requires

import java.nio.channels.SocketChannel
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The TCP_CHECK plugin as the daemon runs it: the zip this build made, dropped into a temporary
 * plugins directory and loaded by the real host, its probes run by the real engine on the shared
 * epoll loops against real listeners on loopback.
 */
class TcpCheckPluginSpec extends CheckPluginSpecification {

    /**
     * A TCP listener on {@code address} that accepts and closes, recording who connected (its
     * {@code peers}); one that does not accept fills its backlog. Closed by {@link #cleanup()}.
     */
    TcpListener listen(String address, int port = 0, int backlog = 50, boolean accepting = true) {
        def l = new TcpListener(address, port, backlog, accepting ? { Socket s -> } : null)
        listeners << l
        l
    }

    /** Starts the engine on {@code checker} (the TCP_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        start(keepalivedConf(block('TCP_CHECK', checker), "127.0.0.1 ${port}"))
    }

    def 'the zip this build made loads as plugin check-tcp, providing TCP_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['TCP_CHECK'] as Set
        with(host.plugins()[0]) {
            id() == 'check-tcp'
            state() == 'STARTED'
            provider() == 'Vigil'
            keywords() == ['TCP_CHECK']
            version() == System.getProperty('vigil.pluginZip').replaceAll(/.*check-tcp-(.*)\.zip/, '$1')
        }
        host.checker('TCP_CHECK').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a listener that goes away and comes back: down after fall failed checks of retry+1 attempts, up after rise passes'() {
        given:
        def listener = listen('127.0.0.1')
        int port = listener.port()

        when: 'up and passing'
        run(port, '''\
            connect_timeout 1
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /connected to 127\.0\.0\.1:\d+ in [0-9.]+ ms/

        when: 'the listener goes away'
        listener.close()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each: four refusals in a row, right after a pass'
        runBefore('DOWN', 'L4CON') == [4, 'L4OK']
        details[events.indexOf('L4CON')] == "connection refused (127.0.0.1:${port})".toString()

        when: 'it comes back on the same port'
        listen('127.0.0.1', port)
        await('the real server up') { events.contains('UP') }

        then: 'three passes in a row bring it up'
        runBefore('UP', 'L4OK') == [3, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'connect_ip and connect_port pick what is probed; bindto and bind_port where the probe comes from'() {
        given:
        def listener = listen('127.0.0.1')
        int bindPort = freePort()

        when: 'the real server\'s own port is closed, connect_port names the listener'
        run(freePort(), """\
            connect_ip 127.0.0.1
            connect_port ${listener.port()}
            bindto 127.0.0.2
            bind_port ${bindPort}
            delay_loop 0.2
            warmup 0""")
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('L4CON')
        listener.peers.size() >= 3
        listener.peers.every { it.address.hostAddress == '127.0.0.2' && it.port == bindPort }
    }

    def 'a listener whose accept queue is full drops the connection: no answer within connect_timeout is L4TOUT'() {
        given: 'a listener that never accepts, its one-slot queue filled'
        def listener = listen('127.0.0.1', 0, 1, false)
        List<SocketChannel> fillers = []
        (1..4).each {
            def ch = SocketChannel.open()
            ch.configureBlocking(false)
            ch.connect(new InetSocketAddress('127.0.0.1', listener.port()))
            fillers << ch
        }
        Thread.sleep(200)
        listeners.addAll(fillers)

        when:
        run(listener.port(), '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('a timeout taking the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L4TOUT', 'DOWN']
        details[0] == "no connection to 127.0.0.1:${listener.port()} within 300 ms".toString()
    }

    /** A tag for this run's names and subnets, so that concurrent builds do not collide. */
    static final int TAG = (int) (ProcessHandle.current().pid() % 200) + 20

    /** What the namespace features made, removed by {@link #cleanup()}. */
    final List<String> undo = new CopyOnWriteArrayList<>()
    Process server

    def cleanup() {
        server?.destroyForcibly()
        undo.reverse().each { sh(it) }
    }

    static int sh(String command) {
        Process p = new ProcessBuilder('sh', '-c', command).redirectErrorStream(true).start()
        String out = new String(p.inputStream.readAllBytes())
        int rc = p.waitFor()
        if (rc != 0) {
            System.err.println("${command}: exit ${rc}: ${out}")
        }
        rc
    }

    static String out(String command) {
        Process p = new ProcessBuilder('sh', '-c', command).redirectErrorStream(true).start()
        String text = new String(p.inputStream.readAllBytes())
        assert p.waitFor() == 0: "${command}: ${text}"
        text
    }

    /** Root, ip(8), nft(8) and python3 (the listener in the namespace); says loudly when not, and fails under vigil.requireNetns. */
    static boolean netnsOrSkip() {
        List<String> missing = []
        if (new com.sun.security.auth.module.UnixSystem().uid != 0) {
            missing << 'root'
        }
        ['ip', 'nft', 'python3'].each { if (sh("command -v ${it} >/dev/null") != 0) { missing << it } }
        requireOrSkip('TCP_CHECK fwmark/bind_if specs', missing)
    }

    @Requires({ TcpCheckPluginSpec.netnsOrSkip() })
    def 'fwmark marks the probe\'s packets: an nft rule counting meta mark on output sees them'() {
        given: 'a listener, and a counter of marked packets to its port on the output hook'
        def l = listen('127.0.0.1')
        String table = "vigil_fwmark_${TAG}"
        assert sh("nft add table inet ${table}") == 0
        undo << "nft delete table inet ${table}"
        assert sh("nft add chain inet ${table} out '{ type filter hook output priority 0; }'") == 0
        assert sh("nft add rule inet ${table} out meta mark 4660 tcp dport ${l.port()} counter") == 0
        assert sh("nft add rule inet ${table} out meta mark != 4660 tcp dport ${l.port()} counter") == 0

        when:
        run(l.port(), '''
            fwmark 4660
            connect_timeout 2
            delay_loop 0.2
            warmup 0
        ''')
        await('three passed probes') { events.count { it == 'L4OK' } >= 3 }
        List<Long> counters = (out("nft list chain inet ${table} out") =~ /counter packets (\d+)/).collect { it[1] as long }

        then: 'every packet of the probes to that port carried the mark (SYN, ACK, FIN at least, per probe)'
        counters.size() == 2
        counters[0] >= 9
        counters[1] == 0
    }

    @Requires({ TcpCheckPluginSpec.netnsOrSkip() })
    def 'bind_if: through the interface with the route the check passes; through one without it (the kernel then asks for it on-link, and nobody answers), it fails'() {
        given: 'a namespace behind veth A (a listener at its address), and veth B to another namespace, on another subnet'
        String ns = "vigil-tcp-${TAG}"
        String a = "vtA${TAG}"
        String b = "vtB${TAG}"
        String peer = "10.93.${TAG}.2"
        assert sh("ip netns add ${ns}") == 0
        undo << "ip netns del ${ns}"
        assert sh("ip link add ${a} type veth peer name eth0 netns ${ns}") == 0
        undo << "ip link del ${a}"
        assert sh("ip addr add 10.93.${TAG}.1/24 dev ${a} && ip link set ${a} up") == 0
        assert sh("ip -n ${ns} link set lo up && ip -n ${ns} addr add ${peer}/24 dev eth0 && ip -n ${ns} link set eth0 up") == 0
        assert sh("ip netns add ${ns}-b") == 0
        undo << "ip netns del ${ns}-b"
        assert sh("ip link add ${b} type veth peer name eth0 netns ${ns}-b") == 0
        undo << "ip link del ${b}"
        assert sh("ip addr add 10.92.${TAG}.1/24 dev ${b} && ip link set ${b} up && ip -n ${ns}-b link set eth0 up") == 0
        server = new ProcessBuilder('ip', 'netns', 'exec', ns, 'python3', '-c',
                "import socket,time\ns=socket.socket()\ns.bind(('${peer}',8080))\ns.listen(64)\nprint('up',flush=True)\ntime.sleep(600)")
                .redirectErrorStream(true).start()
        assert server.inputStream.newReader().readLine() == 'up'

        when:
        start(keepalivedConf(block('TCP_CHECK', """
            bind_if ${dev == 'A' ? a : dev == 'B' ? b : 'vigil-none0'}
            connect_timeout 1
            delay_loop 0.2
            warmup 0
        """), "${peer} 8080"))

        then:
        first()[0] == status
        first()[1] ==~ detail

        where:
        dev  || status | detail
        'A'  || 'L4OK'  | /connected to 10\.93\.\d+\.2:8080 in .* ms/
        'B'  || 'L4TOUT' | /no connection to 10\.93\.\d+\.2:8080 within 1000 ms/
        'no' || 'L4CON' | /connect to 10\.93\.\d+\.2:8080 failed: bind_if vigil-none0: no such device/
    }

    /** The first result (not a state change) and its detail. */
    List<String> first() {
        await('a result') { events.any { !(it in ['UP', 'DOWN']) } }
        int i = events.findIndexOf { !(it in ['UP', 'DOWN']) }
        [events[i], details[i]]
    }
}
