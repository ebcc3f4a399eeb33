package dev.vigil.dsl.store

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.sql.DriverManager
import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset
import java.util.concurrent.Callable
import java.util.concurrent.Executors

/**
 * The policy store on real SQLite files: revisions, activation through a check, rollback, disable,
 * delete, the audit trail, migrations, files that are not stores, and concurrent writers.
 */
class PolicyStoreSpec extends Specification {

    /** Refuses any text containing BROKEN, as a compiler refuses a policy that does not compile. */
    static final PolicyCheck CHECK = { String name, int rev, String text ->
        int at = text.indexOf('BROKEN')
        if (at >= 0) {
            throw new IllegalArgumentException("${name} r${rev}:1:${at + 1}: unexpected BROKEN")
        }
    } as PolicyCheck

    @TempDir
    Path dir

    PolicyStore store

    def setup() {
        store = PolicyStore.open(dir.resolve('policies.db'), Clock.fixed(Instant.parse('2026-11-30T12:00:00Z'), ZoneOffset.UTC))
    }

    def cleanup() {
        store?.close()
    }

    def 'each add is a new inactive revision with its author, comment and hash'() {
        when:
        def r1 = store.add('web', 'on vrrp { }\n', 'alice', 'first')
        def r2 = store.add('web', 'on vrrp { drain() }\n', 'bob', null)

        then:
        r1.number() == 1 && r2.number() == 2
        !r1.active() && !r2.active()
        store.revisions('web')*.number() == [1, 2]
        store.revision('web', 1).text() == 'on vrrp { }\n'
        store.revision('web', 1).author() == 'alice'
        store.revision('web', 1).comment() == 'first'
        store.revision('web', 2).comment() == ''
        store.revision('web', 2).sha256() == 'on vrrp { drain() }\n'.getBytes('UTF-8').digest('SHA-256')
        store.revision('web', 1).created() == Instant.parse('2026-11-30T12:00:00Z')
        store.active('web').isEmpty()
        store.list()*.name() == ['web']
        store.list()[0].latest() == 2 && store.list()[0].revisions() == 2 && store.list()[0].active() == null
        store.auditTrail('web', 10)*.kind() == ['added', 'added']
        store.auditTrail('web', 10)*.actor() == ['alice', 'bob']
    }

    def 'unknown policies and revisions and bad names are clear errors'() {
        given:
        store.add('web', 'x', 'alice', null)

        when:
        store.revision('web', 7)
        then:
        def e1 = thrown(PolicyStoreException)
        e1.message == 'policy web r7: no such revision (latest r1)'

        when:
        store.revisions('db')
        then:
        def e2 = thrown(PolicyStoreException)
        e2.message == 'policy db: no such policy'

        when:
        store.add(name, 'x', 'alice', null)
        then:
        def e3 = thrown(PolicyStoreException)
        e3.message.startsWith("policy name \"${name}\": expected 1 to 63 characters")

        where:
        name << ['Web', '-web', 'a' * 64, 'web/x', '']
    }

    def 'activate swaps the active revision in one step and audits it'() {
        given:
        store.add('web', 'one', 'alice', null)
        store.add('web', 'two', 'alice', null)

        when:
        def a1 = store.activate('web', 1, CHECK, 'alice')
        def a2 = store.activate('web', 2, CHECK, 'bob')

        then:
        a1.previous() == null && a1.revision().number() == 1
        a2.previous() == 1 && a2.revision().active()
        store.active('web').get().number() == 2
        store.revisions('web')*.active() == [false, true]
        store.activeRevisions().collectEntries { k, v -> [k, v.number()] } == [web: 2]
        store.activeNumbers() == [web: 2]
        store.auditTrail('web', 10).collect { "${it.kind()} r${it.revision()} ${it.detail()} ${it.actor()}".toString() }[-2..-1] ==
                ['activated r1 nothing was active alice', 'activated r2 r1 was active bob']
    }

    def 'a revision the check refuses leaves the running one active and records the error'() {
        given:
        store.add('web', 'good', 'alice', null)
        store.add('web', 'so BROKEN', 'alice', null)
        store.activate('web', 1, CHECK, 'alice')

        when:
        store.activate('web', 2, CHECK, 'bob')

        then:
        def e = thrown(PolicyStoreException)
        e.message == 'policy web r2: not activated: web r2:1:4: unexpected BROKEN; r1 stays active'
        store.active('web').get().number() == 1
        with(store.auditTrail('web', 1)[0]) {
            kind() == 'error'
            revision() == 2
            detail() == 'not activated: web r2:1:4: unexpected BROKEN'
            actor() == 'bob'
        }
    }

    def 'rollback activates an earlier revision, and only an earlier one'() {
        given:
        (1..3).each { store.add('web', "text ${it}", 'alice', null) }
        store.activate('web', 3, CHECK, 'alice')

        when:
        def a = store.rollback('web', 1, CHECK, 'carol')

        then:
        a.previous() == 3
        store.active('web').get().number() == 1
        store.auditTrail('web', 1)[0].kind() == 'rolled-back'
        store.auditTrail('web', 1)[0].detail() == 'r3 was active'

        when:
        store.rollback('web', 2, CHECK, 'carol')

        then:
        def e = thrown(PolicyStoreException)
        e.message == 'policy web r2: not earlier than the active r1 (activate it instead)'
        store.active('web').get().number() == 1
    }

    def 'disable leaves no revision active; disabling again changes nothing'() {
        given:
        store.add('web', 'x', 'alice', null)
        store.activate('web', 1, CHECK, 'alice')

        expect:
        store.disable('web', 'alice') == 1
        store.active('web').isEmpty()
        store.activeRevisions().isEmpty()
        store.disable('web', 'alice') == null
        store.auditTrail('web', 10)*.kind() == ['added', 'activated', 'disabled']
    }

    def 'delete removes the policy and its revisions, keeps the trail, and numbers go on'() {
        given:
        store.add('web', 'x', 'alice', null)
        store.add('web', 'y', 'alice', null)
        store.activate('web', 2, CHECK, 'alice')
        store.add('db', 'z', 'alice', null)

        when:
        int deleted = store.delete('web', 'dave')

        then:
        deleted == 2
        store.list()*.name() == ['db']
        store.activeRevisions().isEmpty()
        with(store.auditTrail('web', 10).last()) {
            kind() == 'deleted'
            detail() == '2 revisions, r2 was active'
            actor() == 'dave'
        }

        when:
        store.revision('web', 1)
        then:
        thrown(PolicyStoreException)

        expect:
        store.add('web', 'again', 'alice', null).number() == 3
    }

    def 'the audit trail takes the daemon actions, limited to the last lines'() {
        given:
        store.add('web', 'x', 'alice', null)

        when:
        store.audit('web', 1, 'loaded', '', 'vigil@lb1')
        store.audit('web', 1, 'action', 'drain 10.0.0.2:80', 'vigil@lb1')
        store.audit('web', null, 'Bad Kind', '', 'vigil@lb1')

        then:
        thrown(PolicyStoreException)
        store.auditTrail('web', 2)*.kind() == ['loaded', 'action']
        store.auditTrail('web', 2)[1].detail() == 'drain 10.0.0.2:80'
    }

    def 'opening migrates an empty file and reopens an existing store as it was'() {
        given:
        Path empty = Files.createFile(dir.resolve('empty.db'))

        when:
        def s = PolicyStore.open(empty)
        s.add('web', 'kept', 'alice', 'c')
        s.activate('web', 1, CHECK, 'alice')
        s.close()
        def again = PolicyStore.open(empty)

        then:
        again.active('web').get().text() == 'kept'
        schemaVersions(empty) == ['1']
        pragma(empty, 'journal_mode') == 'wal'

        cleanup:
        again?.close()
    }

    def 'the schema enforces at most one active revision per policy'() {
        given:
        store.add('web', 'x', 'alice', null)
        store.add('web', 'y', 'alice', null)
        store.close()
        store = null
        def c = DriverManager.getConnection("jdbc:sqlite:${dir.resolve('policies.db')}")

        when:
        c.createStatement().executeUpdate("UPDATE revision SET active = 1 WHERE policy = 'web'")

        then:
        def e = thrown(java.sql.SQLException)
        e.message.contains('UNIQUE')

        cleanup:
        c?.close()
    }

    def 'a file that is not a store is refused with one line and left unchanged'() {
        given:
        Path f = dir.resolve(name)
        setup.call(f)
        byte[] before = Files.readAllBytes(f)

        when:
        PolicyStore.open(f)

        then:
        def e = thrown(PolicyStoreException)
        e.message == "${f}: ${message}".toString()
        Files.readAllBytes(f) == before

        where:
        name          | setup                                                                                   || message
        'text.db'     | { Path p -> Files.writeString(p, 'global_defs {\n}\n') }                                || 'not a Vigil policy store (not an SQLite database); left unchanged'
        'corrupt.db'  | { Path p -> Files.write(p, ('SQLite format 3\0' + 'x' * 200).getBytes('ISO-8859-1')) } || 'not a readable Vigil policy store: [SQLITE_NOTADB] File opened that is not a database file (file is not a database)'
        'other.db'    | { Path p -> sql(p, 'CREATE TABLE users (id INTEGER)') }                                || 'not a Vigil policy store (an SQLite database with tables: users); left unchanged'
        'newer.db'    | { Path p -> newerStore(p) }                                                             || 'written by a newer Vigil (store schema version 2, this one knows up to 1); left unchanged'
    }

    def 'a directory where the store should be, or a missing directory, is a clear error'() {
        when:
        PolicyStore.open(dir)
        then:
        def e1 = thrown(PolicyStoreException)
        e1.message == "${dir}: not a Vigil policy store (not a regular file)".toString()

        when:
        PolicyStore.open(dir.resolve('no/such/p.db'))
        then:
        def e2 = thrown(PolicyStoreException)
        e2.message == "${dir.resolve('no/such/p.db')}: cannot create the store: no directory ${dir.resolve('no/such')}".toString()
    }

    def 'two stores on one file and two other processes writing at once lose no revision'() {
        given:
        Path f = dir.resolve('policies.db')
        def other = PolicyStore.open(f)
        def pool = Executors.newFixedThreadPool(2)
        String java = Path.of(System.getProperty('java.home'), 'bin', 'java')
        def procs = (1..2).collect {
            new ProcessBuilder(java, '-cp', System.getProperty('java.class.path'), StoreWriter.name, f.toString(), 'web', '25')
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start()
        }

        when:
        def futures = [store, other].collect { s ->
            pool.submit({ (1..25).collect { s.add('web', "in-process ${it}", 'alice', null).number() } } as Callable)
        }
        def mine = futures.collectMany { it.get() }
        def theirs = procs.collectMany { p -> def out = p.inputStream.text; assert p.waitFor() == 0; out.readLines()*.toInteger() }
        def all = mine + theirs

        then:
        all.size() == 100
        all.toSet().size() == 100
        store.revisions('web')*.number() == (1..100).toList()
        store.auditTrail('web', 1000).count { it.kind() == 'added' } == 100

        cleanup:
        pool?.shutdown()
        other?.close()
    }

    static void sql(Path p, String... statements) {
        def c = DriverManager.getConnection("jdbc:sqlite:${p}")
        try {
            statements.each { c.createStatement().executeUpdate(it) }
        } finally {
            c.close()
        }
    }

    /** A store migrated by a later version: a schema history with a version 2. */
    static void newerStore(Path p) {
        PolicyStore.open(p).close()
        sql(p, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, installed_on, execution_time, success) " +
                "VALUES (99, '2', 'future', 'SQL', 'V2__future.sql', 0, 'x', '2030-01-01', 1, 1)")
    }

    static List<String> schemaVersions(Path p) {
        def c = DriverManager.getConnection("jdbc:sqlite:${p}")
        try {
            def rs = c.createStatement().executeQuery('SELECT version FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank')
            def out = []
            while (rs.next()) {
                out << rs.getString(1)
            }
            out
        } finally {
            c.close()
        }
    }

    static String pragma(Path p, String name) {
        def c = DriverManager.getConnection("jdbc:sqlite:${p}")
        try {
            def rs = c.createStatement().executeQuery("PRAGMA ${name}")
            rs.next()
            rs.getString(1)
        } finally {
            c.close()
        }
    }
}
