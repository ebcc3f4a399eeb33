package dev.vigil.daemon.check

import dev.vigil.api.CheckResult
import dev.vigil.api.CheckTarget
import dev.vigil.api.ConfigBlock
import dev.vigil.api.Location
import dev.vigil.daemon.Log
import dev.vigil.daemon.track.EventLog
import dev.vigil.vrrp.runtime.ManualScheduler
import dev.vigil.vrrp.runtime.Scheduler
import spock.lang.Specification

import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * The check engine in virtual time ({@link ManualScheduler}) with scripted probes: keepalived's
 * retry, delay_before_retry, delay_loop, warmup and alpha, Vigil's rise/fall, several checkers on
 * one real server, the weights a passing result sets ({@code misc_dynamic}), and the isolation of
 * plugins that throw, hang or fail too often.
 */
class CheckEngineSpec extends Specification {

    final ManualScheduler clock = new ManualScheduler()
    final List<List<Object>> changes = []          // [seconds, real server, up, reason]
    final List<List<Object>> weights = []          // [seconds, real server, weight, reason]
    final List<String> logged = []
    final Map<String, Probes> probes = [:]          // by spec key
    final EventLog log = { Log.Level level, String subject, String message -> logged << "${level} ${message}".toString() }
    CheckEngine engine

    /** What one checker's probes do, in order; the last behaviour repeats. */
    class Probes implements ProbeLauncher {
        final String key
        final List<Object> script = []
        final List<Double> launchedAt = []
        final List<CompletableFuture<CheckResult>> pending = []
        boolean closed
        /** What {@link #hostLate} answers: why the host was behind, or null. */
        String hostLag
        final List<Double> hostLateAsked = []

        Probes(String key) { this.key = key }

        @Override
        String hostLate(long launchedAt, long toleranceNanos) {
            hostLateAsked << launchedAt / 1e9
            hostLag
        }

        @Override
        void launch(CompletableFuture<CheckResult> result) {
            assert !closed: "${key}: launched after close"
            launchedAt << seconds()
            Object next = script.size() > 1 ? script.remove(0) : script[0]
            switch (next) {
                case 'pass' -> result.complete(CheckResult.of(CheckResult.Status.L4OK, 'connected'))
                case 'fail' -> result.complete(CheckResult.of(CheckResult.Status.L4CON, 'connection refused'))
                case 'busy' -> result.completeExceptionally(ProbeFailure.hostLate('all 32 call threads of plugin check-tcp are busy' +
                        ' with calls that have run less than 1 s: the host is behind'))
                case 'timeout' -> result.complete(CheckResult.of(CheckResult.Status.L4TOUT, 'no connection within 3000 ms'))
                case 'throw' -> throw new IllegalStateException('boom')
                case 'hang' -> pending << result
                case 'null' -> result.complete(null)
                case ~/w\d+/ -> result.complete(CheckResult.of(CheckResult.Status.L7OK, 'exit status')
                        .withWeight((next as String).substring(1) as int))
                case ~/failw\d+/ -> result.complete(CheckResult.of(CheckResult.Status.PROCERR, 'exit status 1')
                        .withWeight((next as String).substring(5) as int))
                default -> throw new AssertionError("unknown behaviour ${next}")
            }
        }

        @Override
        void close() { closed = true }

        void then(List<String> behaviours) {
            script.clear()
            script.addAll(behaviours)
        }
    }

    double seconds() {
        clock.nanoTime() / 1e9
    }

    CheckEngine engine(CheckEngine.Limits limits = CheckEngine.Limits.DEFAULT, long seed = 1, Scheduler scheduler = clock) {
        engine = new CheckEngine(scheduler, { CheckSpec s ->
            Probes p = probes[s.key()]
            if (p == null || p.closed) {
                p = new Probes(s.key())
                p.then(probes[s.key()]?.script ?: ['pass'])
                probes[s.key()] = p
            }
            p
        } as ProbeFactory, new CheckEngine.StateSink() {
            @Override
            void changed(String name, boolean up, String reason) { changes << [seconds(), name, up, reason] }

            @Override
            void weight(String name, int weight, String reason) { weights << [seconds(), name, weight, reason] }
        }, log, new SplittableRandom(seed), limits)
        engine
    }

    static CheckTiming timing(Map m = [:]) {
        new CheckTiming(Duration.ofMillis(((m.delayLoop ?: 10) * 1000) as long), Duration.ofMillis(((m.warmup ?: 0) * 1000) as long),
                (m.retry ?: 0) as int, Duration.ofMillis(((m.delayBeforeRetry ?: 1) * 1000) as long),
                Duration.ofMillis(((m.connectTimeout ?: 3) * 1000) as long), (m.rise ?: 1) as int, (m.fall ?: 1) as int,
                (m.alpha ?: false) as boolean)
    }

    static CheckSpec spec(String rs, Map m = [:]) {
        String keyword = m.keyword ?: 'TCP_CHECK'
        String key = "${rs} ${keyword}#${m.n ?: 1}"
        new CheckSpec(key, rs, keyword, (m.plugin ?: 'check-tcp') as String, 'k.conf:3:5',
                CheckTarget.of(rs, new InetSocketAddress('127.0.0.1', 80)),
                new ConfigBlock(keyword, new Location('k.conf', 3, 5), []), timing(m), (m.fingerprint ?: 'v1') as String)
    }

    Probes script(String key, String... behaviours) {
        Probes p = new Probes(key)
        p.then(behaviours as List)
        probes[key] = p
        p
    }

    void configure(List<CheckSpec> specs, Set<String> realServers = specs*.realServer() as Set) {
        engine.configure(specs, realServers)
        clock.runPending()
    }

    void advance(double s) {
        clock.advance(Duration.ofMillis((s * 1000) as long))
    }

    Map status() {
        def f = engine.status()
        clock.runPending()
        f.getNow(null)
    }

    def 'a failing real server is declared down only after retry failed attempts, delay_before_retry apart; one pass brings it back'() {
        given: 'keepalived defaults otherwise: rise = fall = 1'
        engine()
        def p = script('rs1 TCP_CHECK#1', 'pass', 'fail', 'fail', 'fail', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 10, retry: 2, delayBeforeRetry: 1])])
        advance(30)

        then: 'probe at 0 passes; 10 fails; retries at 11 and 12 fail: down at 12; next at 22 passes: up'
        p.launchedAt == [0d, 10d, 11d, 12d, 22d]
        changes.collect { it[0..2] } == [[12d, 'rs1', false], [22d, 'rs1', true]]
        changes[0][3] == 'TCP_CHECK: L4CON connection refused'
        logged.any { it == 'INFO rs1: TCP_CHECK down after 3 attempts: L4CON connection refused' }
    }

    def 'results that arrive from other threads are taken together at the next step of the probe grid'() {
        given: 'the virtual clock, with results completed as if on an event loop'
        boolean elsewhere = false
        Scheduler scheduler = new Scheduler() {
            void execute(Runnable task) { clock.execute(task) }
            Scheduler.Cancellable schedule(Runnable task, long delayNanos) { clock.schedule(task, delayNanos) }
            Scheduler.Alarm alarm(Runnable task) { clock.alarm(task) }
            long nanoTime() { clock.nanoTime() }
            boolean inEngineThread() { !elsewhere }
        }
        engine(CheckEngine.Limits.DEFAULT, 1, scheduler)
        def a = script('rs1 TCP_CHECK#1', 'hang')
        def b = script('rs2 TCP_CHECK#1', 'hang')
        configure([spec('rs1'), spec('rs2')])

        when: 'both fail 3 ms into the first step of the grid'
        advance(0.003)
        elsewhere = true
        a.pending[0].complete(CheckResult.of(CheckResult.Status.L4CON, 'connection refused'))
        b.pending[0].complete(CheckResult.of(CheckResult.Status.L4CON, 'connection refused'))
        elsewhere = false
        clock.runPending()
        advance(0.006)

        then: 'nothing yet, 9 ms in'
        changes.isEmpty()

        when:
        advance(0.001)

        then: 'both at 10 ms, in one go'
        changes.collect { it[0..2] } == [[0.01d, 'rs1', false], [0.01d, 'rs2', false]]
    }

    def 'a failure that passes on retry never takes the server down'() {
        given:
        engine()
        def p = script('rs1 TCP_CHECK#1', 'fail', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 5, retry: 1, delayBeforeRetry: 2])])
        advance(12)

        then:
        p.launchedAt == [0d, 2d, 7d, 12d]
        changes.isEmpty()
        status().realServers.rs1.state == 'UP'
    }

    def 'fall counts failed checks (each after its retries) before going down, and rise counts passes before coming up'() {
        given:
        engine()
        def p = script('rs1 TCP_CHECK#1', 'fail', 'fail', 'pass', 'fail', 'fail', 'fail', 'pass', 'fail', 'pass', 'pass', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 5, retry: 0, fall: 3, rise: 2])])
        advance(55)

        then: 'a pass at 10 resets the fall count; down at 25 on the third failure in a row'
        p.launchedAt == (0..11).collect { it * 5d }
        changes.collect { it[0..2] } == [[25d, 'rs1', false], [45d, 'rs1', true]]

        and: 'a failure at 35 reset the rise count: passes at 40 and 45 bring it up'
        logged.any { it.startsWith('INFO rs1: TCP_CHECK up after 2 passed checks') }
    }

    def 'warmup spreads the first probes randomly up to its value; zero starts at once'() {
        given:
        engine()
        def specs = (1..20).collect { spec("rs${it}", [delayLoop: 60, warmup: 10]) } + [spec('now', [delayLoop: 60, warmup: 0])]

        when:
        configure(specs)
        advance(10)
        def firsts = (1..20).collect { probes["rs${it} TCP_CHECK#1"].launchedAt[0] }

        then:
        firsts.every { it >= 0 && it <= 10 }
        firsts.toSet().size() > 10
        probes['now TCP_CHECK#1'].launchedAt == [0d]
    }

    def 'alpha starts the checker down: the first pass brings the real server up'() {
        given:
        engine()
        script('rs1 TCP_CHECK#1', 'fail', 'pass')

        when:
        configure([spec('rs1', [alpha: true, delayLoop: 5])])

        then: 'the forwarder started it down too (ServiceMapper.startsDown): nothing to push'
        changes.isEmpty()
        status().realServers.rs1.state == 'DOWN'

        when:
        advance(5)

        then:
        changes.collect { it[0..2] } == [[5d, 'rs1', true]]
    }

    def 'with several checkers the real server is up only while all of them are up'() {
        given:
        engine()
        script('rs1 TCP_CHECK#1', 'pass', 'fail', 'fail', 'fail', 'pass')
        script('rs1 HTTP_GET#1', 'pass', 'pass', 'fail', 'fail', 'fail', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 10]), spec('rs1', [keyword: 'HTTP_GET', plugin: 'check-http', delayLoop: 10])])
        advance(60)

        then: 'TCP down at 10 takes it down; HTTP down at 20 changes nothing; TCP up at 40 leaves it down; HTTP up at 50 brings it up'
        changes.collect { it[0..2] } == [[10d, 'rs1', false], [50d, 'rs1', true]]
        changes[1][3].startsWith('all 2 checkers up')
    }

    def 'a plugin that throws fails the target with PLUGINERR and the reason, and is counted'() {
        given:
        engine()
        script('rs1 TCP_CHECK#1', 'throw')

        when:
        configure([spec('rs1', [delayLoop: 5, retry: 1, delayBeforeRetry: 1])])
        advance(1)
        def s = status()

        then:
        changes.collect { it[0..2] } == [[1d, 'rs1', false]]
        changes[0][3] == 'TCP_CHECK: PLUGINERR plugin check-tcp: the launch threw IllegalStateException: boom'
        s.pluginErrors == 2
        s.plugins['check-tcp'].pluginErrors == 2
        s.realServers.rs1.checkers[0].lastStatus == 'PLUGINERR'
        s.realServers.rs1.checkers[0].pluginErrors == 2
        logged.count { it.startsWith('WARN rs1: TCP_CHECK (k.conf:3:5): plugin check-tcp: the launch threw') } == 2
    }

    def 'a result completed with nothing is a plugin error too'() {
        given:
        engine()
        script('rs1 TCP_CHECK#1', 'null')

        when:
        configure([spec('rs1', [delayLoop: 5])])
        advance(0)

        then:
        changes[0][3] == 'TCP_CHECK: PLUGINERR plugin check-tcp: the probe completed without a result'
    }

    def 'a plugin that never reports is failed after connect_timeout plus the grace period; its late result is ignored'() {
        given:
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 30, Duration.ofMinutes(1)))
        def p = script('rs1 TCP_CHECK#1', 'hang', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(3.9)

        then:
        changes.isEmpty()

        when:
        advance(0.1)

        then: 'failed at 4 s = 3 s timeout + 1 s grace'
        changes.collect { it[0..2] } == [[4d, 'rs1', false]]
        changes[0][3] == 'TCP_CHECK: PLUGINERR plugin check-tcp: no result within 4000 ms (connect_timeout 3000 ms + 1000 ms grace)'

        when: 'the hung probe answers after all, before the next one (at 14 s) passes'
        p.pending[0].complete(CheckResult.of(CheckResult.Status.L4OK, 'late'))
        clock.runPending()
        def lateStatus = status()
        advance(10)

        then:
        lateStatus.lateResults == 1
        lateStatus.realServers.rs1.state == 'DOWN'
        changes.collect { it[0..2] } == [[4d, 'rs1', false], [14d, 'rs1', true]]
    }

    def 'past the error limit the plugin is disabled: its checkers stop and keep the state of their last genuine result'() {
        given: 'at most 3 plugin errors a minute'
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 3, Duration.ofMinutes(1)))
        def good = script('rs1 BAD_CHECK#1', 'pass', 'throw')
        def bad = script('rs2 BAD_CHECK#1', 'fail', 'throw')
        def fresh = script('rs3 BAD_CHECK#1', 'throw')
        def other = script('rs4 TCP_CHECK#1', 'pass')

        when:
        configure([spec('rs1', [keyword: 'BAD_CHECK', plugin: 'bad', delayLoop: 5]),
                   spec('rs2', [keyword: 'BAD_CHECK', plugin: 'bad', delayLoop: 5]),
                   spec('rs3', [keyword: 'BAD_CHECK', plugin: 'bad', delayLoop: 5]),
                   spec('rs4', [delayLoop: 5])])
        advance(5)

        then: 'errors at 0 (rs3), then at 5 (rs1, rs2, rs3): the fourth disables the plugin'
        logged.count { it.startsWith('ERROR plugin bad DISABLED: 4 plugin errors within 60 s (limit 3)') } == 1
        engine.disabledPlugins() == [bad: '4 plugin errors within 60 s (limit 3)']

        and: 'rs2 found down by a genuine failure stays down; rs1 passed before, so it is up again; rs3 never had a genuine result: up as it started'
        status().realServers.collectEntries { k, v -> [k, v.state] } == [rs1: 'UP', rs2: 'DOWN', rs3: 'UP', rs4: 'UP']
        status().realServers.rs1.checkers[0].disabled

        and: 'the forwarder heard the genuine failure (rs2) and those the errors caused (rs3, rs1), then the restored states'
        changes.collect { it[0..2] } == [[0d, 'rs2', false], [0d, 'rs3', false], [5d, 'rs1', false], [5d, 'rs1', true], [5d, 'rs3', true]]

        when: 'a minute later: no more probes of the disabled plugin, the other plugin goes on'
        int before = good.launchedAt.size() + bad.launchedAt.size() + fresh.launchedAt.size()
        advance(60)

        then:
        good.launchedAt.size() + bad.launchedAt.size() + fresh.launchedAt.size() == before
        good.closed && bad.closed && fresh.closed
        other.launchedAt.size() == 14

        when: 'a reload enables it again'
        script('rs1 BAD_CHECK#1', 'pass')
        configure([spec('rs1', [keyword: 'BAD_CHECK', plugin: 'bad', delayLoop: 5]), spec('rs4', [delayLoop: 5])])
        advance(5)

        then:
        engine.disabledPlugins() == [:]
        logged.any { it == 'INFO plugin bad enabled again by the reload' }
        probes['rs1 BAD_CHECK#1'].launchedAt.size() >= 1
        status().realServers.keySet() == ['rs1', 'rs4'] as Set
    }

    def 'a reload keeps unchanged checkers with their state, restarts changed ones, stops removed ones and starts new ones'() {
        given:
        engine()
        def kept = script('rs1 TCP_CHECK#1', 'fail')
        def changed = script('rs2 TCP_CHECK#1', 'fail')
        def removed = script('rs3 TCP_CHECK#1', 'fail')
        def lastChecker = script('rs4 TCP_CHECK#1', 'fail')
        configure([spec('rs1', [delayLoop: 10]), spec('rs2', [delayLoop: 10]), spec('rs3', [delayLoop: 10]), spec('rs4', [delayLoop: 10])])
        advance(5)
        assert changes.collect { it[1..2] } == [['rs1', false], ['rs2', false], ['rs3', false], ['rs4', false]]
        changes.clear()

        when: 'rs2 changes its block, rs3 goes away, rs4 stays but loses its checker, rs5 is new'
        script('rs2 TCP_CHECK#1', 'pass')
        script('rs5 TCP_CHECK#1', 'pass')
        configure([spec('rs1', [delayLoop: 10]), spec('rs2', [delayLoop: 10, fingerprint: 'v2']), spec('rs5', [delayLoop: 10])],
                ['rs1', 'rs2', 'rs4', 'rs5'] as Set)
        advance(0)

        then: 'rs1 keeps its probe and its down state, probed again on its own schedule (at 10)'
        !kept.closed
        kept.launchedAt == [0d]
        status().realServers.rs1.state == 'DOWN'

        and: 'rs2 restarts: a new probe, starting up as configured: the forwarder is told'
        changed.closed
        probes['rs2 TCP_CHECK#1'].launchedAt == [5d]
        changes.collect { it[1..2] } == [['rs2', true], ['rs4', true]]
        changes.find { it[1] == 'rs4' }[3] == 'it has no checker any more'

        and: 'rs3 stops'
        removed.closed
        lastChecker.closed

        and: 'rs5 starts'
        probes['rs5 TCP_CHECK#1'].launchedAt == [5d]
        status().realServers.keySet() == ['rs1', 'rs2', 'rs5'] as Set

        when:
        advance(5)

        then:
        kept.launchedAt == [0d, 10d]
        removed.launchedAt == [0d]
    }

    def 'closing stops every probe and ignores results still on their way'() {
        given:
        engine()
        def p = script('rs1 TCP_CHECK#1', 'hang')
        configure([spec('rs1', [delayLoop: 5])])
        advance(0)

        when:
        engine.close()
        clock.runPending()
        p.pending[0].complete(CheckResult.of(CheckResult.Status.L4CON, 'refused'))
        clock.runPending()
        advance(60)

        then:
        p.closed
        p.launchedAt == [0d]
        changes.isEmpty()
    }

    def 'a passing result with a weight sets the real server weight, changes only, before the state change it causes'() {
        given: 'a MISC_CHECK whose script exits 7, 7, 0, 12, 1, 5 (weights 5, 5, none, 10, down, 3)'
        engine()
        def p = script('rs1 MISC_CHECK#1', 'w5', 'w5', 'pass', 'w10', 'fail', 'w3')

        when:
        configure([spec('rs1', [keyword: 'MISC_CHECK', plugin: 'check-misc', delayLoop: 1])])
        advance(5.5)

        then: 'a result without a weight keeps the last one (keepalived: exit 0 changes nothing)'
        p.launchedAt == [0d, 1d, 2d, 3d, 4d, 5d]
        weights.collect { it[0..2] } == [[0d, 'rs1', 5], [3d, 'rs1', 10], [5d, 'rs1', 3]]
        weights[0][3] == 'MISC_CHECK: L7OK exit status'

        and: 'the failure takes it down; the next weighted pass sets the weight, then brings it up'
        changes.collect { it[0..2] } == [[4d, 'rs1', false], [5d, 'rs1', true]]
        logged.any { it == 'INFO rs1: MISC_CHECK sets weight 10: L7OK exit status' }
    }

    def 'a failing result never sets a weight, and a reload hands the next weight on again'() {
        given:
        engine()
        def p = script('rs1 MISC_CHECK#1', 'failw9', 'w4', 'w4', 'w4')
        def misc = spec('rs1', [keyword: 'MISC_CHECK', plugin: 'check-misc', delayLoop: 1])

        when:
        configure([misc])
        advance(2.5)

        then:
        weights.collect { it[0..2] } == [[1d, 'rs1', 4]]

        when: 'the same configuration again: the checker is kept, and its next result is handed on once more'
        configure([misc])
        advance(2)

        then:
        weights.collect { it[0..2] } == [[1d, 'rs1', 4], [3d, 'rs1', 4]]
        p.launchedAt == [0d, 1d, 2d, 3d, 4d]
    }

    def 'a probe that timed out while the host was behind has no verdict: not a plugin error, not a failure; told once a minute'() {
        given:
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 1, Duration.ofMinutes(1)))
        def p = script('rs1 TCP_CHECK#1', 'hang')
        p.hostLag = 'its event loop ran 1500 ms behind'

        when: 'six probes hang while the host lags; the error limit (1) would have disabled the plugin at the second'
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(4)
        advance(14 * 5)
        def s = status()

        then: 'each attempt waited its 4 s, then the next came after delay_loop (10 s)'
        p.launchedAt == [0d, 14d, 28d, 42d, 56d, 70d]
        p.hostLateAsked == [0d, 14d, 28d, 42d, 56d, 70d]
        changes.isEmpty()
        engine.disabledPlugins().isEmpty()
        s.hostLateNoVerdicts == 6
        s.noVerdicts == 6
        s.pluginErrors == 0
        s.failures == 0
        s.realServers.rs1.checkers[0].hostLateNoVerdicts == 6
        s.realServers.rs1.checkers[0].state == 'UP'

        and: 'told once, then again a minute later with the count'
        def told = logged.findAll { it.contains('the host is behind') }
        told.size() == 2
        told[0] == 'WARN the host is behind: 1 probe without a verdict, counted neither against their plugin nor their server and' +
                ' probed again after delay_loop (latest: rs1: TCP_CHECK: no result within the time limit: its event loop ran 1500 ms' +
                ' behind); this is told at most once a minute'
        told[1].startsWith('WARN the host is behind: 5 probes without a verdict in the last 70 s,')
    }

    def 'a hung probe on a host that keeps up is still a plugin error'() {
        given:
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 30, Duration.ofMinutes(1)))
        def p = script('rs1 TCP_CHECK#1', 'hang')

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(4)
        def s = status()

        then: 'the launcher was asked, found the host on time, and the probe is the plugin\'s fault'
        p.hostLateAsked == [0d]
        s.hostLateNoVerdicts == 0
        s.pluginErrors == 1
        changes.collect { it[0..2] } == [[4d, 'rs1', false]]
    }

    def 'a timeout the plugin reports while its event loop lagged has no verdict; without the lag it fails the server'() {
        given:
        engine()
        def p = script('rs1 TCP_CHECK#1', 'timeout')
        p.hostLag = 'its event loop ran 700 ms behind'

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(10)

        then: 'probed again after delay_loop, the server still up'
        p.launchedAt == [0d, 10d]
        changes.isEmpty()
        status().hostLateNoVerdicts == 2

        when: 'the host keeps up again'
        p.hostLag = null
        advance(10)

        then:
        changes.collect { it[0..2] } == [[20d, 'rs1', false]]
        changes[0][3] == 'TCP_CHECK: L4TOUT no connection within 3000 ms'
        status().hostLateNoVerdicts == 2
    }

    def 'a refused connection is a verdict even while the host lags'() {
        given:
        engine()
        def p = script('rs1 TCP_CHECK#1', 'fail')
        p.hostLag = 'its event loop ran 700 ms behind'

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(0)

        then:
        changes.collect { it[0..2] } == [[0d, 'rs1', false]]
        p.hostLateAsked.isEmpty()
    }

    def 'a launch the plugin\'s busy threads could not take while the host is behind has no verdict'() {
        given: 'an error limit of 1, which two plugin errors would exceed'
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 1, Duration.ofMinutes(1)))
        def p = script('rs1 TCP_CHECK#1', 'busy', 'busy', 'fail')

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3])])
        advance(20)
        def s = status()

        then: 'probed again after delay_loop each time; the third attempt is a verdict'
        p.launchedAt == [0d, 10d, 20d]
        s.hostLateNoVerdicts == 2
        s.pluginErrors == 0
        engine.disabledPlugins().isEmpty()
        changes.collect { it[0..2] } == [[20d, 'rs1', false]]
    }

    def 'beyond the most probes in flight a due probe waits for a slot: behind two hung probes until their watchdog'() {
        given:
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 30, Duration.ofMinutes(1), Duration.ofMillis(200), 2))
        def a = script('rs1 TCP_CHECK#1', 'hang', 'pass')
        def b = script('rs2 TCP_CHECK#1', 'hang', 'pass')
        def c = script('rs3 TCP_CHECK#1', 'pass')

        when:
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 3]), spec('rs2', [delayLoop: 10, connectTimeout: 3]),
                   spec('rs3', [delayLoop: 10, connectTimeout: 3])])
        advance(3.9)
        def s = status()

        then: 'rs3 waits behind the two hung probes'
        c.launchedAt.isEmpty()
        s.probesInFlight == 2
        s.probesWaiting == 1
        s.probesWaited == 1

        when: 'their watchdogs fire at 4 s'
        advance(0.1)

        then: 'rs3 is probed at once'
        c.launchedAt == [4d]
        status().probesInFlight == 0
        changes.collect { it[0..2] } == [[4d, 'rs1', false], [4d, 'rs2', false]]
    }
    def 'each probe in flight times out at its own deadline, a later launch with a shorter limit first; a result in time takes its probe off the watch'() {
        given:
        engine(new CheckEngine.Limits(Duration.ofSeconds(1), 30, Duration.ofMinutes(1)))
        def slow = script('rs1 TCP_CHECK#1', 'hang', 'pass')
        def quick = script('rs2 TCP_CHECK#1', 'hang', 'pass')
        def answered = script('rs3 TCP_CHECK#1', 'hang', 'pass')

        when: 'rs1 (limit 5 + 1 s) and rs3 (3 + 1 s) start at 0; rs2 (1 + 1 s) half a second later'
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 5]), spec('rs3', [delayLoop: 10, connectTimeout: 3])])
        advance(0.5)
        configure([spec('rs1', [delayLoop: 10, connectTimeout: 5]), spec('rs2', [delayLoop: 10, connectTimeout: 1]),
                   spec('rs3', [delayLoop: 10, connectTimeout: 3])])
        advance(1)

        and: 'rs3 answers at 1.5 s'
        answered.pending[0].complete(CheckResult.of(CheckResult.Status.L4OK, 'connected'))
        clock.runPending()
        advance(1)

        then: 'rs2 timed out at 2.5 s'
        changes.collect { it[0..2] } == [[2.5d, 'rs2', false]]

        when:
        advance(5)

        then: 'rs1 at 6 s; rs3 never: its result came in time'
        changes.collect { it[0..2] } == [[2.5d, 'rs2', false], [6d, 'rs1', false]]
        status().probesInFlight == 0
    }
}
