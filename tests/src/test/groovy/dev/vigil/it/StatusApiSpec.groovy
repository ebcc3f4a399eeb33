package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Path
import java.time.Duration

/**
 * {@code vigil status} reads the running daemon's state and counters. Two nodes that disagree on
 * the password: the higher-priority one's adverts are dropped and counted, never obeyed.
 */
@Requires({ NetnsLab.usable() })
class StatusApiSpec extends Specification {

    @Shared NetnsLab lab

    static String config(int priority, String pass) {
        """\
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 42
            priority ${priority}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass ${pass}
            }
            virtual_ipaddress {
                10.77.0.42/24
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab().host('n1', '10.77.0.1/24').host('n2', '10.77.0.2/24')
    }

    def cleanupSpec() {
        lab?.close()
    }

    Map status(String host) {
        String java = Path.of(System.getProperty('java.home'), 'bin', 'java').toString()
        String json = lab.exec(host, java, '-cp', System.getProperty('java.class.path'), 'dev.vigil.daemon.Main', 'status')
        new JsonSlurper().parseText(json) as Map
    }

    def 'adverts with the wrong password are dropped, counted and never obeyed'() {
        given:
        def low = new VigilNode(lab, 'n1', config(100, 'right')).start()
        low.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(15))

        when: 'a node with a higher priority but another password joins'
        def high = new VigilNode(lab, 'n2', config(200, 'wrong')).start()
        high.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(15))
        Thread.sleep(3000)
        Map s1 = status('n1')
        Map s2 = status('n2')
        Map i1 = s1.instances.find { it.name == 'VI_1' } as Map

        then: 'each stays MASTER: neither obeys the other'
        i1.state == 'MASTER'
        i1.effectivePriority == 100
        (s2.instances.find { it.name == 'VI_1' } as Map).state == 'MASTER'
        low.transitionedAt('VI_1', 'BACKUP') == null || low.transitionedAt('VI_1', 'BACKUP').isBefore(low.transitionedAt('VI_1', 'MASTER'))

        and: 'the drops are counted per reason and logged'
        (i1.counters.drops.AUTH_MISMATCH as long) >= 3
        (i1.counters.advertsSent as long) > 0
        low.logText().contains('advert dropped (AUTH_MISMATCH)')
        lab.hasAddress('n1', '10.77.0.42')

        cleanup:
        [low, high].each { it?.signal('TERM') }
        [low, high].each { it?.awaitExit(Duration.ofSeconds(10)) }
    }
}
