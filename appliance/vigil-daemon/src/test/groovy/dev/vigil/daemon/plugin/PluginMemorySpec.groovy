package dev.vigil.daemon.plugin

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Plugins that abuse memory, zipped and loaded like any other and run by the real engine next to
 * a healthy plugin, each in a JVM of its own with a 192 MiB heap ({@link MemoryScenario}): one
 * whose run() allocates and keeps memory without end and ignores interrupts, one that leaks 8 MiB
 * per call into a static list (each call within budget: the heap guard must find it), one whose
 * run() throws OutOfMemoryError. Each fails its target with a PLUGINERR reason, is disabled at
 * once and unloaded; the healthy plugin goes on passing, and the engine thread survives.
 */
class PluginMemorySpec extends Specification {

    @TempDir
    Path dir

    static final String HOG = '''
        List<byte[]> keep = new ArrayList<>();
        while (true) {
            keep.add(new byte[1 << 20]);
            try { Thread.sleep(5); } catch (InterruptedException ignored) { }
        }'''
    static final String LEAK = '''
        t.bad.Bad.LEAK.add(new byte[8 << 20]);
        return CompletableFuture.completedFuture(CheckResult.of(CheckResult.Status.L4OK, "kept 8 MiB"));'''
    static final String OOME = 'throw new OutOfMemoryError("simulated");'

    Map<String, Object> scenario(String run, boolean leakField = false) {
        Path plugins = dir.resolve('plugins')
        String source = TestPlugins.checker('t.bad', 'Bad', ['BAD_CHECK'], run)
        if (leakField) {
            source = source.replace('public class Bad implements HealthChecker {',
                    'public class Bad implements HealthChecker {\n    public static final List<byte[]> LEAK = new ArrayList<>();')
        }
        TestPlugins.zip(plugins, 'bad', ['t.bad.Bad': source])
        TestPlugins.zip(plugins, 'good', ['t.good.Good': TestPlugins.passing('t.good', 'Good', 'GOOD_CHECK')])
        String java = Path.of(System.getProperty('java.home'), 'bin', 'java').toString()
        Process p = new ProcessBuilder(java, '-Xmx192m', '-XX:+UseG1GC', '--enable-native-access=ALL-UNNAMED',
                '-cp', System.getProperty('java.class.path'), MemoryScenario.name, plugins.toString(), 'BAD_CHECK')
                .redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor(90, TimeUnit.SECONDS)
        println "---- child JVM (${run.readLines()*.trim().join(' ')})\n${out.readLines().findAll { !it.startsWith('LOG DEBUG') }.join('\n')}"
        assert p.exitValue() == 0: out
        Map<String, Object> facts = [:]
        out.readLines().each { line ->
            int eq = line.indexOf('=')
            if (!line.startsWith('LOG') && eq > 0) {
                facts[line.substring(0, eq)] = line.substring(eq + 1)
            }
        }
        facts.log = out.readLines().findAll { it.startsWith('LOG ') }
        facts
    }

    def 'a run() that allocates without end is failed by the sentry at its budget, interrupted, and its plugin disabled and unloaded'() {
        when:
        def f = scenario(HOG)

        then: 'the target failed with the budget reason; the plugin is disabled until restart and unloaded'
        f.badLastResult ==~ /PLUGINERR plugin bad: run\(\) allocated \d+ MiB in one call \(limit 64 MiB\)/
        f.disabled ==~ /run\(\) allocated \d+ MiB in one call \(limit 64 MiB\)/
        f.badFrozen == 'true'
        f.badPermanent == 'true'
        f.retired == f.disabled
        (f.badViolations as long) == 1
        (f.badAllocatedMiB as long) >= 64
        f.log.any { it.startsWith('LOG ERROR plugin bad DISABLED: run() allocated') && it.contains('it stays disabled until the daemon restarts') }

        and: 'the good plugin passed all along, and after'
        f.goodState == 'UP'
        f.goodPluginErrors == '0'
        (f.goodPassesAfterDisable as long) >= 10
    }

    def 'a plugin that keeps 8 MiB per call in a static list is found by the heap guard, disabled, unloaded, and its memory freed'() {
        when:
        def f = scenario(LEAK, true)

        then: 'no call broke the budget: the heap guard named the plugin that allocated the most'
        (f.badViolations as long) == 0
        (f.heapGuardTrips as long) >= 1
        f.disabled ==~ /the heap was \d+% full after a garbage collection \(\d+ MiB of \d+ MiB; threshold 80%\) and its calls allocated the most in the last 10 s: \d+ MiB/
        f.badFrozen == 'true'
        f.retired == f.disabled

        and: 'unloaded, the plugin no longer holds its list: the heap is mostly free again'
        (f.heapUsedAfterMiB as long) < (f.heapMaxMiB as long) / 2

        and: 'the good plugin passed all along'
        f.goodState == 'UP'
        f.goodPluginErrors == '0'
        (f.goodPassesAfterDisable as long) >= 10
    }

    def 'a run() that throws OutOfMemoryError fails its target with that reason and disables its plugin at once'() {
        when:
        def f = scenario(OOME)

        then:
        f.badLastResult == 'PLUGINERR plugin bad: run() threw OutOfMemoryError: simulated'
        f.disabled == 'run() threw OutOfMemoryError: simulated'
        f.badPermanent == 'true'
        (f.badViolations as long) == 1
        f.goodState == 'UP'
        f.goodPluginErrors == '0'
        (f.goodPassesAfterDisable as long) >= 10
    }
}
