package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

/**
 * The qemu guest of tests/qemu boots Debian's kernel with IPVS, iproute2 and a Java runtime.
 * The host kernel has no IPVS, so this guest is where IPVS is exercised for real. One boot runs
 * every check in sequence; each section of its console output is then asserted on separately.
 */
@Stepwise
@Requires({ QemuGuestSpec.usable() })
class QemuGuestSpec extends Specification {

    /** The guest's script: each check's output follows a {@code === name} marker line. */
    static final String GUEST_SCRIPT = '''\
        set -u
        section() { echo "=== $1"; }
        section uname;    uname -r
        section modprobe; modprobe ip_vs && modprobe ip_vs_wrr && echo modprobe-ok
        section lsmod;    lsmod
        section add
        ipvsadm -A -t 10.0.0.1:80 -s wrr && ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 3 && echo add-ok
        section list;     ipvsadm -Ln
        section proc;     cat /proc/net/ip_vs
        section genl;     genl ctrl list | grep 'Name:'
        section delete;   ipvsadm -D -t 10.0.0.1:80 && ipvsadm -Ln
        section netns
        ip netns add left && ip netns add right &&
          ip link add va netns left type veth peer name vb netns right &&
          ip -n left addr add 192.168.77.1/24 dev va && ip -n left link set va up &&
          ip -n right addr add 192.168.77.2/24 dev vb && ip -n right link set vb up &&
          ip netns list && ip netns exec left ping -c 1 -W 5 192.168.77.2
        section java;     java -version 2>&1
        section end
        exit 7
        '''.stripIndent()

    @Shared int exitCode
    @Shared Map<String, List<String>> sections = [:]
    @Shared List<String> console = []

    static boolean usable() {
        QemuGuest.usable('qemu guest spec')
    }

    def setupSpec() {
        // The first run downloads a kernel and jlinks a runtime (about a minute); the boot itself
        // takes 20-30 s under emulation on a loaded two-core machine. The harness enforces its own limit.
        def run = QemuGuest.run(GUEST_SCRIPT, [], 150)
        console = run.console
        exitCode = run.exitCode
        parseSections()
    }

    private void parseSections() {
        String current = null
        for (line in console) {
            def marker = line =~ /=== (\w+)$/
            if (marker.find()) {
                current = marker.group(1)
                sections[current] = []
            } else if (current != null) {
                sections[current] << line
            }
        }
    }

    def "the guest ran the whole script and its exit code came back through the console"() {
        expect: 'the script ran to its end and exit 7 reached the host as run-guest\'s own exit code'
        sections.containsKey('end')
        exitCode == 7
        console.any { it.contains('VIGIL-GUEST-EXIT 7') }
    }

    def "the guest runs Debian's 6.1 kernel with the IPVS modules loaded"() {
        expect:
        sections.uname.any { it ==~ /6\.1\.0-\d+-amd64/ }
        sections.modprobe.contains('modprobe-ok')
        ['ip_vs', 'ip_vs_wrr', 'nf_conntrack', 'veth'].every { mod ->
            sections.lsmod.any { it.split(/\s+/)[0] == mod }
        }
    }

    def "ipvsadm creates a weighted round-robin service with a masqueraded real server"() {
        expect:
        sections.add.contains('add-ok')
        sections.list.any { it ==~ /IP Virtual Server version [\d.]+ \(size=\d+\)/ }
        sections.list.any { it ==~ /TCP\s+10\.0\.0\.1:80 wrr\s*/ }
        sections.list.any { it ==~ /\s+->\s+10\.0\.0\.2:80\s+Masq\s+3\s+0\s+0\s*/ }
    }

    def "the kernel's own table shows the same service"() {
        expect: '10.0.0.1:80 and 10.0.0.2:80 in the hexadecimal form of /proc/net/ip_vs'
        sections.proc.any { it ==~ /TCP\s+0A000001:0050 wrr\s*/ }
        sections.proc.any { it ==~ /\s+->\s+0A000002:0050\s+Masq\s+3\s+0\s+0\s*/ }
    }

    def "IPVS is registered as a generic-netlink family"() {
        expect:
        sections.genl.any { it ==~ /\s*Name:\s+IPVS\s*/ }
    }

    def "a deleted service is gone from the listing"() {
        expect:
        sections.delete.any { it.startsWith('Prot LocalAddress:Port') }
        !sections.delete.any { it.contains('10.0.0.1:80') }
    }

    def "two network namespaces joined by a veth pair reach each other"() {
        expect:
        sections.netns.any { it.startsWith('left') }
        sections.netns.any { it.startsWith('right') }
        sections.netns.any { it ==~ /1 packets transmitted, 1 packets received, 0% packet loss/ }
    }

    def "the jlinked Java runtime starts in the guest"() {
        expect:
        sections.java.any { it ==~ /openjdk version "25[^"]*".*/ }
    }
}
