package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/**
 * The IPVS specs of vigil-kernel-linux, run where IPVS exists: the host kernel has none, so one
 * boot of the qemu guest of tests/qemu runs them (through {@code run-guest --tests}, which puts the
 * module's compiled specs and their classpath in the guest, and {@code GuestSpecLauncher}, which
 * prints one {@code VIGIL-TEST PASS|FAIL|SKIP <class> <name>} line per test). This spec reads the
 * console: every expected test passed, by name and in number, and nothing failed or was skipped.
 *
 * <ul>
 * <li>{@code IpvsForwarderSpec}: the forwarder contract every backend meets, against IPVS;</li>
 * <li>{@code IpvsListingSpec}: for every scheduler and forwarding method, ipvsadm lists exactly
 * what was applied, and the forwarder reads back what ipvsadm restored;</li>
 * <li>{@code IpvsTrafficSpec}: HTTP through NAT and DR between namespaces, split as the scheduler
 * says.</li>
 * </ul>
 */
@Requires({ IpvsGuestSpec.usable() })
class IpvsGuestSpec extends Specification {
    static final Path MODULE = QemuGuest.ROOT.resolve('appliance/vigil-kernel-linux')
    static final String PKG = 'dev.vigil.kernel.linux.ipvs.'
    static final String CONTRACT = PKG + 'IpvsForwarderSpec'
    static final String LISTING = PKG + 'IpvsListingSpec'
    static final String TRAFFIC = PKG + 'IpvsTrafficSpec'

    static final List<String> SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh']

    /** Every test each spec must pass in the guest, by the name the launcher prints. */
    static final Map<String, List<String>> EXPECTED = [
            (CONTRACT): [
                    'applying a state makes current() equal it',
                    'applying the same state again changes nothing',
                    'adding and removing a destination touches only that destination',
                    'changing a weight is one update, including down to 0 [w: 5, #0]',
                    'changing a weight is one update, including down to 0 [w: 0, #1]',
                    'changing the scheduler updates the service and keeps its destinations',
                    'deleting a service removes it and its destinations, leaving the other',
                    'a fresh forwarder adopts the rules an earlier one made and re-applying them changes nothing',
                    'rules the forwarder did not create are neither reported nor touched',
                    'IPv6 services round-trip',
                    'stats list every owned service and destination',
                    'a flush leaves the forwarder owning nothing; foreign rules go too only where the table is shared',
                    'foreign services the port cannot describe are passed over, not fatal'],
            (LISTING): [SCHEDULERS, ['NAT', 'DR', 'TUN']].combinations().withIndex().collect { pair, int i ->
                // Spock's where: block varies the first column fastest.
                "for every scheduler and forwarding method ipvsadm lists exactly the applied state [scheduler: ${pair[0]}, method: ${pair[1]}, #${i}]".toString()
            } + [
                    'persistence granularity: every prefix length lists as its mask',
                    'IPv4 real servers behind an IPv6 service are tunnelled and listed in their own family',
                    'a table larger than one netlink datagram reads back whole'],
            (TRAFFIC): ['NAT', 'DR'].collectMany { mode ->
                ["${mode}: round robin alternates between the two real servers, and IPVS counts each connection",
                 "${mode}: the real server sees the connection addressed as the method says",
                 "${mode}: weighted round robin splits 3:1",
                 "${mode}: a real server taken out gets no new connections"]*.toString()
            }]

    @Shared QemuGuest.Run run
    /** Verdict (PASS, FAIL, SKIP) to class to the test names reported with it. */
    @Shared Map<String, Map<String, List<String>>> reported = [PASS: [:], FAIL: [:], SKIP: [:]]
    @Shared Map<String, Integer> summary = [:]

    static boolean usable() {
        QemuGuest.usable('IPVS guest spec')
    }

    def setupSpec() {
        // The specs and their classpath come from the module's build (mvn install builds it before tests/).
        for (need in ['target/test-classpath.txt', 'target/test-classes/dev/vigil/kernel/linux/GuestSpecLauncher.class']) {
            if (!Files.exists(MODULE.resolve(need))) {
                throw new IllegalStateException("${MODULE.resolve(need)} is missing: build the module first " +
                        '(mvn -pl appliance/vigil-kernel-linux install -DskipTests)')
            }
        }
        // About 4 minutes of guest time on the project's two-core machine; the limit leaves room for a loaded one.
        run = QemuGuest.run("""\
            set -u
            vigil-specs ${EXPECTED.keySet().join(' ')}
            """.stripIndent(), ['--tests', 'appliance/vigil-kernel-linux'], 1500)
        run.console.each { String line ->
            def m = line =~ /^VIGIL-TEST (PASS|FAIL|SKIP) (\S+) (.*)$/
            if (m.find()) {
                reported[m.group(1)].computeIfAbsent(m.group(2)) { [] } << m.group(3)
            }
            def s = line =~ /^VIGIL-TEST-SUMMARY run=(\d+) passed=(\d+) failed=(\d+) skipped=(\d+)/
            if (s.find()) {
                summary = [run: s.group(1), passed: s.group(2), failed: s.group(3), skipped: s.group(4)]
                        .collectEntries { k, v -> [k, v as int] } as Map<String, Integer>
            }
        }
        System.out.println("IpvsGuestSpec: guest run took ${String.format('%.0f', run.seconds)} s, summary ${summary}")
    }

    def "the guest ran every spec to the end and reported success"() {
        expect: 'the launcher printed its summary and exited 0, and that exit code came back through the console'
        !summary.isEmpty()
        run.exitCode == 0
        run.console.any { it.contains('VIGIL-GUEST-EXIT 0') }
    }

    def "nothing failed and nothing was skipped"() {
        given:
        Map<String, List<String>> failed = reported.FAIL
        Map<String, List<String>> skipped = reported.SKIP

        expect:
        failed == [:]
        skipped == [:]
        summary.failed == 0
        summary.skipped == 0
    }

    def "#name: every expected test passed, and no other"() {
        given:
        def passed = reported.PASS[spec] ?: []

        expect:
        (EXPECTED[spec] - passed) == []
        (passed - EXPECTED[spec]) == []
        passed.size() == EXPECTED[spec].size()

        where:
        spec << EXPECTED.keySet().toList()
        name = spec.tokenize('.').last()
    }

    def "the counts add up"() {
        given:
        int expected = EXPECTED.values().sum { it.size() } as int
        int passLines = reported.PASS.values().sum(0) { it.size() } as int

        expect:
        summary.run == expected
        summary.passed == expected
        passLines == expected
    }
}
