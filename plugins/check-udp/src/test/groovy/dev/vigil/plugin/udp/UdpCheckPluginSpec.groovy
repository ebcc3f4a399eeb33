package dev.vigil.plugin.udp

import dev.vigil.plugin.testkit.CheckPluginSpecification

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The UDP_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host
 * from a temporary plugins directory, its probes run by the real engine on the shared epoll loops
 * against real UDP servers (python3) and closed ports on loopback, where the kernel answers a
 * datagram to a closed port with a real ICMP port unreachable.
 */
class UdpCheckPluginSpec extends CheckPluginSpecification {

    final List<Process> servers = new CopyOnWriteArrayList<>()

    def cleanup() {
        servers*.destroyForcibly()
        undo.reverse().each { sh(it) }
    }

    /** The python3 UDP server: {@code echo} sends every datagram back, {@code reply HEX} answers with those octets, {@code silent} reads and says nothing. */
    static final String SERVER = '''\
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', int(sys.argv[1])))
        print('ready', flush=True)
        while True:
            data, peer = s.recvfrom(65535)
            if sys.argv[2] == 'echo':
                s.sendto(data, peer)
            elif sys.argv[2] == 'reply':
                s.sendto(bytes.fromhex(sys.argv[3]), peer)
        '''.stripIndent()

    /** Starts the UDP server on 127.0.0.1:{@code port} and waits until it is bound. */
    Process server(int port, String... mode) {
        String python = ['/usr/bin/python3', '/usr/local/bin/python3'].find { new File(it).canExecute() } ?: 'python3'
        Path script = dir.resolve('udp-server.py')
        Files.writeString(script, SERVER)
        Process p = new ProcessBuilder([python, script.toString(), port.toString()] + (mode as List)).redirectErrorStream(true).start()
        servers << p
        String line = new BufferedReader(new InputStreamReader(p.inputStream)).readLine()
        assert line == 'ready': "the UDP server did not start: ${line}"
        p
    }

    /** The configuration load of a UDP_CHECK block with {@code lines}: the diagnostics, formatted. */
    List<String> diagnostics(String lines, int port = 80) {
        diagnosticsOf(keepalivedConf(block('UDP_CHECK', lines), "127.0.0.1 ${port}", '10.9.9.9 80', 'UDP'))
    }

    /** Starts the engine on the UDP_CHECK block {@code checker} of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        start(keepalivedConf(block('UDP_CHECK', checker), "127.0.0.1 ${port}", '10.9.9.9 80', 'UDP'))
    }

    def 'the zip this build made loads as plugin check-udp, providing UDP_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['UDP_CHECK'] as Set
        host.plugins()[0].id() == 'check-udp'
        host.plugins()[0].state() == 'STARTED'
    }

    def 'bad hex strings and lengths are reported where they are written'() {
        expect:
        diagnostics('payload 01 0g').any { it.contains('keepalived.conf:5:21') && it.contains('payload: "g" at character 5 of "01 0g" is not a hex digit') }
        diagnostics('payload 0X').any { it.contains('payload: "X" at character 2') }
        diagnostics('require_reply 0X zz').any { it.contains('keepalived.conf:5:27') && it.contains('require_reply: "z" at character 4') }
        diagnostics('require_reply 0X\nmin_reply_length 9\nmax_reply_length 4').any {
            it.contains('keepalived.conf:6:30') && it.contains('min_reply_length 9 > max_reply_length 4: every reply will fail') }
        diagnostics('payload 0102 ab\nrequire_reply 01 Xx').every { !it.contains('error') }
    }

    def 'hex strings are read as keepalived reads them, X a wildcard half octet'() {
        expect:
        def p = UdpChecker.parseHex(text, true)
        p.data() == data as byte[]
        p.mask() == mask as byte[]

        where:
        text          || data                 | mask
        '0102ff'      || [1, 2, -1]           | [0, 0, 0]
        '1 02 \tA'   || [1, 2, 10]           | [0, 0, 0]
        'Xa x'        || [10, 0]              | [-16, 15]
        'XX'          || [0]                  | [-1]
    }

    def 'a pattern matches the octets both have, wildcards aside'() {
        given:
        def p = UdpChecker.parseHex('68 X5 6c', true)

        expect:
        p.matches('hello'.bytes)
        p.matches('h'.bytes)
        p.matches([0x68, 0x05] as byte[])
        !p.matches([0x68, 0x56] as byte[])
        !p.matches('hexlo'.bytes)
    }

    def 'an echo server that stops is down after fall ICMP port unreachables, and up after rise once it is back'() {
        given:
        int port = freeUdpPort()
        Process echo = server(port, 'echo')

        when:
        run(port, '''\
            payload 68656c6c6f
            connect_timeout 1
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three passes') { events.count('L4OK') >= 3 }

        then: 'the echo answers at once'
        !events.contains('DOWN')
        details[0] == "reply of 5 octets from 127.0.0.1:${port}".toString()

        when: 'the server goes away: the kernel answers each datagram with an ICMP port unreachable'
        echo.destroyForcibly().waitFor()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each'
        runBefore('DOWN', 'L4CON') == [4, 'L4OK']
        details[events.indexOf('L4CON')] == "ICMP port unreachable from 127.0.0.1:${port}".toString()

        when: 'it comes back on the same port'
        server(port, 'echo')
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L4OK') == [3, 'L4CON']
    }

    def 'without require_reply a server that says nothing is up after connect_timeout; with it, that is L4TOUT'() {
        given:
        int port = freeUdpPort()
        server(port, 'silent')

        when:
        run(port, '''\
            payload 00
            connect_timeout 0.3
            delay_loop 30
            warmup 0''')
        await('a result') { events.size() >= 1 }

        then:
        events == ['L4OK']
        details[0] == "no ICMP unreachable from 127.0.0.1:${port} within 300 ms".toString()

        when:
        engine.close().get(5, TimeUnit.SECONDS)
        events.clear()
        details.clear()
        run(port, '''\
            payload 00
            require_reply
            connect_timeout 0.3
            delay_loop 30
            retry 0
            warmup 0''')
        await('a result') { events.size() >= 2 }

        then:
        events == ['L4TOUT', 'DOWN']
        details[0] == "no reply from 127.0.0.1:${port} within 300 ms".toString()
    }

    def 'without payload keepalived\'s 32 octets go out: an echo returns them, a closed port draws the ICMP port unreachable'() {
        given:
        int port = freeUdpPort()
        Process echo = server(port, 'echo')

        when:
        run(port, '''\
            require_reply 6b 65 65 70
            connect_timeout 2
            delay_loop 30
            retry 0
            warmup 0''')
        await('a result') { events.size() >= 1 }

        then:
        events == ['L7OK']
        details[0] == "reply of 32 octets from 127.0.0.1:${port}".toString()

        when:
        engine.close().get(5, TimeUnit.SECONDS)
        echo.destroyForcibly().waitFor()
        events.clear()
        details.clear()
        run(port, '''\
            connect_timeout 2
            delay_loop 30
            retry 0
            warmup 0''')
        await('a result') { events.size() >= 2 }

        then:
        events == ['L4CON', 'DOWN']
        details[0] == "ICMP port unreachable from 127.0.0.1:${port}".toString()
    }

    def 'require_reply with a pattern: the reply must match it and have an allowed length'() {
        given:
        int port = freeUdpPort()
        server(port, 'reply', reply)

        when:
        run(port, """\
            payload 01
            require_reply ${pattern}
            ${lengths}
            connect_timeout 1
            delay_loop 30
            retry 0
            warmup 0""")
        await('a result') { events.size() >= 1 }

        then:
        events[0] == status
        details[0] == detail.replace('PORT', port.toString())

        where:
        reply        | pattern   | lengths                 || status  | detail
        'a1b2c3'     | 'a1 bX'   | ''                      || 'L7OK'  | 'reply of 3 octets from 127.0.0.1:PORT'
        'a1c2c3'     | 'a1 bX'   | ''                      || 'L7RSP' | 'reply a1c2c3 from 127.0.0.1:PORT does not match require_reply'
        'a1b2c3'     | 'a1'      | 'max_reply_length 2'    || 'L7RSP' | 'reply of 3 octets from 127.0.0.1:PORT (expected: 0-2)'
        'a1'         | 'a1'      | 'min_reply_length 2'    || 'L7RSP' | 'reply of 1 octets from 127.0.0.1:PORT (expected: 2-255)'
    }

    /** A tag for this run's names and subnets, so that concurrent builds do not collide. */
    static final int TAG = (int) (ProcessHandle.current().pid() % 200) + 20

    /** What the namespace feature made, removed by {@link #cleanup()}. */
    final List<String> undo = []

    static int sh(String command) {
        Process p = new ProcessBuilder('sh', '-c', command).redirectErrorStream(true).start()
        String out = new String(p.inputStream.readAllBytes())
        int rc = p.waitFor()
        if (rc != 0) {
            System.err.println("${command}: exit ${rc}: ${out}")
        }
        rc
    }

    static boolean netnsOrSkip() {
        List<String> missing = []
        if (new com.sun.security.auth.module.UnixSystem().uid != 0) {
            missing << 'root'
        }
        if (sh('command -v ip >/dev/null') != 0) {
            missing << 'ip'
        }
        requireOrSkip('UDP_CHECK host unreachable spec', missing)
    }

    @spock.lang.Requires({ UdpCheckPluginSpec.netnsOrSkip() })
    def 'a host the router says is unreachable (ICMP host unreachable) fails the check at once, long before connect_timeout'() {
        given: 'a router namespace whose route to 10.91.TAG.0/24 is "unreachable"'
        String ns = "vigil-udp-${TAG}"
        String a = "vuA${TAG}"
        assert sh("ip netns add ${ns}") == 0
        undo << "ip netns del ${ns}"
        assert sh("ip link add ${a} type veth peer name eth0 netns ${ns}") == 0
        undo << "ip link del ${a}"
        assert sh("ip addr add 10.90.${TAG}.1/24 dev ${a} && ip link set ${a} up") == 0
        assert sh("ip -n ${ns} link set lo up && ip -n ${ns} addr add 10.90.${TAG}.2/24 dev eth0 && ip -n ${ns} link set eth0 up") == 0
        assert sh("ip netns exec ${ns} sysctl -qw net.ipv4.ip_forward=1") == 0
        assert sh("ip -n ${ns} route add unreachable 10.91.${TAG}.0/24") == 0
        assert sh("ip route add 10.91.${TAG}.0/24 via 10.90.${TAG}.2") == 0
        undo << "ip route del 10.91.${TAG}.0/24"

        when:
        long t0 = System.nanoTime()
        start(keepalivedConf(block('UDP_CHECK', '''
            connect_timeout 5
            delay_loop 10
            warmup 0
        '''), "10.91.${TAG}.9 9999", '10.9.9.9 9999', 'UDP'))
        await('a result', 5) { events.any { !(it in ['UP', 'DOWN']) } }
        long millis = (System.nanoTime() - t0).intdiv(1_000_000)

        then: 'the error queue (IP_RECVERR) hands the socket the ICMP error; without it a UDP socket ignores host unreachable'
        events[0] == 'L4CON'
        details[0] ==~ /no route to host \(10\.91\.\d+\.9:9999\)/
        millis < 2000
    }
}
