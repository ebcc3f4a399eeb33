package dev.vigil.daemon

import dev.vigil.dsl.store.PolicyCheck
import dev.vigil.dsl.store.PolicyStore
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code vigil policy ...} run as the command line runs it, on a real store file. The policy
 * compiler decides activations; where a spec needs an active revision whatever the compiler says,
 * it activates it through the store itself.
 */
class PolicyCommandSpec extends Specification {

    @TempDir
    Path dir

    Path store

    def setup() {
        store = dir.resolve('state/policies.db')
    }

    /** Runs {@code vigil ARGS}; [code, out, err]. */
    static List run(String... args) {
        def out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream()
        PrintStream savedOut = System.out, savedErr = System.err
        System.out = new PrintStream(out, true)
        System.err = new PrintStream(err, true)
        int code
        try {
            code = Main.commandLine().execute(args)
        } finally {
            System.out = savedOut
            System.err = savedErr
        }
        [code, out.toString(), err.toString()]
    }

    List policy(String... args) {
        run((['policy'] + (args as List) + ['--store', store.toString()]) as String[])
    }

    Path file(String name, String text) {
        Files.writeString(dir.resolve(name), text)
    }

    def 'add creates the store and its directory and reports each revision saved'() {
        when:
        def r1 = policy('add', 'web', file('p1', '// one\n').toString(), '--comment', 'first', '--author', 'alice')
        def r2 = policy('add', 'web', file('p2', '// two\n').toString())

        then:
        r1[0] == 0 && r1[1] ==~ /web r1 saved \(sha256 [0-9a-f]{12}\)\n/ && r1[2] == ''
        r2[0] == 0 && r2[1].startsWith('web r2 saved')

        when:
        def list = policy('list')

        then:
        list[0] == 0
        list[1].readLines()[0] == "store: ${store}".toString()
        list[1].readLines()[1] ==~ /NAME\s+ACTIVE\s+LATEST\s+REVISIONS\s+UPDATED/
        list[1].readLines()[2] ==~ /web\s+-\s+r2\s+2\s+\S+Z/
    }

    def 'the author defaults to SUDO_USER, else USER'() {
        when:
        policy('add', 'web', file('p', 'x\n').toString())
        def s = PolicyStore.open(store)

        then:
        s.revision('web', 1).author() == (System.getenv('SUDO_USER') ?: System.getenv('USER') ?: System.getProperty('user.name'))

        cleanup:
        s?.close()
    }

    def 'show prints the particulars as comments, then the text; active, else latest, unless REV is given'() {
        given:
        policy('add', 'web', file('p1', 'one\n').toString(), '--comment', 'first', '--author', 'alice')
        policy('add', 'web', file('p2', 'two\n').toString(), '--author', 'bob')

        when:
        def latest = policy('show', 'web')
        def first = policy('show', 'web', 'r1')

        then:
        latest[1].readLines()[0] == '// web r2'
        latest[1].readLines()[1] ==~ /\/\/ author bob, \S+, sha256 [0-9a-f]{64}/
        latest[1].readLines().drop(2) == ['', 'two']
        first[1].readLines()[0] == '// web r1'
        first[1].readLines()[2] == '// comment: first'
        first[1].readLines().last() == 'one'

        when:
        def s = PolicyStore.open(store)
        s.activate('web', 1, PolicyCheck.NONE, 'test')
        s.close()

        then:
        policy('show', 'web')[1].readLines()[0] == '// web r1 (active)'
    }

    def 'diff: the active (else the one before the latest) to the latest, or the revisions given'() {
        given:
        policy('add', 'web', file('p1', 'a\nb\nc\n').toString())
        policy('add', 'web', file('p2', 'a\nB\nc\n').toString())
        policy('add', 'web', file('p3', 'a\nB\nc\nd\n').toString())

        expect:
        policy('diff', 'web')[1] == '--- web r2\n+++ web r3\n@@ -1,3 +1,4 @@\n a\n B\n c\n+d\n'
        policy('diff', 'web', '1')[1] == '--- web r1\n+++ web r3\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n'
        policy('diff', 'web', '1', '2')[1] == '--- web r1\n+++ web r2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n'
        policy('diff', 'web', '2', '2') == [0, '', '']
    }

    def 'a revision the compiler refuses is not activated: one line, exit 1, the error in the audit trail'() {
        given:
        policy('add', 'web', file('p1', 'one\n').toString())
        def s = PolicyStore.open(store)
        s.activate('web', 1, PolicyCheck.NONE, 'test')
        s.close()
        policy('add', 'web', file('p2', 'this is { not a policy\n').toString())

        when:
        def r = policy('activate', 'web', '2', '--author', 'carol')

        then:
        r[0] == 1
        r[1] == ''
        r[2].readLines().size() == 1
        r[2].startsWith('vigil policy activate: policy web r2: not activated: web r2:')
        r[2].trim().endsWith('; r1 stays active')

        when:
        def audit = policy('audit', 'web')

        then:
        audit[0] == 0
        audit[1].readLines()[0] ==~ /TIME\s+KIND\s+REV\s+ACTOR\s+DETAIL/
        audit[1].readLines()*.split(/\s+/)*.getAt(1).drop(1) == ['added', 'activated', 'added', 'error']
        audit[1].readLines().last() ==~ /\S+\s+error\s+r2\s+carol\s+not activated: web r2:.*/
        policy('show', 'web')[1].readLines()[0] == '// web r1 (active)'
    }

    def 'disable and delete; the trail stays after the policy is gone'() {
        given:
        policy('add', 'web', file('p1', 'one\n').toString())
        def s = PolicyStore.open(store)
        s.activate('web', 1, PolicyCheck.NONE, 'test')
        s.close()

        expect:
        policy('disable', 'web', '--author', 'dave') == [0, 'web disabled (r1 was active)\n', '']
        policy('disable', 'web') == [0, 'web disabled (no revision was active)\n', '']
        policy('delete', 'web', '--author', 'dave') == [0, 'web deleted (1 revision)\n', '']
        policy('list')[1].readLines()[1] == 'no policies'
        policy('audit', 'web')[1].readLines().last() ==~ /\S+\s+deleted\s+-\s+dave\s+1 revision/
        policy('show', 'web') == [1, '', 'vigil policy show: policy web: no such policy\n']
    }

    def 'errors are one line with exit 1; usage errors exit 2'() {
        given:
        Files.createDirectories(store.parent)
        Path notStore = file('keepalived.db', 'global_defs {\n}\n')

        expect:
        policy('list') == [1, '', "vigil policy list: ${store}: no policy store here (vigil policy add creates it)\n".toString()]
        policy('add', 'Web', file('p', 'x').toString()) == [1, '', 'vigil policy add: policy name "Web": expected 1 to 63 characters of a-z, 0-9, _, . and -, the first a letter or digit\n']
        policy('add', 'web', dir.resolve('missing').toString()) == [1, '', "vigil policy add: cannot read ${dir.resolve('missing')}: NoSuchFileException\n".toString()]
        run('policy', 'list', '--store', notStore.toString()) == [1, '', "vigil policy list: ${notStore}: not a Vigil policy store (not an SQLite database); left unchanged\n".toString()]
        policy('add', 'web', file('p', 'x').toString())[0] == 0
        policy('show', 'web', 'r9') == [1, '', 'vigil policy show: policy web r9: no such revision (latest r1)\n']
        policy('show', 'web', 'latest') == [1, '', 'vigil policy show: revision "latest": expected a number such as 3 or r3\n']
        policy('activate', 'web')[0] == 2
        run('policy')[0] == 2
    }

    def 'without --store the store is the configuration\'s vigil_policy_store'() {
        given:
        Path conf = file('keepalived.conf', "global_defs {\n    vigil_policy_store ${store}\n}\n")
        Path off = file('off.conf', 'global_defs {\n    vigil_policy_store off\n}\n')

        expect:
        run('policy', 'add', 'web', file('p', 'x').toString(), '-f', conf.toString())[0] == 0
        Files.exists(store)
        run('policy', 'list', '-f', conf.toString())[1].readLines()[2].startsWith('web ')
        run('policy', 'list', '-f', off.toString()) == [1, '', "vigil policy list: ${off} turns the policies off (vigil_policy_store off); name a store with --store\n".toString()]
    }
}
