package dev.vigil.it

import dev.vigil.dsl.store.PolicyStore
import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.sql.DriverManager
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The policy store survives crashes: a daemon follows a store while {@code vigil policy add} and
 * {@code activate} processes write to it, and the daemon and some of the writers are SIGKILLed
 * mid-run, round after round. Afterwards the store opens, SQLite's integrity check passes, and
 * every revision a command reported as saved is there with its text. Activation compiles the
 * policies: each text is a small policy that compiles.
 */
@Requires({ NetnsLab.usable() })
class PolicyStoreCrashSpec extends Specification {

    static final int ROUNDS = 20

    static String config(Path store) {
        """\
        global_defs {
            router_id crash
            vigil_policy_store ${store}
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 61
            priority 100
            advert_int 0.1
            version 3
            virtual_ipaddress {
                10.78.0.61/24
            }
        }
        """.stripIndent()
    }

    /** Starts {@code vigil ARGS} outside any namespace (the store is a file), output kept in memory. */
    static Map start(String... args) {
        Process p = new ProcessBuilder(NetnsLab.vigilCommand(args)).start()
        def out = new StringBuffer(), err = new StringBuffer()
        Thread o = Thread.start { try { out << p.inputStream.text } catch (IOException ignored) { } }
        Thread e = Thread.start { try { err << p.errorStream.text } catch (IOException ignored) { } }
        [process: p, out: out, err: err, readers: [o, e]]
    }

    static Map finish(Map run) {
        assert run.process.waitFor(90, TimeUnit.SECONDS): "vigil did not finish: ${run.err}"
        run.readers.each { it.join(10_000) }
        run + [exit: run.process.exitValue()]
    }

    def 'revisions reported saved survive SIGKILLs of the daemon and of the writers'() {
        given:
        NetnsLab lab = new NetnsLab().host('n1', '10.78.0.1/24')
        Path store = lab.dir.resolve('state/policies.db')
        VigilNode node = new VigilNode(lab, 'n1', config(store)).start()
        NetnsLab.waitFor(Duration.ofSeconds(30), "the daemon opens the store\n${-> node.logText()}") { Files.exists(store) }
        def random = new Random(42)
        Map<String, String> saved = [:]            // "pN rM" -> text
        Map<String, Integer> latest = [:]          // policy -> a revision reported saved
        int killedWriters = 0, daemonKills = 0, activations = 0
        List<String> problems = []

        when:
        for (int round = 0; round < ROUNDS; round++) {
            List<Map> runs = []
            Map<Map, String> texts = [:]
            (1..3).each { w ->
                String name = "p${(round + w) % 4}"
                String text = "// policy ${name}, round ${round}, writer ${w}\n// ${'x' * random.nextInt(2000)}\n" +
                        "policy('${name}') {\n    on realServerDown { event -> note('round ${round} writer ${w}') }\n}\n"
                Path f = Files.writeString(lab.dir.resolve("r${round}w${w}.policy"), text)
                def run = start('policy', 'add', name, f.toString(), '--store', store.toString(), '--comment', "round ${round}")
                runs << run
                texts[run] = text
            }
            String target = latest.keySet() ? latest.keySet().toList()[random.nextInt(latest.size())] : null
            Map activation = target ? start('policy', 'activate', target, "${latest[target]}", '--store', store.toString()) : null
            Thread.sleep(300 + random.nextInt(900))
            node.signal('KILL')
            daemonKills++
            Map victim = round % 3 == 0 ? runs[random.nextInt(runs.size())] : null
            if (victim) {
                victim.process.destroyForcibly()
                killedWriters++
            }
            node.awaitExit(Duration.ofSeconds(10))
            node.start()
            runs.each { run ->
                def r = finish(run)
                def m = r.out.toString() =~ /^(\S+) r(\d+) saved/
                if (m.find()) {
                    saved["${m.group(1)} r${m.group(2)}".toString()] = texts[run]
                    latest[m.group(1)] = m.group(2) as int
                } else if (!run.is(victim)) {
                    problems << "add exited ${r.exit} without reporting a revision: ${r.out} ${r.err}"
                }
            }
            if (activation) {
                def r = finish(activation)
                if (r.exit == 0) {
                    activations++
                } else {
                    problems << "activate ${target} r${latest[target]} exited ${r.exit}: ${r.err}"
                }
            }
        }
        // The daemon that runs at the end follows the active set the store holds (nothing writes any more).
        Map<String, Integer> storeActive = PolicyStore.open(store).withCloseable { it.activeNumbers() }
        Map status = null
        NetnsLab.waitFor(Duration.ofSeconds(30), "the last daemon shows the store's active set ${storeActive}\n${-> node.logText()}") {
            def r = lab.vigil('n1', 'status')
            status = r.exit == 0 ? new JsonSlurper().parseText(r.out as String) as Map : null
            status?.policies?.active != null && (status.policies.active as Map).collectEntries { k, v -> [k, v.revision] } == storeActive
        }
        node.signal('TERM')
        node.awaitExit(Duration.ofSeconds(20))
        PolicyStore s = PolicyStore.open(store)
        def c = DriverManager.getConnection("jdbc:sqlite:${store}")
        def rs = c.createStatement().executeQuery('PRAGMA integrity_check')
        rs.next()
        String integrity = rs.getString(1)
        c.close()
        Map<String, String> stored = [:]
        s.list().each { p -> s.revisions(p.name()).each { r -> stored["${r.policy()} r${r.number()}".toString()] = r.text() } }
        Map<String, Integer> active = s.activeNumbers()
        s.close()

        then:
        println "PolicyStoreCrashSpec: ${saved.size()} revisions reported saved, ${activations} activations, " +
                "${daemonKills} daemon SIGKILLs, ${killedWriters} writer SIGKILLs, active at the end ${active}"
        problems == []
        integrity == 'ok'
        saved.size() >= ROUNDS * 2
        saved.every { k, text -> stored[k] == text }
        activations > ROUNDS / 2
        daemonKills == ROUNDS && killedWriters > 0
        status.policies.store == store.toString()
        active == storeActive
        active.size() > 0
        (status.policies.active as Map).values()*.state.every { it == 'running' }

        cleanup:
        if (node?.process?.alive) {
            node.signal('TERM')
            node.awaitExit(Duration.ofSeconds(20))
        }
        lab?.close()
    }
}
