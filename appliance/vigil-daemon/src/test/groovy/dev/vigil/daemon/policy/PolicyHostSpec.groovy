package dev.vigil.daemon.policy

import dev.vigil.dsl.CompiledPolicy
import dev.vigil.dsl.PolicyCompiler
import dev.vigil.dsl.store.PolicyCheck
import dev.vigil.dsl.store.PolicyStore
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The daemon's side of the store on a real store file: first load, following changes made by
 * another store (as the command line makes them), compile failures, the audit queue, and stores
 * that cannot be opened. The compiler here refuses any text containing BROKEN and compiles the
 * others as a policy that notes the text.
 */
class PolicyHostSpec extends Specification {

    static final PolicyHost.Compiler COMPILER = { String name, int rev, String text ->
        if (text.contains('BROKEN')) {
            throw new IllegalArgumentException("${name} r${rev}:1:1: unexpected BROKEN")
        }
        new PolicyCompiler().compile(name, rev, "policy('${name}') {\n    on realServerDown { event -> note('${text}') }\n}\n")
    } as PolicyHost.Compiler

    @TempDir
    Path dir

    List<Map<String, CompiledPolicy>> seen = new CopyOnWriteArrayList<>()
    PolicyHost host
    PolicyStore cli

    def cleanup() {
        host?.close()
        cli?.close()
    }

    PolicyHost host(Path store) {
        host = new PolicyHost(store, { 'vigil@lb1' }, { seen << it }, COMPILER, Duration.ofMillis(50))
        host
    }

    /** Starts the host and waits for its first hand-over to the listener. */
    void start(Path store) {
        host(store).start()
        waitFor('the first load') { !seen.isEmpty() }
    }

    static void waitFor(String what, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + 10_000_000_000L
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}"
            Thread.sleep(20)
        }
    }

    static Map<String, Integer> numbers(Map<String, CompiledPolicy> m) {
        m.collectEntries { k, v -> [k, v.revision()] }
    }

    def 'start creates the store and its directories, compiles the active revisions and tells the listener'() {
        given:
        Path store = dir.resolve('var/lib/vigil/policies.db')
        Files.createDirectories(store.parent)
        cli = PolicyStore.open(store)
        cli.add('web', 'one', 'alice', null)
        cli.activate('web', 1, PolicyCheck.NONE, 'alice')
        cli.add('db', 'two', 'alice', null)

        when:
        start(store)

        then:
        numbers(seen.last()) == [web: 1]
        host.status() == [store: store.toString(), state: 'open', active: [web: [revision: 1, state: 'running']],
                          auditQueued: host.status().auditQueued, auditDropped: 0L, auditFailed: 0L]
        waitFor('loaded audited') { cli.auditTrail('web', 10)*.kind().contains('loaded') }
        cli.auditTrail('web', 1)[0].actor() == 'vigil@lb1'
    }

    def 'a missing directory is created'() {
        given:
        Path store = dir.resolve('a/b/policies.db')

        when:
        start(store)

        then:
        Files.exists(store)
        seen.size() == 1 && seen[0].isEmpty()
        host.status().state == 'open'
    }

    def 'changes of the active set are followed: activate, a new revision, disable, delete'() {
        given:
        Path store = dir.resolve('policies.db')
        cli = PolicyStore.open(store)
        start(store)

        when:
        cli.add('web', 'one', 'alice', null)
        cli.activate('web', 1, PolicyCheck.NONE, 'alice')
        then:
        waitFor('web r1') { numbers(host.policies()) == [web: 1] }

        when:
        cli.add('web', 'two', 'alice', null)
        cli.activate('web', 2, PolicyCheck.NONE, 'alice')
        cli.add('db', 'x', 'alice', null)
        cli.activate('db', 1, PolicyCheck.NONE, 'alice')
        then:
        waitFor('web r2, db r1') { numbers(host.policies()) == [db: 1, web: 2] }
        numbers(seen.last()) == [db: 1, web: 2]

        when:
        cli.disable('web', 'alice')
        cli.delete('db', 'alice')
        then:
        waitFor('nothing') { host.policies().isEmpty() }
        seen.last().isEmpty()
        waitFor('audited') {
            cli.auditTrail('web', 20).findAll { it.actor() == 'vigil@lb1' }.collect { "${it.kind()} r${it.revision()}".toString() } ==
                    ['loaded r1', 'unloaded r1', 'loaded r2', 'unloaded r2']
        }
    }

    def 'a revision that does not compile is logged, shown and left out; the others run'() {
        given:
        Path store = dir.resolve('policies.db')
        cli = PolicyStore.open(store)
        cli.add('web', 'BROKEN', 'alice', null)
        cli.activate('web', 1, PolicyCheck.NONE, 'alice')
        cli.add('db', 'fine', 'alice', null)
        cli.activate('db', 1, PolicyCheck.NONE, 'alice')

        when:
        start(store)

        then:
        numbers(seen.last()) == [db: 1]
        host.status().active == [db: [revision: 1, state: 'running'],
                                 web: [revision: 1, state: 'compile error', error: 'web r1:1:1: unexpected BROKEN']]
        waitFor('error audited') { cli.auditTrail('web', 1)*.kind() == ['error'] }
        cli.auditTrail('web', 1)[0].detail() == 'not loaded: web r1:1:1: unexpected BROKEN'
    }

    def 'a store that cannot be opened leaves the daemon without policies, and is tried again'() {
        given:
        Path store = dir.resolve('policies.db')
        Files.writeString(store, 'not a store')

        when:
        start(store)

        then:
        seen == [[:]]
        host.status().state == "error: ${store}: not a Vigil policy store (not an SQLite database); left unchanged".toString()
        host.status().active == [:]
        !host.audit('web', 1, 'action', 'x')
        Files.readString(store) == 'not a store'

        when:
        Files.delete(store)
        then:
        waitFor('the store opened') { host.status().state == 'open' }
    }

    def 'off: no store, nothing loaded'() {
        when:
        start(null)

        then:
        seen == [[:]]
        host.status() == [store: 'off', active: [:], auditQueued: 0, auditDropped: 0L, auditFailed: 0L]
        !host.audit('web', 1, 'action', 'x')
    }

    def 'the engine\'s audit lines are written off its thread, in order'() {
        given:
        Path store = dir.resolve('policies.db')
        cli = PolicyStore.open(store)
        cli.add('web', 'one', 'alice', null)
        start(store)

        when:
        (1..50).each { assert host.audit('web', 1, 'action', "drain ${it}") }

        then:
        waitFor('50 actions') { cli.auditTrail('web', 100).count { it.kind() == 'action' } == 50 }
        cli.auditTrail('web', 100).findAll { it.kind() == 'action' }*.detail() == (1..50).collect { "drain ${it}".toString() }
    }

    def 'a reload naming another store loads from it'() {
        given:
        Path a = dir.resolve('a.db')
        Path b = dir.resolve('b.db')
        def sb = PolicyStore.open(b)
        sb.add('web', 'one', 'alice', null)
        sb.activate('web', 1, PolicyCheck.NONE, 'alice')
        sb.close()
        start(a)

        when:
        host.reconfigure(b)

        then:
        waitFor('b loaded') { numbers(host.policies()) == [web: 1] }
        host.status().store == b.toString()

        when:
        host.reconfigure(null)

        then:
        waitFor('off') { host.status().store == 'off' && host.policies().isEmpty() }
    }
}
