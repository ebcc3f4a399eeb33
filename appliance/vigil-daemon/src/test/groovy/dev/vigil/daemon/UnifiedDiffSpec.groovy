package dev.vigil.daemon

import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The line diff of {@code vigil policy diff}: the format of diff -u, applied by patch(1). */
class UnifiedDiffSpec extends Specification {

    @TempDir
    Path dir

    static boolean hasTools() {
        try {
            ['diff', 'patch'].every { ([it, '--version'].execute().waitFor()) == 0 }
        } catch (IOException e) {
            System.err.println('*** diff(1) or patch(1) not found: UnifiedDiffSpec checks against them ***')
            false
        }
    }

    def 'equal texts have no diff'() {
        expect:
        UnifiedDiff.diff('a', "x\ny\n", 'b', "x\ny\n") == ''
    }

    def 'a small change: headers, one hunk with three lines of context'() {
        expect:
        UnifiedDiff.diff('web r1', (1..10).join('\n') + '\n', 'web r2', (1..10).collect { it == 5 ? 'five' : "$it" }.join('\n') + '\n') == '''\
            --- web r1
            +++ web r2
            @@ -2,7 +2,7 @@
             2
             3
             4
            -5
            +five
             6
             7
             8
            '''.stripIndent()
    }

    def 'changes far apart make separate hunks; an empty side is range 0,0'() {
        expect:
        UnifiedDiff.diff('a', (1..20).join('\n') + '\n', 'b', (1..20).collect { it in [2, 18] ? "x$it" : "$it" }.join('\n') + '\n')
                .readLines().findAll { it.startsWith('@@') } == ['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@']
        UnifiedDiff.diff('a', '', 'b', 'new\n') == '--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n'
    }

    @Requires({ UnifiedDiffSpec.hasTools() })
    def 'patch(1) applies the diff, which changes no more lines than diff -u'() {
        given:
        def random = new Random(seed)
        def a = (1..40).collect { "line ${random.nextInt(12)}" }
        def b = new ArrayList<String>(a)
        6.times {
            int at = random.nextInt(b.size())
            switch (random.nextInt(3)) {
                case 0: b.remove(at); break
                case 1: b.add(at, "new ${random.nextInt(100)}"); break
                default: b.set(at, "changed ${random.nextInt(100)}")
            }
        }
        Path fa = Files.writeString(dir.resolve('a'), a.join('\n') + '\n')
        Path fb = Files.writeString(dir.resolve('b'), b.join('\n') + '\n')
        def p = ['diff', '-u', fa.toString(), fb.toString()].execute()
        String gnu = p.inputStream.text
        p.waitFor()

        when:
        String mine = UnifiedDiff.diff('a', a.join('\n') + '\n', 'b', b.join('\n') + '\n')
        Path patchFile = Files.writeString(dir.resolve('mine.diff'), mine)
        def patch = ['patch', '-s', '-o', dir.resolve('patched').toString(), fa.toString(), patchFile.toString()].execute()
        String patchErr = patch.err.text + patch.inputStream.text

        then:
        patch.waitFor() == 0
        patchErr == ''
        Files.readString(dir.resolve('patched')) == Files.readString(fb)
        // A longest common subsequence: never more lines taken and added than diff's own script.
        changed(mine) <= changed(gnu)

        where:
        seed << (1..12)
    }

    static int changed(String diff) {
        diff.readLines().drop(2).count { it.startsWith('-') || it.startsWith('+') }
    }
}
