package dev.vigil.daemon.plugin

import dev.vigil.api.CheckTarget
import dev.vigil.api.ConfigBlock
import dev.vigil.api.Location
import dev.vigil.daemon.Log
import dev.vigil.daemon.check.CheckEngine
import dev.vigil.daemon.check.CheckIo
import dev.vigil.daemon.check.CheckSpec
import dev.vigil.daemon.check.CheckTiming
import dev.vigil.daemon.track.EventLog
import dev.vigil.vrrp.runtime.ExecutorScheduler
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * A deliberately broken plugin, zipped and loaded like any other, run by the real engine on real
 * threads next to a healthy plugin: the probe that throws, the one that blocks its thread forever,
 * the one that never completes and the one whose create() throws each fail their target with a
 * PLUGINERR reason; the healthy plugin's target goes on passing and the engine keeps answering;
 * past the error limit the broken plugin is disabled.
 */
class BrokenPluginSpec extends Specification {

    @TempDir
    Path dir

    final List<List<Object>> changes = new CopyOnWriteArrayList<>()
    final List<String> logged = new CopyOnWriteArrayList<>()
    PluginHost host
    CheckIo io
    ExecutorScheduler scheduler
    CheckEngine engine

    static final String PKG = 't.broken'

    def setup() {
        Path plugins = dir.resolve('plugins')
        TestPlugins.zip(plugins, 'broken', [
                't.broken.Throws': TestPlugins.checker(PKG, 'Throws', ['THROW_CHECK'], 'throw new RuntimeException("broken on purpose");'),
                't.broken.Hangs': TestPlugins.checker(PKG, 'Hangs', ['HANG_CHECK'],
                        'try { Thread.sleep(Long.MAX_VALUE); } catch (InterruptedException e) { } return null;'),
                't.broken.Silent': TestPlugins.checker(PKG, 'Silent', ['SILENT_CHECK'], 'return new CompletableFuture<CheckResult>();'),
                't.broken.NoCreate': TestPlugins.checker(PKG, 'NoCreate', ['CREATE_CHECK'], 'return null;',
                        'if (true) throw new IllegalStateException("no probe for " + ctx.target().name());')])
        TestPlugins.zip(plugins, 'good', ['t.good.Good': TestPlugins.passing('t.good', 'Good', 'GOOD_CHECK')])
        host = PluginHost.open(plugins)
        assert host.problems().isEmpty()
        io = CheckIo.open(1)
        scheduler = new ExecutorScheduler('test-checks')
    }

    def cleanup() {
        engine?.close()?.get(5, TimeUnit.SECONDS)
        scheduler?.close()
        io?.close()
        host?.close()
    }

    void start(int errorLimit) {
        engine = new CheckEngine(scheduler, new PluginProbes(host, io),
                { String name, boolean up, String reason -> changes << [name, up, reason] } as CheckEngine.StateSink,
                { Log.Level level, String subject, String message -> logged << "${level} ${message}".toString() } as EventLog,
                new SplittableRandom(7), new CheckEngine.Limits(Duration.ofMillis(200), errorLimit, Duration.ofMinutes(1)))
        engine.configure(['THROW_CHECK', 'HANG_CHECK', 'SILENT_CHECK', 'CREATE_CHECK', 'GOOD_CHECK'].collect { spec(it) },
                ['THROW_CHECK', 'HANG_CHECK', 'SILENT_CHECK', 'CREATE_CHECK', 'GOOD_CHECK'].collect { "rs-${it}".toString() } as Set)
    }

    static CheckSpec spec(String keyword) {
        String rs = "rs-${keyword}"
        new CheckSpec("${rs} ${keyword}#1", rs, keyword, keyword == 'GOOD_CHECK' ? 'good' : 'broken', 'k.conf:1:1',
                CheckTarget.of(rs, new InetSocketAddress('127.0.0.1', 9)), new ConfigBlock(keyword, new Location('k.conf', 1, 1), []),
                new CheckTiming(Duration.ofMillis(300), Duration.ZERO, 0, Duration.ofMillis(100), Duration.ofMillis(200), 1, 1, false),
                'v1')
    }

    Map status() {
        engine.status().get(2, TimeUnit.SECONDS)
    }

    void awaitFor(Closure<Boolean> condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}; changes ${changes}; log ${logged}"
            Thread.sleep(20)
        }
    }

    def 'each broken probe fails its target with the reason; the healthy plugin and the engine go on'() {
        when:
        start(1000)
        awaitFor({ changes*.getAt(0).toSet().size() == 4 }, 'the four broken targets down')
        Map<String, String> reasons = changes.collectEntries { [it[0], it[2]] }

        then: 'the four broken targets are down, each with what went wrong'
        changes.every { !it[1] }
        reasons['rs-THROW_CHECK'] == 'THROW_CHECK: PLUGINERR plugin broken: run() threw RuntimeException: broken on purpose'
        reasons['rs-HANG_CHECK'] == 'HANG_CHECK: PLUGINERR plugin broken: no result within 400 ms (connect_timeout 200 ms + 200 ms grace)'
        reasons['rs-SILENT_CHECK'] == 'SILENT_CHECK: PLUGINERR plugin broken: no result within 400 ms (connect_timeout 200 ms + 200 ms grace)'
        reasons['rs-CREATE_CHECK'] == 'CREATE_CHECK: PLUGINERR plugin broken: create() threw IllegalStateException: no probe for rs-CREATE_CHECK'

        when: 'two more seconds'
        long passesBefore = status().realServers['rs-GOOD_CHECK'].checkers[0].passes as long
        Thread.sleep(2000)
        long t0 = System.nanoTime()
        Map s = status()
        long answeredIn = System.nanoTime() - t0

        then: 'the good target passed all along, the engine answers at once, and the errors are counted against the broken plugin only'
        s.realServers['rs-GOOD_CHECK'].state == 'UP'
        (s.realServers['rs-GOOD_CHECK'].checkers[0].passes as long) - passesBefore >= 4
        s.realServers['rs-GOOD_CHECK'].checkers[0].pluginErrors == 0
        answeredIn < TimeUnit.SECONDS.toNanos(1)
        (s.plugins['broken'].pluginErrors as long) >= 8
        !s.plugins.containsKey('good')
        !changes.any { it[0] == 'rs-GOOD_CHECK' }
    }

    def 'past the error limit the broken plugin is disabled, loudly, and its targets keep their last known state'() {
        when:
        start(5)
        awaitFor({ engine.disabledPlugins().containsKey('broken') }, 'the broken plugin disabled')
        Map s = status()
        def lastChange = changes.collectEntries { [it[0], it[1]] }

        then: 'never checked genuinely, they are back to their starting state (up), and the forwarder was told so; the good plugin is untouched'
        lastChange.values().every { it }
        lastChange.size() >= 2
        logged.any { it.startsWith('ERROR plugin broken DISABLED: 6 plugin errors within 60 s (limit 5). Its 4 checkers stop probing') }
        s.realServers.findAll { k, v -> k != 'rs-GOOD_CHECK' }.every { k, v -> v.state == 'UP' && v.checkers[0].disabled }
        s.realServers['rs-GOOD_CHECK'].state == 'UP'
        !s.realServers['rs-GOOD_CHECK'].checkers[0].disabled

        when: 'a second later the broken plugin is not probed any more, the good one is'
        long brokenProbes = s.realServers.findAll { k, v -> k != 'rs-GOOD_CHECK' }.collect { k, v -> v.checkers[0].probes as long }.sum()
        long goodProbes = s.realServers['rs-GOOD_CHECK'].checkers[0].probes as long
        Thread.sleep(1000)
        Map later = status()

        then:
        later.realServers.findAll { k, v -> k != 'rs-GOOD_CHECK' }.collect { k, v -> v.checkers[0].probes as long }.sum() == brokenProbes
        (later.realServers['rs-GOOD_CHECK'].checkers[0].probes as long) > goodProbes
    }
}
