package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * Active policies and their revisions survive a daemon restart: {@code vigil status} shows the same
 * active set, every policy running, before and after. Activation compiles the policies, so this
 * needs the policy compiler: each text is a small policy that compiles.
 */
@Requires({ NetnsLab.usable() })
class PolicyRestartSpec extends Specification {

    Map status(NetnsLab lab) {
        def r = lab.vigil('n1', 'status')
        r.exit == 0 ? new JsonSlurper().parseText(r.out as String) as Map : null
    }

    def 'the active set of the store is loaded again after a restart'() {
        given:
        NetnsLab lab = new NetnsLab().host('n1', '10.79.0.1/24')
        Path store = lab.dir.resolve('policies.db')
        String conf = """\
            global_defs {
                router_id restart
                vigil_policy_store ${store}
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 62
                priority 100
                advert_int 0.1
                version 3
                virtual_ipaddress {
                    10.79.0.62/24
                }
            }
            """.stripIndent()
        VigilNode node = new VigilNode(lab, 'n1', conf).start()
        NetnsLab.waitFor(Duration.ofSeconds(30), "the daemon answers\n${-> node.logText()}") { status(lab)?.policies?.state == 'open' }
        def cli = { String... args -> lab.vigil('n1', *(['policy'] + (args as List) + ['--store', store.toString()])) }
        ['web', 'db'].each { name ->
            (1..3).each { i -> assert cli('add', name, Files.writeString(lab.dir.resolve("${name}${i}"), "// ${name} ${i}\npolicy('${name}') {\n    on realServerDown { event -> note('${i}') }\n}\n").toString()).exit == 0 }
        }
        assert cli('activate', 'web', '3').exit == 0
        assert cli('activate', 'db', '3').exit == 0
        NetnsLab.waitFor(Duration.ofSeconds(10), "the daemon loads db r3\n${-> node.logText()}") {
            status(lab)?.policies?.active?.db?.revision == 3
        }
        assert cli('rollback', 'db', '2').exit == 0
        Map expected = [db: [revision: 2, state: 'running'], web: [revision: 3, state: 'running']]
        NetnsLab.waitFor(Duration.ofSeconds(10), "the daemon follows the store\n${-> node.logText()}") {
            status(lab)?.policies?.active == expected
        }
        Map before = status(lab).policies as Map

        when:
        node.signal('TERM')
        node.awaitExit(Duration.ofSeconds(20))
        node.start()
        NetnsLab.waitFor(Duration.ofSeconds(30), "the daemon answers again\n${-> node.logText()}") { status(lab)?.policies?.state == 'open' }
        Map after = status(lab).policies as Map

        then:
        before.active == expected
        after.active == before.active
        after.store == store.toString()
        // What the daemon recorded: loaded before the stop, unloaded by it, loaded again.
        cli('audit', 'db').out.readLines().findAll { it.contains('vigil@restart') }.collect { it.split(/\s+/)[1..2].join(' ') } ==
                ['loaded r3', 'unloaded r3', 'loaded r2', 'unloaded r2', 'loaded r2']

        cleanup:
        if (node?.process?.alive) {
            node.signal('TERM')
            node.awaitExit(Duration.ofSeconds(20))
        }
        lab?.close()
    }
}
