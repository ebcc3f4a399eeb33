package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files

/**
 * The Vigil daemon on IPVS, end to end: one boot of the qemu guest of tests/qemu (the host kernel has
 * no IPVS) runs {@code tests/qemu/scenarios/ipvs-daemon.sh}. A director namespace runs the daemon
 * from a keepalived.conf with a NAT virtual server (two real servers behind the director and a
 * sorry server) and a DR one (two real servers on the client's segment holding the VIP on lo); a
 * client namespace sends HTTP to both VIPs with busybox wget and wrk, the real servers answer with
 * their names. The scenario only drives and reports; this spec asserts on what it reported
 * ({@code VIGIL-RESULT key value} and {@code VIGIL-LINE name text} console lines): the split each
 * scheduler makes, {@code ipvsadm}'s own listing against the configuration and against
 * {@code vigil services}, real servers taken out and the sorry server, a SIGKILLed daemon restarted
 * under wrk adopting the kernel's rules, and the services removed at SIGTERM.
 */
@Requires({ QemuGuest.usable('IPVS daemon guest spec') })
class IpvsDaemonGuestSpec extends Specification {
    static final String SCENARIO = 'tests/qemu/scenarios/ipvs-daemon.sh'

    @Shared QemuGuest.Run run
    @Shared Map<String, String> results = [:]
    @Shared Map<String, List<String>> lines = [:].withDefault { [] }

    def setupSpec() {
        String script = Files.readString(QemuGuest.ROOT.resolve(SCENARIO))
        // About 4 minutes of guest time on the project's two-core machine, 13 when it is shared with builds.
        run = QemuGuest.run(script, [], 1500)
        run.console.each { String line ->
            def r = line =~ /^VIGIL-RESULT (\S+) (.*)$/
            if (r.find()) {
                results[r.group(1)] = r.group(2)
            }
            def l = line =~ /^VIGIL-LINE (\S+) ?(.*)$/
            if (l.find()) {
                lines[l.group(1)] << l.group(2).stripTrailing()
            }
        }
        System.out.println("IpvsDaemonGuestSpec: ${run}")
    }

    int result(String key) {
        assert results.containsKey(key): "the scenario reported no ${key}"
        results[key] as int
    }

    /** The virtual-server and real-server rows of an {@code -Ln} listing, first {@code columns} fields each. */
    static List<List<String>> rows(List<String> listing, int columns) {
        listing.findAll { it =~ /^(TCP|UDP|SCTP|FWM) |^  -> \d/ }.collect { it.trim().split(/\s+/).take(columns) as List<String> }
    }

    def "the guest ran the scenario to the end"() {
        expect:
        run.exitCode == 0
        run.console.any { it.contains('VIGIL-GUEST-EXIT 0') }
        results.containsKey('stop.services')
    }

    def "the daemon applies the configuration through IPVS and holds both VIPs as VRRP master"() {
        expect:
        result('start.applied') == 0
        result('start.master') == 0
        lines['vips'].containsAll(['inet 10.88.0.100/32', 'inet 10.88.0.101/32'])
    }

    def "ipvsadm lists what the configuration says, and vigil services lists the same table"() {
        given:
        def expected = [
                ['TCP', '10.88.0.100:80', 'rr'],
                ['->', '10.88.1.11:8080', 'Masq', '1'],
                ['->', '10.88.1.12:8080', 'Masq', '1'],
                ['TCP', '10.88.0.101:80', 'wrr'],
                ['->', '10.88.0.21:80', 'Route', '3'],
                ['->', '10.88.0.22:80', 'Route', '1']]

        expect: 'ipvsadm -Ln, then vigil services, by service and real server: scheduler, forwarding, weight'
        rows(lines['start.ipvsadm'], 4) == expected
        rows(lines['start.vigil'], 4) == expected
        lines['start.vigil'][0] == 'IP Virtual Server version 1.2.1 (backend=ipvs)'

        and: 'ipvsadm -Sn: the NAT service masquerades, the DR one routes'
        lines['start.save'] == [
                '-A -t 10.88.0.100:80 -s rr',
                '-a -t 10.88.0.100:80 -r 10.88.1.11:8080 -m -w 1',
                '-a -t 10.88.0.100:80 -r 10.88.1.12:8080 -m -w 1',
                '-A -t 10.88.0.101:80 -s wrr',
                '-a -t 10.88.0.101:80 -r 10.88.0.21:80 -g -w 3',
                '-a -t 10.88.0.101:80 -r 10.88.0.22:80 -g -w 1']
    }

    def "NAT round robin splits 400 connections 50/50 within 2%"() {
        expect:
        result('nat.rr.total') == 400
        result('nat.rr.FAILED') == 0
        Math.abs(result('nat.rr.r1') - 200) <= 8
        result('nat.rr.r1') + result('nat.rr.r2') == 400
    }

    def "DR weighted round robin splits 3:1, and the real servers answer the client directly"() {
        given:
        def dr = rows(lines['traffic.ipvsadm'], 6).find { it[0] == 'TCP' && it[1] == '10.88.0.101:80' }
        def nat = rows(lines['traffic.ipvsadm'], 6).find { it[0] == 'TCP' && it[1] == '10.88.0.100:80' }

        expect:
        result('dr.wrr.total') == 400
        result('dr.wrr.FAILED') == 0
        Math.abs(result('dr.wrr.d1') / 400.0 - 0.75) <= 0.02
        result('dr.wrr.d1') + result('dr.wrr.d2') == 400
        lines['dr.direct'] == ['d1'] || lines['dr.direct'] == ['d2']

        and: 'the director forwarded the requests but saw no reply (OutPkts 0), unlike NAT'
        (dr[3] as long) > 0 && dr[4] == '0'
        (nat[4] as long) > 0
    }

    def "vigil services --stats counts what ipvsadm -Ln --stats counts"() {
        expect:
        rows(lines['traffic.vigil'], 7) == rows(lines['traffic.ipvsadm'], 7)
        rows(lines['traffic.vigil'], 7).size() == 6
    }

    def "a reload to wrr 3:1 changes the service in place and the split follows"() {
        expect:
        result('reload.applied') == 0
        result('nat.wrr.FAILED') == 0
        Math.abs(result('nat.wrr.r1') / 400.0 - 0.75) <= 0.02
        rows(lines['reload.ipvsadm'], 4).take(3) == [['TCP', '10.88.0.100:80', 'wrr'],
                                                     ['->', '10.88.1.11:8080', 'Masq', '3'],
                                                     ['->', '10.88.1.12:8080', 'Masq', '1']]
    }

    def "a real server taken out gets no new connections; with both out the sorry server answers; back in, they serve again"() {
        expect: 'one out'
        result('rs.down.exit') == 0
        lines['rs.down'] == ['real server [10.88.1.12]:8080 of [10.88.0.100]:tcp:80: up -> down']
        result('nat.one-out.r1') == 100
        !lines['one-out.ipvsadm'].any { it.contains('10.88.1.12') }

        and: 'both out: the sorry server, and quorum_down ran'
        result('nat.sorry.sorry') == 20
        rows(lines['sorry.ipvsadm'], 4).take(2) == [['TCP', '10.88.0.100:80', 'wrr'], ['->', '10.88.1.11:8081', 'Masq', '1']]
        lines['quorum.sorry'] == ['down']

        and: 'back in: 3:1 again, and quorum_up ran'
        result('nat.back.r1') == 30
        result('nat.back.r2') == 10
        lines['quorum.back'] == ['down', 'up']
    }

    def "a SIGKILLed daemon restarted under wrk adopts the kernel's rules: no failed request, nothing re-applied"() {
        given:
        String wrk = lines['wrk'].join('\n')

        expect: 'the first daemon died of SIGKILL and the second found both services in place'
        result('restart.killed') == 128 + 9
        result('restart.adopted') == 0
        lines['restart.log'].any { it.endsWith('forwarder: 2 services already in place, adopted unchanged') }
        !lines['restart.log'].any { it.contains('forwarder: applied') }

        and: 'wrk ran through it without an error'
        result('restart.wrk.exit') == 0
        (wrk =~ /(\d+) requests in/)[0][1] as int > 1000
        !wrk.contains('Socket errors')
        !wrk.contains('Non-2xx')

        and: 'the rules are those of before'
        result('restart.same-rules') == 0
    }

    def "SIGTERM removes the services"() {
        expect:
        result('stop.exit') == 0
        result('stop.services') == 0
        lines['daemon.log'].any { it.contains('forwarder: shutdown: removed 2 services') }
    }
}
