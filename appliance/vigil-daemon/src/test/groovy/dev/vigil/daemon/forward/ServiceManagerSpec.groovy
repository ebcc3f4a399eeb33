package dev.vigil.daemon.forward

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.model.KeepalivedConfig
import dev.vigil.daemon.Log
import dev.vigil.daemon.track.EventLog
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.ApplyReport
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderStats
import dev.vigil.kernel.forward.InMemoryForwarder
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The manager between configuration, real-server health and the forwarder, against the in-memory
 * forwarder (whose table stands for the kernel's): what it applies, what it adopts, the scripts it
 * runs, how it survives failures, and shutdown with and without release.
 */
class ServiceManagerSpec extends Specification {

    @TempDir
    Path dir

    final List<String> logged = new CopyOnWriteArrayList<>()
    final List<List<Object>> scripts = new CopyOnWriteArrayList<>()
    final List<String> lines = new CopyOnWriteArrayList<>()
    final EventLog log = { Log.Level level, String subject, String message -> logged << "${level} ${subject}: ${message}".toString() }
    /** Records the scripts that would run, and every FIFO line. */
    final ServiceManager.Notifier notifier = { String subject, String event, String command, String line, boolean stopping ->
        if (command != null) {
            scripts << [subject, event, command, stopping]
        }
        lines << line
    }
    final List<ServiceManager> managers = []

    static final ServiceKey WEB = ServiceKey.of(InetAddress.getByName('10.0.0.50'), 80, Protocol.TCP)
    /** A service some other tool made. */
    static final VirtualService FOREIGN = VirtualService.of(Service.of(ServiceKey.of(InetAddress.getByName('203.0.113.1'), 25, Protocol.TCP), 'rr'),
            [Destination.nat(InetAddress.getByName('203.0.113.2'), 25)])

    static final String CONF = '''
        virtual_server 10.0.0.50 80 {
            lb_algo rr
            quorum 2
            quorum_up /bin/quorum-up
            quorum_down /bin/quorum-down
            sorry_server 10.0.0.99 8080
            omega
            real_server 10.0.0.2 80 {
                notify_up "/bin/rs up"
                notify_down "/bin/rs down"
            }
            real_server 10.0.0.3 80 { weight 2 }
        }
        '''

    KeepalivedConfig config(String text) {
        Path f = dir.resolve('k.conf')
        Files.writeString(f, text)
        def r = ConfigLoader.load(f, LoadOptions.defaults())
        assert !r.hasErrors(): r.diagnostics()*.format()
        r.config()
    }

    ServiceManager manager(Forwarder forwarder, Closure<String> limits = { null }) {
        def m = new ServiceManager({ wanted -> new Backend('memory', forwarder, 'test', limits as java.util.function.Function, true) },
                log, notifier, Duration.ofMillis(500))
        managers << m
        m
    }

    def cleanup() {
        managers*.close()
    }

    static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
        f.get(10, TimeUnit.SECONDS)
    }

    static List<String> dests(Forwarder f, ServiceKey key = WEB) {
        f.current().services()[key].destinations().values().collect { "${it.address().hostAddress}:${it.port()}/${it.weight()}".toString() }
    }

    def 'the configuration becomes the forwarder\'s state; applying it again changes nothing'() {
        given:
        def table = new InMemoryForwarder.Table()
        def f = new InMemoryForwarder(table)
        def m = manager(f)

        when:
        await(m.configure(config(CONF)))

        then:
        dests(f) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        table.batches() == 1
        logged.contains('INFO forwarder: backend memory (test)')
        logged.contains('INFO forwarder: applied 1 service added, 2 real servers added (configuration)')

        when: 'the same configuration again (a reload with nothing changed)'
        await(m.configure(config(CONF)))

        then:
        table.batches() == 1
        m.status().applies == 2
        m.status().operations == 3
        m.status().applyFailures == 0
    }

    def 'a second manager over the same kernel (a restarted daemon) adopts the rules without touching them'() {
        given:
        def table = new InMemoryForwarder.Table()
        await(manager(new InMemoryForwarder(table)).configure(config(CONF)))
        int batches = table.batches()

        when:
        await(manager(new InMemoryForwarder(table)).configure(config(CONF)))

        then:
        table.batches() == batches
        logged.contains('INFO forwarder: 1 service already in place, adopted unchanged')
    }

    def 'taking a real server down removes it and runs notify_down; up puts it back with notify_up'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))
        def rs2 = RealServerSelector.parse('10.0.0.50:80', '10.0.0.2:80', null)

        when:
        def r = await(m.setState(rs2, false))

        then:
        r.applied()
        r.changes() == [new ServiceManager.Change('[10.0.0.2]:80 of [10.0.0.50]:tcp:80', true, false)]
        dests(f) == ['10.0.0.3:80/2']
        scripts == [['[10.0.0.2]:80 of [10.0.0.50]:tcp:80', 'DOWN', '/bin/rs down', false]]
        m.status().realServers == ['[10.0.0.2]:80 of [10.0.0.50]:tcp:80': 'DOWN', '[10.0.0.3]:80 of [10.0.0.50]:tcp:80': 'UP']

        when: 'down again: nothing changes, nothing runs'
        def again = await(m.setState(rs2, false))

        then:
        again.changes()*.up == [false]
        again.changes()*.wasUp == [false]
        scripts.size() == 1

        when:
        await(m.setState(rs2, true))

        then:
        dests(f) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        scripts[1] == ['[10.0.0.2]:80 of [10.0.0.50]:tcp:80', 'UP', '/bin/rs up', false]
    }

    def 'a selector that names nothing changes nothing'() {
        given:
        def m = manager(new InMemoryForwarder())
        await(m.configure(config(CONF)))

        expect:
        await(m.setState(RealServerSelector.parse('10.0.0.50:81', '10.0.0.2', null), false)).changes().isEmpty()
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2', 'UDP'), false)).changes().isEmpty()
        await(m.setState(RealServerSelector.parse('fwmark 1', '10.0.0.2', null), false)).changes().isEmpty()
    }

    def 'a group member\'s address names the group\'s virtual server; the change applies to every member'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config('''
            virtual_server_group G {
                10.0.0.60-61 80
            }
            virtual_server group G {
                lb_algo rr
                real_server 10.0.0.2 80 { }
                real_server 10.0.0.3 80 { }
            }
            ''')))
        def members = ['10.0.0.60', '10.0.0.61'].collect { ServiceKey.of(InetAddress.getByName(it), 80, Protocol.TCP) }

        when:
        def r = await(m.setState(RealServerSelector.parse('10.0.0.61:80', '10.0.0.3', null), false))

        then:
        r.changes()*.name == ['[10.0.0.3]:80 of group G:tcp']
        members.collect { dests(f, it) } == [['10.0.0.2:80/1'], ['10.0.0.2:80/1']]
    }

    def 'each real-server and quorum change writes its FIFO line in order, with a script configured or not'() {
        given:
        def m = manager(new InMemoryForwarder())
        await(m.configure(config(CONF)))

        when: 'rs .2 (weight 1) goes down: live weight 2 still meets quorum 2; then .3 (weight 2) goes: 0'
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2', null), false))
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3', null), false))
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3', null), true))

        then: 'the start (with its quorum) told nothing; .3 has no notify script and still has its lines'
        lines == ['RS [10.0.0.2]:tcp:80 [10.0.0.50]:tcp:80 DOWN\n',
                  'RS [10.0.0.3]:tcp:80 [10.0.0.50]:tcp:80 DOWN\n',
                  'VS [10.0.0.50]:tcp:80 DOWN\n',
                  'RS [10.0.0.3]:tcp:80 [10.0.0.50]:tcp:80 UP\n',
                  'VS [10.0.0.50]:tcp:80 UP\n']
        scripts*.get(1) == ['DOWN', 'QUORUM_DOWN', 'QUORUM_UP']
    }

    def 'a start without quorum is told only when it brings the sorry server in'() {
        when:
        await(manager(new InMemoryForwarder()).configure(config(CONF.replace('real_server 10.0.0.2 80 {', 'real_server 10.0.0.2 80 {\n alpha')
                .replace('real_server 10.0.0.3 80 { weight 2 }', 'real_server 10.0.0.3 80 { weight 2\n alpha }')
                + '''
            virtual_server 10.0.0.51 80 {
                real_server 10.0.0.4 80 { alpha }
            }
            ''')))

        then:
        lines == ['VS [10.0.0.50]:tcp:80 DOWN\n']
        scripts == [['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', false]]
    }

    def 'losing the quorum brings the sorry server and runs quorum_down; regaining it runs quorum_up'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))

        when:
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3', null), false))

        then: 'live weight 1 < quorum 2'
        dests(f) == ['10.0.0.99:8080/1']
        scripts.contains(['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', false])
        m.status().quorum == ['[10.0.0.50]:tcp:80': 'DOWN']
        logged.any { it.startsWith('WARN forwarder: [10.0.0.50]:tcp:80 lost its quorum: live weight 1 < 2; the sorry server 10.0.0.99:8080 replaces') }

        when:
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3', null), true))

        then:
        dests(f) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        scripts.last() == ['[10.0.0.50]:tcp:80', 'QUORUM_UP', '/bin/quorum-up', false]
    }

    def 'a checker\'s weight replaces the configured one in the forwarder, without notifications'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))
        def rs2 = RealServerSelector.parse('10.0.0.50:80', '10.0.0.2:80', null)
        int before = lines.size()

        when: 'misc_dynamic exit 7'
        def r = await(m.setWeight(rs2, 5, 'MISC_CHECK: L7OK exit status 7 (weight 5)'))

        then:
        r.applied()
        r.changes() == [new ServiceManager.WeightChange('[10.0.0.2]:80 of [10.0.0.50]:tcp:80', 1, 5)]
        dests(f) == ['10.0.0.2:80/5', '10.0.0.3:80/2']
        m.status().checkerWeights == ['[10.0.0.2]:80 of [10.0.0.50]:tcp:80': 5]
        logged.contains('INFO forwarder: real server [10.0.0.2]:80 of [10.0.0.50]:tcp:80 weight 1 -> 5 (up; MISC_CHECK: L7OK exit status 7 (weight 5))')
        logged.contains('INFO forwarder: applied 1 real server changed (real server weight)')
        scripts.isEmpty()
        lines.size() == before

        when: 'the same weight again changes nothing'
        int batches = m.status().applies as int
        def again = await(m.setWeight(rs2, 5, 'again'))

        then:
        again.changes()*.was == [5]
        m.status().applies == batches

        when: 'down, the weight changes; it comes back at that weight'
        await(m.setState(rs2, false))
        await(m.setWeight(rs2, 3, 'exit 5'))

        then: 'the weight of a real server that is down is in no destination and no live weight'
        dests(f) == ['10.0.0.3:80/2']
        logged.contains('INFO forwarder: real server [10.0.0.2]:80 of [10.0.0.50]:tcp:80 weight 5 -> 3 (down, taken when it comes back; exit 5)')

        when:
        await(m.setState(rs2, true))

        then:
        dests(f) == ['10.0.0.2:80/3', '10.0.0.3:80/2']

        when: 'weight 0 keeps the destination in place at weight 0'
        await(m.setWeight(rs2, 0, 'exit 2'))

        then:
        dests(f) == ['10.0.0.2:80/0', '10.0.0.3:80/2']

        when:
        m.setWeight(rs2, -1, 'bad')

        then:
        thrown(IllegalArgumentException)
    }

    def 'the quorum counts a checker\'s weight: dropping it loses the quorum, raising it regains it'() {
        given: 'quorum 2: the live weight is 1 + 2'
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))
        def rs3 = RealServerSelector.parse('10.0.0.50:80', '10.0.0.3:80', null)

        when: 'weight 0 on 10.0.0.3: live weight 1'
        await(m.setWeight(rs3, 0, 'exit 2'))

        then:
        dests(f) == ['10.0.0.99:8080/1']
        scripts == [['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', false]]
        logged.any { it.startsWith('WARN forwarder: [10.0.0.50]:tcp:80 lost its quorum: live weight 1 < 2') }

        when:
        await(m.setWeight(rs3, 4, 'exit 6'))

        then:
        dests(f) == ['10.0.0.2:80/1', '10.0.0.3:80/4']
        scripts.last() == ['[10.0.0.50]:tcp:80', 'QUORUM_UP', '/bin/quorum-up', false]
        logged.contains('INFO forwarder: [10.0.0.50]:tcp:80 gained its quorum: live weight 5 >= 2')
    }

    def 'a reload keeps a checker\'s weight unless it changes that real server\'s configured weight'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))
        await(m.setWeight(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2:80', null), 7, 'exit 9'))
        await(m.setWeight(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3:80', null), 8, 'exit 10'))

        when: 'the same file again'
        await(m.configure(config(CONF)))

        then:
        dests(f) == ['10.0.0.2:80/7', '10.0.0.3:80/8']

        when: '10.0.0.3 is configured with weight 3 now'
        await(m.configure(config(CONF.replace('weight 2', 'weight 3'))))

        then:
        dests(f) == ['10.0.0.2:80/7', '10.0.0.3:80/3']
        m.status().checkerWeights == ['[10.0.0.2]:80 of [10.0.0.50]:tcp:80': 7]
        logged.contains('INFO forwarder: real server [10.0.0.3]:80 of [10.0.0.50]:tcp:80: configured weight 2 -> 3 replaces the weight 8 its checker set')
    }

    def 'alpha real servers start down until set up; a reload keeps every state'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        String text = '''
            virtual_server 10.0.0.50 80 {
                lb_algo rr
                real_server 10.0.0.2 80 {
                    alpha
                }
                real_server 10.0.0.3 80 { }
            }
            '''

        when:
        await(m.configure(config(text)))

        then:
        dests(f) == ['10.0.0.3:80/1']
        logged.contains('INFO forwarder: real server [10.0.0.2]:80 of [10.0.0.50]:tcp:80 starts down (alpha): waiting for a check or vigil real-server')

        when: 'the alpha server is set up, the other down, then the file is reloaded with a third server'
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2:80', null), true))
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.3:80', null), false))
        await(m.configure(config(text.replace('real_server 10.0.0.3 80 { }', 'real_server 10.0.0.3 80 { }\n real_server 10.0.0.4 80 { }'))))

        then:
        dests(f) == ['10.0.0.2:80/1', '10.0.0.4:80/1']
    }

    def 'a failed apply is logged, counted and retried until the forwarder takes it'() {
        given:
        def inner = new InMemoryForwarder()
        int failing = 2
        Forwarder flaky = new Forwarder() {
            ApplyReport apply(DesiredState desired) throws KernelException {
                if (failing-- > 0) {
                    throw new KernelException('apply', 105, 'No buffer space available')
                }
                inner.apply(desired)
            }
            DesiredState current() { inner.current() }
            ForwarderStats stats() { inner.stats() }
            Forwarder.FlushScope flush() { inner.flush() }
            void close() { }
        }
        def m = manager(flaky)

        when:
        await(m.configure(config(CONF)))

        then:
        inner.current().isEmpty()
        m.status().applyFailures == 1
        m.status().lastError.contains('No buffer space available')
        logged.any { it.startsWith('ERROR forwarder: apply failed (configuration): ') && it.contains('No buffer space available (errno 105); retrying in 500 ms') }

        when:
        long deadline = System.nanoTime() + 5_000_000_000L
        while (inner.current().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20)
        }

        then:
        dests(inner) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        m.status().applyFailures == 2
        m.status().lastError == null
        logged.contains('INFO forwarder: apply succeeded again')
    }

    def 'a backend that cannot open is logged and counted; the daemon goes on'() {
        given:
        def m = new ServiceManager({ wanted -> throw new KernelException('nft_ctx_new', 0, 'libnftables.so.1 not found') },
                log, notifier)
        managers << m

        when:
        await(m.configure(config(CONF)))

        then:
        m.status().backend == 'none'
        m.status().applyFailures == 1
        logged.any { it.startsWith('ERROR forwarder: cannot open the auto forwarder: ') && it.contains('libnftables.so.1 not found')
                && it.endsWith('; the virtual servers are not in force') }
        await(m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2', null), false)).applied() == false
    }

    def 'a service the backend cannot express is left out and reported once; the others are applied'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f, { vs -> vs.service().scheduler() == 'wlc' ? 'lb_algo wlc' : null })
        def text = CONF + '''
            virtual_server 10.0.0.51 80 {
                real_server 10.0.0.2 80 { }
            }
            '''

        when:
        await(m.configure(config(text)))
        await(m.configure(config(text)))

        then:
        f.current().services().keySet() == [WEB] as Set
        logged.findAll { it.contains('lb_algo wlc') } == [
                'ERROR forwarder: service TCP 10.0.0.51:80: lb_algo wlc is not supported by the memory forwarder; the service is left out']
        m.status().servicesLeftOut == 1
    }

    def 'shutdown removes the services and, with omega, runs notify_down of live servers and quorum_down'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config(CONF)))

        when:
        m.stop(true, Duration.ofSeconds(5))

        then:
        new InMemoryForwarder(table).current().isEmpty()
        scripts == [['[10.0.0.2]:80 of [10.0.0.50]:tcp:80', 'DOWN', '/bin/rs down', true],
                    ['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', true]]
        lines == ['RS [10.0.0.2]:tcp:80 [10.0.0.50]:tcp:80 DOWN\n', 'RS [10.0.0.3]:tcp:80 [10.0.0.50]:tcp:80 DOWN\n',
                  'VS [10.0.0.50]:tcp:80 DOWN\n']
        logged.contains('INFO forwarder: shutdown: removed 1 service')
    }

    def 'lvs_flush_on_stop flushes the whole table at shutdown; with omega only the quorum-down notification runs'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config('global_defs {\n lvs_flush_on_stop\n}\n' + CONF)))
        table.addForeign(FOREIGN)

        when:
        m.stop(true, Duration.ofSeconds(5))

        then: 'the foreign service goes too: that is what a flush of a shared table means'
        table.flushes() == 1
        new InMemoryForwarder(table).current().isEmpty()
        table.foreign().isEmpty()
        scripts == [['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', true]]
        lines == ['VS [10.0.0.50]:tcp:80 DOWN\n']
        logged.contains('INFO forwarder: shutdown: lvs_flush_on_stop flushed the whole memory table, services of other tools included')
    }

    def 'lvs_flush_on_stop VS removes the configured services only, without the real servers\' notifications'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config('global_defs {\n lvs_flush_on_stop VS\n}\n' + CONF)))
        table.addForeign(FOREIGN)

        when:
        m.stop(true, Duration.ofSeconds(5))

        then:
        table.flushes() == 0
        new InMemoryForwarder(table).current().isEmpty()
        table.foreign() == DesiredState.of(FOREIGN)
        scripts == [['[10.0.0.50]:tcp:80', 'QUORUM_DOWN', '/bin/quorum-down', true]]
        lines == ['VS [10.0.0.50]:tcp:80 DOWN\n']
        logged.contains('INFO forwarder: shutdown: removed 1 service (lvs_flush_on_stop VS)')
    }

    def 'with --dont-release-ipvs lvs_flush_on_stop flushes nothing'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config('global_defs {\n lvs_flush_on_stop\n}\n' + CONF)))

        when:
        m.stop(false, Duration.ofSeconds(5))

        then:
        table.flushes() == 0
        dests(new InMemoryForwarder(table)) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        lines.isEmpty()
    }

    def 'lvs_flush empties the whole table when the backend opens at start, never at a reload'() {
        given: 'a table holding a service of another tool and one an earlier daemon left'
        def table = new InMemoryForwarder.Table()
        table.addForeign(FOREIGN)
        await(manager(new InMemoryForwarder(table)).configure(config(CONF)))
        String text = 'global_defs {\n lvs_flush\n}\n' + CONF
        def m = manager(new InMemoryForwarder(table))

        when:
        await(m.configure(config(text)))

        then: 'flushed, then the configuration applied from nothing rather than adopted'
        table.flushes() == 1
        table.foreign().isEmpty()
        dests(new InMemoryForwarder(table)) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        logged.contains('INFO forwarder: lvs_flush: flushed the whole memory table, services of other tools included')
        logged.count { it == 'INFO forwarder: applied 1 service added, 2 real servers added (configuration)' } == 2

        when:
        await(m.configure(config(text)))

        then:
        table.flushes() == 1
    }

    def 'lvs_flush on a backend without a shared table says that only Vigil\'s own rules went'() {
        given:
        def inner = new InMemoryForwarder()
        int flushed = 0
        Forwarder own = new Forwarder() {
            ApplyReport apply(DesiredState desired) throws KernelException { inner.apply(desired) }
            DesiredState current() { inner.current() }
            ForwarderStats stats() { inner.stats() }
            Forwarder.FlushScope flush() { flushed++; inner.apply(DesiredState.EMPTY); Forwarder.FlushScope.OWNED }
            void close() { }
        }
        def m = new ServiceManager({ wanted -> new Backend('nftables', own, 'test', { null } as java.util.function.Function, false) },
                log, notifier, Duration.ofMillis(500))
        managers << m

        when:
        await(m.configure(config('global_defs {\n lvs_flush\n}\n' + CONF)))

        then:
        flushed == 1
        logged.contains('INFO forwarder: lvs_flush: the nftables backend has no table shared with other tools; flushed Vigil\'s own rules only')
        dests(inner) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
    }

    def 'a failed lvs_flush is logged and counted; the configuration is applied all the same'() {
        given:
        def inner = new InMemoryForwarder()
        Forwarder failing = new Forwarder() {
            ApplyReport apply(DesiredState desired) throws KernelException { inner.apply(desired) }
            DesiredState current() { inner.current() }
            ForwarderStats stats() { inner.stats() }
            Forwarder.FlushScope flush() throws KernelException { throw new KernelException('IPVS_CMD_FLUSH', 1, 'Operation not permitted') }
            void close() { }
        }
        def m = manager(failing)

        when:
        await(m.configure(config('global_defs {\n lvs_flush\n}\n' + CONF)))

        then:
        logged.contains('ERROR forwarder: lvs_flush failed: IPVS_CMD_FLUSH: Operation not permitted (errno 1); applying over what the table holds')
        m.status().applyFailures == 1
        dests(inner) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
    }

    def 'with --dont-release-ipvs shutdown leaves the services for the next start and runs nothing'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config(CONF)))

        when:
        m.stop(false, Duration.ofSeconds(5))

        then:
        dests(new InMemoryForwarder(table)) == ['10.0.0.2:80/1', '10.0.0.3:80/2']
        scripts.isEmpty()
    }

    def 'without virtual servers no backend is opened'() {
        given:
        int opened = 0
        def m = new ServiceManager({ wanted -> opened++; throw new IllegalStateException('must not open') }, log, notifier)
        managers << m

        when:
        await(m.configure(config('''
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                priority 100
                virtual_ipaddress {
                    10.0.0.1
                }
            }
            ''')))

        then:
        opened == 0
        m.status().backend == 'none'
        await(m.services(false)).startsWith('IP Virtual Server version 1.2.1 (backend=none)')
    }

    def 'the table reads back in ipvsadm layout'() {
        given:
        def table = new InMemoryForwarder.Table()
        def m = manager(new InMemoryForwarder(table))
        await(m.configure(config(CONF)))
        table.count(WEB, new DestinationKey(InetAddress.getByName('10.0.0.2'), 80), new ForwarderStats.Counters(3, 30, 20, 3000, 9000, 1, 2))

        expect:
        await(m.services(false)).readLines()*.stripTrailing() == '''\
            IP Virtual Server version 1.2.1 (backend=memory)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  10.0.0.50:80 rr
              -> 10.0.0.2:80                  Masq    1      1          2
              -> 10.0.0.3:80                  Masq    2      0          0
            '''.stripIndent().readLines()
        await(m.services(true)).readLines() == '''\
            IP Virtual Server version 1.2.1 (backend=memory)
            Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
              -> RemoteAddress:Port
            TCP  10.0.0.50:80                        3       30       20     3000     9000
              -> 10.0.0.2:80                         3       30       20     3000     9000
              -> 10.0.0.3:80                         0        0        0        0        0
            '''.stripIndent().readLines()
    }

    def 'a burst of state changes is taken one by one, in order, and applied once'() {
        given: 'twenty real servers; the first change\'s notify_down holds the forwarder thread while the other nineteen queue'
        def conf = 'virtual_server 10.0.0.50 80 {\n    lb_algo rr\n' +
                (2..21).collect { "    real_server 10.0.0.${it} 80 { notify_down \"/bin/rs down ${it}\" }\n" }.join() + '}\n'
        def table = new InMemoryForwarder.Table()
        def f = new InMemoryForwarder(table)
        def held = new java.util.concurrent.CountDownLatch(1)
        def holding = new java.util.concurrent.CountDownLatch(1)
        List<String> order = new CopyOnWriteArrayList<>()
        ServiceManager.Notifier slow = { String subject, String event, String command, String line, boolean stopping ->
            order << command
            if (order.size() == 1) {
                holding.countDown()
                held.await(10, TimeUnit.SECONDS)
            }
        }
        def m = new ServiceManager({ wanted -> new Backend('memory', f, 'test', { null } as java.util.function.Function, true) },
                log, slow, Duration.ofMillis(500))
        managers << m
        await(m.configure(config(conf)))
        long applies = m.status().applies as long
        int batches = table.batches()

        when:
        def first = m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2', null), false, 'check')
        assert holding.await(10, TimeUnit.SECONDS)
        def rest = (3..21).collect { m.setState(RealServerSelector.parse('10.0.0.50:80', "10.0.0.${it}", null), false, 'check') }
        held.countDown()
        def results = ([first] + rest).collect { await(it) }

        then: 'one notification per change, in order, then the quorum lost (no script); one desired state built and applied for all twenty'
        order == (2..21).collect { "/bin/rs down ${it}".toString() } + [null]
        results.every { it.applied() && it.changes().size() == 1 && !it.changes()[0].up() }
        m.status().applies == applies + 1
        table.batches() == batches + 1
        f.current().services()[WEB].destinations().isEmpty()
        logged.count { it.startsWith('INFO forwarder: applied ') && it.endsWith('(20 real server states)') } == 1
        logged.count { it.startsWith('INFO forwarder: real server ') && it.contains(' down (check)') } == 20
    }

    def 'a task of another kind applies the state changes taken before it, first'() {
        given:
        def f = new InMemoryForwarder()
        def m = manager(f)
        await(m.configure(config(CONF)))

        when: 'a change, then at once a read of the table'
        def change = m.setState(RealServerSelector.parse('10.0.0.50:80', '10.0.0.2', null), false)
        def table = await(m.services(false))

        then: 'the read sees the change applied'
        await(change).applied()
        !table.contains('10.0.0.2:80')
        table.contains('10.0.0.3:80')
    }
}
