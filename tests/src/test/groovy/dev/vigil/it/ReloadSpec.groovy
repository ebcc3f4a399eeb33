package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.time.Duration
import java.time.Instant

/**
 * SIGHUP re-reads keepalived.conf and applies only the difference: an unchanged MASTER keeps its
 * VIP (the client's ping never misses), added instances start, removed ones stop, a changed
 * priority is applied in place, and a broken file is rejected with located errors while the running
 * configuration stays in force.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class ReloadSpec extends Specification {

    static final String VIP1 = '10.77.0.51'
    static final String VIP2 = '10.77.0.52'

    @Shared NetnsLab lab
    @Shared VigilNode node
    @Shared Process ping

    static String instance(String name, int vrid, int priority, String vip) {
        """\
        vrrp_instance ${name} {
            interface eth0
            virtual_router_id ${vrid}
            priority ${priority}
            advert_int 0.1
            version 3
            virtual_ipaddress {
                ${vip}/24
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab().host('n1', '10.77.0.1/24').host('cl', '10.77.0.100/24')
        // Started as under nohup (SIGHUP ignored): every reload below also shows the daemon takes SIGHUP back.
        node = new VigilNode(lab, 'n1', instance('VI_1', 51, 100, VIP1)).startIgnoringHup()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(15))
        NetnsLab.waitFor(Duration.ofSeconds(5), 'client reaches VIP1') { lab.run('cl', 'ping', '-c1', '-W1', VIP1) == 0 }
        ping = lab.spawn('cl', lab.dir.resolve('ping.log'), ['ping', '-D', '-i', '0.01', VIP1])
    }

    def cleanupSpec() {
        ping?.destroy()
        node?.signal('TERM')
        lab?.close()
    }

    /** Longest gap between consecutive echo replies, in ms, over the ping log so far. */
    double longestGapMs() {
        def times = Files.readAllLines(lab.dir.resolve('ping.log')).findAll { it.contains('bytes from') }
                .collect { (it =~ /^\[(\d+\.\d+)\]/)[0][1] as double }
        assert times.size() > 10
        (1..<times.size()).collect { (times[it] - times[it - 1]) * 1000 }.max()
    }

    void reload(String text) {
        Files.writeString(node.config, text)
        node.signal('HUP')
    }

    void awaitLog(String fragment, Instant after) {
        NetnsLab.waitFor(Duration.ofSeconds(10), "log line '${fragment}'\n${-> node.logText()}") {
            node.logText().readLines().any { it.contains(fragment) && Instant.parse(it.split(' ')[0]) >= after }
        }
    }

    def 'adding an instance starts it and leaves the running MASTER untouched'() {
        given:
        Instant before = Instant.now()
        Thread.sleep(1000)

        when:
        reload(instance('VI_1', 51, 100, VIP1) + instance('VI_2', 52, 100, VIP2))
        awaitLog('VI_2: added', before)
        node.awaitTransition('VI_2', 'MASTER', Duration.ofSeconds(10), before)
        Thread.sleep(1000)

        then: 'the daemon took back the SIGHUP it inherited as ignored, and the reload kept VI_1'
        node.logText().contains('SIGHUP was ignored when the daemon started')
        node.logText().contains('VI_1: unchanged')
        node.transitionedAt('VI_1', 'MASTER') < before
        lab.hasAddress('n1', VIP1)
        lab.hasAddress('n1', VIP2)
        longestGapMs() < 100
    }

    def 'a changed priority is applied in place, without a transition'() {
        given:
        Instant before = Instant.now()

        when:
        reload(instance('VI_1', 51, 120, VIP1) + instance('VI_2', 52, 100, VIP2))
        awaitLog('VI_1: changed: priority 100 -> 120', before)
        Thread.sleep(500)

        then:
        node.transitionedAt('VI_1', 'MASTER') < before
        lab.hasAddress('n1', VIP1)
        longestGapMs() < 100
    }

    def 'a broken file is rejected with located errors and changes nothing'() {
        given:
        Instant before = Instant.now()

        when:
        reload(instance('VI_1', 51, 120, VIP1) + 'vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 300\n')
        awaitLog('reload rejected', before)

        then:
        node.logText().readLines().any { it.contains("${node.config.fileName}:") && it.contains(': error: ') }
        lab.hasAddress('n1', VIP1)
        lab.hasAddress('n1', VIP2)
        node.state('VI_1') == 'MASTER'
        node.state('VI_2') == 'MASTER'
    }

    def 'removing an instance stops it: its VIP goes, the other stays'() {
        given:
        Instant before = Instant.now()

        when:
        reload(instance('VI_1', 51, 120, VIP1))
        awaitLog('VI_2: removed', before)
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP2 gone') { !lab.hasAddress('n1', VIP2) }

        then:
        lab.hasAddress('n1', VIP1)
        node.transitionedAt('VI_1', 'MASTER') < before
        longestGapMs() < 100
        node.process.alive
    }
}
