package dev.vigil.plugin.ping

import dev.vigil.plugin.testkit.CheckPluginSpecification
import spock.lang.Requires

/**
 * The PING_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host
 * from a temporary plugins directory, its probes run by the real engine with iputils ping, against
 * loopback and against an address in a network namespace that is removed and comes back.
 */
class PingCheckPluginSpec extends CheckPluginSpecification {

    def cleanup() {
        if (netns) {
            sh("ip netns del ${netns}")
        }
    }

    /** The namespace this spec made, deleted (with its veth pair) by {@link #cleanup()}. */
    String netns

    static int sh(String command) {
        Process p = new ProcessBuilder('sh', '-c', command).redirectErrorStream(true).start()
        String out = new String(p.inputStream.readAllBytes())
        int rc = p.waitFor()
        if (rc != 0) {
            System.err.println("${command}: exit ${rc}: ${out}")
        }
        rc
    }

    /** Whether this process may make namespaces and has ip(8); says loudly when not, and fails when vigil.requireNetns demands it. */
    static boolean netnsOrSkip() {
        boolean root = new com.sun.security.auth.module.UnixSystem().uid == 0
        boolean ip = sh('command -v ip') == 0
        if (root && ip) {
            return true
        }
        String why = root ? 'ip (iproute2) is not installed' : 'it needs root'
        System.err.println("*** SKIPPING the PING_CHECK namespace spec: ${why} ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${why}")
        }
        false
    }

    /** The configuration load of a PING_CHECK block with {@code lines}: the diagnostics, formatted. */
    List<String> diagnostics(String lines, String address = '127.0.0.1') {
        diagnosticsOf(keepalivedConf(block('PING_CHECK', lines), address + ' 80'))
    }

    /** Starts the engine on the PING_CHECK block {@code checker} of real server {@code address}, port 80. */
    void run(String address, String checker) {
        start(keepalivedConf(block('PING_CHECK', checker), address + ' 80'))
    }

    def 'the zip this build made loads as plugin check-ping, providing PING_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['PING_CHECK'] as Set
        host.plugins()[0].id() == 'check-ping'
        host.plugins()[0].state() == 'STARTED'
    }

    def 'loopback answers'() {
        when:
        run('127.0.0.1', '''\
            connect_timeout 1
            delay_loop 30
            warmup 0''')
        await('a result') { events.size() >= 1 }

        then:
        events == ['L4OK']
        details[0] ==~ /echo reply from 127\.0\.0\.1 in [0-9.]+ ms/
    }

    def 'an error of ping itself is the failure\'s reason'() {
        when:
        run('127.0.0.1', '''\
            bind_if vigil-none0
            connect_timeout 1
            delay_loop 30
            retry 0
            warmup 0''')
        await('a result') { events.size() >= 2 }

        then:
        events == ['L4CON', 'DOWN']
        details[0].contains('vigil-none0')
        details[0].endsWith('(pinging 127.0.0.1)')
    }

    @Requires({ PingCheckPluginSpec.netnsOrSkip() })
    def 'an address in a namespace: up, down after fall when it is removed, up after rise when it comes back'() {
        given: 'a namespace on a veth pair, 10.97.7.1 here and 10.97.7.2 there'
        String tag = Long.toString(ProcessHandle.current().pid(), 36)
        netns = "pg-${tag}"
        assert sh("ip netns add ${netns}") == 0
        assert sh("ip link add pg${tag}a type veth peer name pg${tag}b netns ${netns}") == 0
        assert sh("ip addr add 10.97.7.1/24 dev pg${tag}a && ip link set pg${tag}a up") == 0
        assert sh("ip -n ${netns} link set lo up && ip -n ${netns} link set pg${tag}b up") == 0
        assert sh("ip -n ${netns} addr add 10.97.7.2/24 dev pg${tag}b") == 0

        when:
        run('10.97.7.2', '''\
            connect_timeout 0.5
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three replies') { events.count('L4OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /echo reply from 10\.97\.7\.2 in [0-9.]+ ms/

        when: 'the address is removed'
        assert sh("ip -n ${netns} addr del 10.97.7.2/24 dev pg${tag}b") == 0
        await('the real server down') { events.contains('DOWN') }
        List<String> results = events.subList(0, events.indexOf('DOWN')).findAll { it != 'L4OK' }

        then: 'two failed checks of two attempts each, unanswered (or refused by a neighbour that is gone)'
        results.size() == 4
        results.every { it in ['L4TOUT', 'L4CON'] }
        details.contains('no echo reply from 10.97.7.2 within 500 ms') || details.any { it.contains('Unreachable') }

        when: 'it comes back'
        assert sh("ip -n ${netns} addr add 10.97.7.2/24 dev pg${tag}b") == 0
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L4OK')[0] == 3
    }
}
