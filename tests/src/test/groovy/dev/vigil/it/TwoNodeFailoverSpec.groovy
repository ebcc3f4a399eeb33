package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.time.Duration
import java.time.Instant

/**
 * Two Vigil nodes and a client on one bridge, each in its own network namespace, configured the way
 * the seed how-tos configure keepalived (PASS authentication, a private multicast group, advert 1 s).
 * The features run in order: each starts from the state the previous one left.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class TwoNodeFailoverSpec extends Specification {

    static final String VIP = '10.77.0.50'
    // RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s; Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time
    static final Duration SKEW_90 = Duration.ofNanos((long) ((256 - 90) / 256.0 * 1e9))
    static final Duration MASTER_DOWN_90 = Duration.ofSeconds(3) + SKEW_90
    static final Duration SLACK = Duration.ofMillis(250)

    @Shared NetnsLab lab
    @Shared VigilNode n1
    @Shared VigilNode n2

    static String config(String routerId, String state, int priority, String extra = '') {
        """\
        ! Configuration File for keepalived, as in the seed how-tos
        global_defs {
           router_id ${routerId}
           vrrp_mcast_group4 224.24.24.18
        }

        vrrp_instance VI_1 {
            state ${state}
            interface eth0
            virtual_router_id 51
            priority ${priority}
            advert_int 1
            ${extra}
            authentication {
                auth_type PASS
                auth_pass 1111
            }
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab()
                .host('n1', '10.77.0.1/24')
                .host('n2', '10.77.0.2/24')
                .host('cl', '10.77.0.100/24')
    }

    def cleanupSpec() {
        [n1, n2].each { node -> if (node?.process?.alive) { System.err.println("--- ${node.host} log:\n${node.logText()}") } }
        ['n1', 'n2'].each { h -> System.err.println("--- ${h} address changes:\n${lab?.addressLog(h)}") }
        lab?.close()
    }

    def 'the higher-priority node owns the VIP and the client reaches it'() {
        when:
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100)).start()
        n2 = new VigilNode(lab, 'n2', config('node-2', 'BACKUP', 90)).start()
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20))
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20))
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP on n1') { lab.hasAddress('n1', VIP) }

        then: 'only the master carries the VIP'
        lab.hasAddress('n1', VIP)
        !lab.hasAddress('n2', VIP)
        n2.state('VI_1') == 'BACKUP'

        and: 'the client reaches the VIP at the master\'s MAC'
        lab.run('cl', 'ping', '-c', '3', '-i', '0.2', '-W', '1', VIP) == 0
        lab.exec('cl', 'ip', 'neigh', 'show', VIP).contains(lab.mac('n1'))
    }

    def 'SIGTERM on the master hands the VIP over within skew time'() {
        given:
        Instant stopped = Instant.now()

        when:
        n1.signal('TERM')
        Instant master = n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), stopped)
        int exit = n1.awaitExit(Duration.ofSeconds(10))
        Duration took = Duration.between(stopped, master)
        println "SIGTERM hand-over: ${took.toMillis()} ms (skew time ${SKEW_90.toMillis()} ms)"

        then: 'the old master left cleanly, sending priority 0 and removing its VIP'
        exit == 0
        !lab.hasAddress('n1', VIP)
        n1.logText().contains('priority 0')

        and: 'the backup took over after the skew time, not the full master-down interval'
        took < SKEW_90 + SLACK
        lab.hasAddress('n2', VIP)

        and: 'the client follows the VIP to the new master'
        lab.run('cl', 'ping', '-c', '3', '-i', '0.2', '-W', '1', VIP) == 0
        lab.exec('cl', 'ip', 'neigh', 'show', VIP).contains(lab.mac('n2'))
    }

    def 'a killed master with a cut cable loses the VIP within Master_Down_Interval'() {
        given: 'n1 back as master'
        Instant restarted = Instant.now()
        n1 = new VigilNode(lab, 'n1', config('node-1', 'MASTER', 100)).start()
        n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20), restarted)
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20), restarted)

        when:
        Instant killed = Instant.now()
        n1.signal('KILL')
        lab.cutLink('n1')
        Instant master = n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), killed)
        Duration took = Duration.between(killed, master)
        println "crash take-over: ${took.toMillis()} ms (Master_Down_Interval ${MASTER_DOWN_90.toMillis()} ms)"

        then: 'the backup waited for the master-down timer (the last advert came at most 1 s before the kill)'
        took < MASTER_DOWN_90 + SLACK
        took > MASTER_DOWN_90 - Duration.ofSeconds(1) - SLACK
        lab.hasAddress('n2', VIP)
        lab.run('cl', 'ping', '-c', '3', '-i', '0.2', '-W', '1', VIP) == 0

        and: 'the killed node still holds a stale VIP on its (cut) interface'
        lab.hasAddress('n1', VIP)
    }

    def 'the old master restarted with a higher priority clears its stale VIP and preempts'() {
        given:
        lab.restoreLink('n1')
        Instant restarted = Instant.now()

        when:
        n1 = new VigilNode(lab, 'n1', config('node-1', 'BACKUP', 150)).start()
        n1.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20), restarted)

        then: 'the stale VIP is gone before the node enters BACKUP'
        !lab.hasAddress('n1', VIP) || n1.state('VI_1') == 'MASTER'
        n1.logText().contains('stale')

        when:
        Instant master = n1.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), restarted)
        n2.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(5), restarted)
        NetnsLab.waitFor(Duration.ofSeconds(2), 'VIP removed from n2') { !lab.hasAddress('n2', VIP) }

        then:
        lab.hasAddress('n1', VIP)
        !lab.hasAddress('n2', VIP)
        lab.run('cl', 'ping', '-c', '3', '-i', '0.2', '-W', '1', VIP) == 0
        lab.exec('cl', 'ip', 'neigh', 'show', VIP).contains(lab.mac('n1'))
    }

    def 'with nopreempt the restarted higher-priority node stays backup'() {
        given: 'n2 is master again after n1 stops'
        Instant stopped = Instant.now()
        n1.signal('TERM')
        n1.awaitExit(Duration.ofSeconds(10))
        n2.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), stopped)

        when:
        Instant restarted = Instant.now()
        n1 = new VigilNode(lab, 'n1', config('node-1', 'BACKUP', 150, 'nopreempt')).start()
        n1.awaitTransition('VI_1', 'BACKUP', Duration.ofSeconds(20), restarted)
        Thread.sleep(MASTER_DOWN_90.toMillis() * 2)

        then: 'n1 never became master; n2 keeps the VIP'
        n1.transitionedAt('VI_1', 'MASTER') == null
        n1.state('VI_1') == 'BACKUP'
        n2.transitionedAt('VI_1', 'BACKUP').isBefore(stopped)
        lab.hasAddress('n2', VIP)
        !lab.hasAddress('n1', VIP)
    }
}
