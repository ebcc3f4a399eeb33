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

import java.lang.management.ManagementFactory
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The child JVM of {@link PluginMemorySpec}, run with a small heap: loads the plugins of a
 * directory, wires memory abuse as the daemon does (disable in the engine, then unload), runs a
 * bad checker next to GOOD_CHECK until the bad plugin is disabled, and prints what happened as
 * {@code key=value} lines for the spec to judge.
 */
class MemoryScenario {

    static void main(String[] args) {
        Path plugins = Path.of(args[0])
        String bad = args[1]
        List<String> logged = new CopyOnWriteArrayList<>()
        PluginHost host = PluginHost.open(plugins)
        assert host.problems().isEmpty(): host.problems()
        CheckIo io = CheckIo.open(1)
        ExecutorScheduler scheduler = new ExecutorScheduler('test-checks')
        CheckEngine engine = new CheckEngine(scheduler, new PluginProbes(host, io),
                { String name, boolean up, String reason -> logged << "CHANGE ${name} ${up} ${reason}".toString() } as CheckEngine.StateSink,
                { Log.Level level, String subject, String message -> logged << "${level} ${message}".toString() } as EventLog,
                new SplittableRandom(7), new CheckEngine.Limits(Duration.ofMillis(500), 1000, Duration.ofMinutes(1)))
        host.memory().onAbuse { String id, String reason ->
            engine.disablePlugin(id, reason).whenComplete { v, e -> Thread.ofVirtual().start { host.retire(id, reason) } }
        }
        engine.configure([spec(bad, 'bad'), spec('GOOD_CHECK', 'good')], ["rs-${bad}".toString(), 'rs-GOOD_CHECK'] as Set)

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40)
        while (!engine.disabledPlugins().containsKey('bad') && System.nanoTime() < deadline) {
            Thread.sleep(20)
        }
        long deadline2 = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (!host.retired().containsKey('bad') && System.nanoTime() < deadline2) {
            Thread.sleep(20)
        }
        // The good checker after the episode (a probe whose result the exhausted heap cost waits for
        // its watchdog, 2.5 s): two seconds of its probes, 100 ms apart.
        Thread.sleep(3000)
        long goodBefore = passes(engine)
        Thread.sleep(2000)
        Map status = engine.status().get(5, TimeUnit.SECONDS)
        System.gc()
        Thread.sleep(200)
        System.gc()
        def heap = ManagementFactory.memoryMXBean.heapMemoryUsage
        def target = status.realServers["rs-${bad}".toString()].checkers[0]
        def good = status.realServers['rs-GOOD_CHECK'].checkers[0]
        println "disabled=${engine.disabledPlugins()['bad']}"
        println "retired=${host.retired()['bad']}"
        println "badLastResult=${target.lastResult}"
        println "badFrozen=${target.disabled}"
        println "badPermanent=${status.plugins['bad']?.disabledUntilRestart}"
        println "goodState=${good.state}"
        println "goodPluginErrors=${good.pluginErrors}"
        println "goodPassesAfterDisable=${(good.passes as long) - goodBefore}"
        println "goodNoVerdicts=${good.noVerdicts}"
        println "badViolations=${host.callStats()['bad'].memoryViolations}"
        println "badAllocatedMiB=${(host.callStats()['bad'].allocatedBytes as long) >> 20}"
        println "heapGuardTrips=${host.memory().heapGuardTrips()}"
        println "heapUsedAfterMiB=${heap.used >> 20}"
        println "heapMaxMiB=${Runtime.runtime.maxMemory() >> 20}"
        println "schedulerFailures=${scheduler.failures()}"
        println "rescuedProbes=${status.rescuedProbes}"
        logged.each { println "LOG ${it}" }
        engine.close().get(5, TimeUnit.SECONDS)
        scheduler.close()
        io.close()
        host.close()
        System.exit(0)
    }

    static long passes(CheckEngine engine) {
        engine.status().get(5, TimeUnit.SECONDS).realServers['rs-GOOD_CHECK'].checkers[0].passes as long
    }

    static CheckSpec spec(String keyword, String plugin) {
        String rs = "rs-${keyword}"
        new CheckSpec("${rs} ${keyword}#1", rs, keyword, plugin, 'k.conf:1:1',
                CheckTarget.of(rs, new InetSocketAddress('127.0.0.1', 9)), new ConfigBlock(keyword, new Location('k.conf', 1, 1), []),
                new CheckTiming(Duration.ofMillis(100), Duration.ZERO, 0, Duration.ofMillis(100), Duration.ofMillis(2000), 1, 1, false),
                'v1')
    }
}
