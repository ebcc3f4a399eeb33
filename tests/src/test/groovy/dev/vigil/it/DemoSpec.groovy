package dev.vigil.it

import spock.lang.Requires
import spock.lang.Specification

import java.nio.file.Path

/** {@code bin/vigil demo}, the newcomer's first command, does what README.md promises and cleans up. */
@Requires({ NetnsLab.usable() })
class DemoSpec extends Specification {

    static final Path ROOT = Path.of(System.getProperty('vigil.root', '..')).toAbsolutePath().normalize()

    def 'the demo shows the election, a hand-over and a crash take-over with the outage the client saw'() {
        given:
        def namespacesBefore = NetnsLab.sh('ip', 'netns', 'list').readLines().findAll { it.startsWith('vgdemo') }

        when:
        def r = NetnsLab.capture([ROOT.resolve('bin/vigil').toString(), 'demo'], null, 240)
        String out = r.out + r.err
        println out

        then:
        r.exit == 0
        out.contains('node-1 (priority 100) is MASTER, node-2 (priority 90) is BACKUP: VIP 10.88.0.50 on node-1')
        out.contains('client reaches 10.88.0.50')

        and: 'a graceful stop costs the client about the skew time, a crash about the master-down interval'
        int graceful = outage(out, 'master stopped (SIGTERM):')
        int crash = outage(out, 'master crashed (SIGKILL, cable cut):')
        graceful > 100 && graceful < 1500
        crash > 2000 && crash < 5000

        and: 'nothing is left behind'
        NetnsLab.sh('ip', 'netns', 'list').readLines().findAll { it.startsWith('vgdemo') } == namespacesBefore
    }

    static int outage(CharSequence out, String label) {
        def line = out.readLines().find { it.contains(label) }
        assert line: "no line '${label}' in the demo's output"
        def m = line =~ /client outage: (\d+) ms/
        assert m.find(): line
        m.group(1) as int
    }
}
