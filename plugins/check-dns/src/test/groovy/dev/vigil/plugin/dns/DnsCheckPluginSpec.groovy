package dev.vigil.plugin.dns

import dev.vigil.plugin.testkit.CheckPluginSpecification
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The DNS_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host,
 * its probes run by the real engine on the shared epoll loops against a real dnsmasq on loopback
 * (Debian's {@code dnsmasq-base}, started and stopped here) with a few local records, answering
 * NXDOMAIN or REFUSED for other names.
 */
@Requires({ DnsCheckPluginSpec.usable() })
class DnsCheckPluginSpec extends CheckPluginSpecification {

    /** dnsmasq binds port 53-style sockets and drops to nobody: root and Debian's dnsmasq-base. */
    static boolean usable() {
        List<String> missing = []
        if (!new File('/usr/sbin/dnsmasq').canExecute()) {
            missing << '/usr/sbin/dnsmasq (apt-get install dnsmasq-base)'
        }
        if (!'root'.equals(System.getProperty('user.name'))) {
            missing << 'root (dnsmasq starts as root)'
        }
        requireOrSkip('DNS_CHECK spec', missing)
    }

    /**
     * A real dnsmasq in the foreground on 127.0.0.1:{@code port} with a few local records in
     * vigil.test, which it answers itself (NXDOMAIN for a name it does not have, NODATA for a type),
     * and no upstream server, so that a name outside vigil.test is answered REFUSED.
     */
    class Dnsmasq implements Closeable {
        final Process process
        final Path log

        Dnsmasq(int port) {
            log = dir.resolve("dnsmasq-${System.nanoTime()}.log")
            process = new ProcessBuilder('/usr/sbin/dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null',
                    '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces', '--listen-address=127.0.0.1',
                    "--port=${port}".toString(), "--pid-file=${dir.resolve('dnsmasq.pid')}".toString(),
                    '--log-facility=-', '--log-queries',
                    '--local=/vigil.test/', '--address=/up.vigil.test/10.6.0.1', '--host-record=h.vigil.test,10.6.0.2',
                    '--txt-record=txt.vigil.test,"vigil"',
                    '--mx-host=mx.vigil.test,mail.vigil.test,10')
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start()
            listeners << this
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
            while (!Files.readString(log).contains('started, version')) {
                assert process.alive: "dnsmasq exited: ${Files.readString(log)}"
                assert System.nanoTime() < deadline: "dnsmasq did not start: ${Files.readString(log)}"
                Thread.sleep(20)
            }
        }

        @Override
        void close() {
            if (process.alive) {
                process.destroy()
                assert process.waitFor(10, TimeUnit.SECONDS): 'dnsmasq did not stop'
            }
        }
    }

    /** Starts the engine on {@code checker} (the DNS_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        start(keepalivedConf(block('DNS_CHECK', checker), "127.0.0.1 ${port}", '10.9.9.9 53', 'UDP'))
    }

    def 'the zip this build made loads as plugin check-dns, providing DNS_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['DNS_CHECK'] as Set
        with(host.plugins()[0]) {
            id() == 'check-dns'
            state() == 'STARTED'
            keywords() == ['DNS_CHECK']
        }
        host.checker('DNS_CHECK').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a real dnsmasq stopped and started again: down after fall failed checks, up after rise passes'() {
        given:
        int port = freeUdpPort()
        def dnsmasq = new Dnsmasq(port)

        when: 'up and passing'
        run(port, '''\
            type A
            name up.vigil.test
            connect_timeout 1
            delay_loop 0.3
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three passes') { events.count('L7OK') >= 3 }

        then: 'dnsmasq answered the A query for the name'
        !events.contains('DOWN')
        details[0] ==~ /DNS NOERROR for A up\.vigil\.test \(1 answer\) from 127\.0\.0\.1:\d+ in [0-9.]+ ms/
        Files.readString(dnsmasq.log).contains('query[A] up.vigil.test from 127.0.0.1')

        when: 'dnsmasq stops: the port answers with ICMP port unreachable'
        dnsmasq.close()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each, right after a pass'
        runBefore('DOWN', 'L4CON') == [4, 'L7OK']
        details[events.indexOf('L4CON')] == "port unreachable (127.0.0.1:${port})".toString()

        when: 'it starts again on the same port'
        new Dnsmasq(port)
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [3, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'each type, and the default SOA query of the root: NOERROR passes whatever the answer holds, any other rcode fails'() {
        given:
        int port = freeUdpPort()
        def dnsmasq = new Dnsmasq(port)

        when:
        run(port, """\
            ${lines}
            connect_timeout 1
            delay_loop 0.3
            warmup 0""")
        await('a result') { !events.isEmpty() }

        then:
        "${events[0]} ${details[0]}".startsWith("${status} ${detail} from 127.0.0.1:${port} in ")

        where:
        lines                                   || status  | detail
        'type TXT\n name txt.vigil.test'        || 'L7OK'  | 'DNS NOERROR for TXT txt.vigil.test (1 answer)'
        'type mx\n name mx.vigil.test.'         || 'L7OK'  | 'DNS NOERROR for MX mx.vigil.test. (1 answer)'
        'type AAAA\n name h.vigil.test'         || 'L7OK'  | 'DNS NOERROR for AAAA h.vigil.test (0 answers)'
        'type A\n name nx.vigil.test'           || 'L7RSP' | 'DNS rcode 3 NXDOMAIN for A nx.vigil.test (expected NOERROR)'
        'type A\n name other.test'              || 'L7RSP' | 'DNS rcode 5 REFUSED for A other.test (expected NOERROR)'
        ''                                      || 'L7RSP' | 'DNS rcode 5 REFUSED for SOA . (expected NOERROR)'
    }

    def 'a name dnsmasq refuses takes the real server down with the rcode, retries included'() {
        given:
        int port = freeUdpPort()
        new Dnsmasq(port)

        when:
        run(port, '''\
            type A
            name refused.test
            connect_timeout 1
            delay_loop 0.3
            retry 2
            delay_before_retry 0.1
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then: 'three attempts (retry 2), each refused'
        events[0..3] == ['L7RSP', 'L7RSP', 'L7RSP', 'DOWN']
        details[0] ==~ /DNS rcode 5 REFUSED for A refused\.test \(expected NOERROR\) from 127\.0\.0\.1:${port} in [0-9.]+ ms/
    }

    def 'a server that never answers: L7TOUT after connect_timeout'() {
        given: 'a bound UDP socket that reads nothing'
        def silent = new DatagramSocket(0, InetAddress.getByName('127.0.0.1'))
        listeners << silent

        when:
        run(silent.localPort, '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L7TOUT', 'DOWN']
        details[0] == "no DNS answer for SOA . from 127.0.0.1:${silent.localPort} within 300 ms".toString()
    }

    /**
     * A UDP responder that answers each query three times: with another id (REFUSED), with bytes
     * that are no DNS message, and only then with the query's id and NOERROR. Returns the socket.
     */
    DatagramSocket noisyResponder() {
        def socket = new DatagramSocket(0, InetAddress.getByName('127.0.0.1'))
        listeners << socket
        Thread.startDaemon {
            byte[] buf = new byte[512]
            while (!socket.closed) {
                try {
                    def packet = new DatagramPacket(buf, buf.length)
                    socket.receive(packet)
                    byte[] query = Arrays.copyOf(packet.data, packet.length)
                    def reply = { int id, int flagsLow ->
                        byte[] r = query.clone()
                        r[0] = (byte) (id >> 8)
                        r[1] = (byte) id
                        r[2] = (byte) 0x81       // QR, RD
                        r[3] = (byte) flagsLow   // RA, rcode
                        socket.send(new DatagramPacket(r, r.length, packet.socketAddress))
                    }
                    int id = ((query[0] & 0xff) << 8) | (query[1] & 0xff)
                    reply((id + 1) & 0xffff, 0x85)
                    socket.send(new DatagramPacket([1, 2, 3] as byte[], 3, packet.socketAddress))
                    reply(id, 0x80)
                } catch (IOException ignored) {
                }
            }
        }
        socket
    }

    def 'a response with another id and a datagram that is no DNS message are ignored: the answer to the query decides'() {
        given:
        def noisy = noisyResponder()

        when:
        run(noisy.localPort, '''\
            type A
            name www.vigil.test
            connect_timeout 1
            delay_loop 0.3
            retry 0
            warmup 0''')
        await('three results') { events.size() >= 3 }

        then:
        events[0..2] == ['L7OK'] * 3
        details[0] ==~ /DNS NOERROR for A www\.vigil\.test \(0 answers\) from 127\.0\.0\.1:\d+ in [0-9.]+ ms/
    }

    def 'a server that only ever answers with another id times out, and says what it ignored'() {
        given: 'a responder answering every query with the id plus one'
        def socket = new DatagramSocket(0, InetAddress.getByName('127.0.0.1'))
        listeners << socket
        Thread.startDaemon {
            byte[] buf = new byte[512]
            while (!socket.closed) {
                try {
                    def packet = new DatagramPacket(buf, buf.length)
                    socket.receive(packet)
                    byte[] r = Arrays.copyOf(packet.data, packet.length)
                    int id = (((r[0] & 0xff) << 8) | (r[1] & 0xff)) + 1
                    r[0] = (byte) (id >> 8)
                    r[1] = (byte) id
                    r[2] = (byte) 0x81
                    r[3] = (byte) 0x80
                    socket.send(new DatagramPacket(r, r.length, packet.socketAddress))
                } catch (IOException ignored) {
                }
            }
        }

        when:
        run(socket.localPort, '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L7TOUT', 'DOWN']
        details[0] ==~ /no DNS answer for SOA \. from 127\.0\.0\.1:\d+ within 300 ms \(ignored: a response with id \d+ \(expected \d+\)\)/
    }

    def 'type and name are checked at their locations'() {
        when:
        def loaded = load(keepalivedConf(block('DNS_CHECK', line), '127.0.0.1 53', '10.9.9.9 53', 'UDP'))

        then:
        loaded.hasErrors()
        loaded.diagnostics()*.format().any { it.contains(at) && it.contains(message) }

        where:
        line                              || at      | message
        'name a..b'                       || ':5:18' | 'name "a..b": an empty label (expected: no two dots in a row, no leading dot)'
        'name ' + 'x' * 64 + '.test'      || ':5:18' | 'has 64 characters (expected: at most 63)'
        // The parser knows DNS types too; its error is the one kept at that place (the plugin's would repeat it).
        'type SPF'                        || ':5:18' | 'type "SPF"'
    }
}
