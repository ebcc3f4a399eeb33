package dev.vigil.daemon.event

import dev.vigil.api.NotifierEvent
import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.LoadResult
import dev.vigil.config.Severity
import dev.vigil.daemon.Log
import dev.vigil.daemon.plugin.PluginHost
import dev.vigil.daemon.track.EventLog
import spock.lang.Specification
import spock.lang.TempDir
import spock.util.concurrent.PollingConditions

import java.nio.file.Files
import java.nio.file.Path
import java.time.Clock
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The event bus and the notifier host with a real notifier plugin, zipped and loaded by the real
 * plugin host, on real threads: deliveries in order; a throwing, a hanging and a slow notifier
 * contained and counted while the others go on; a full queue dropping its oldest events; the
 * {@code events} filter; reloads that keep, replace, add and remove notifiers; the checks of
 * {@code vigil_notifier} blocks, each problem at its word.
 */
class NotifierHostSpec extends Specification {

    @TempDir
    Path dir

    final List<String> logged = new CopyOnWriteArrayList<>()
    final EventLog log = { Log.Level level, String subject, String message -> logged << "${level} ${subject}: ${message}".toString() } as EventLog
    PluginHost plugins
    NotifierTypes types
    NotifierHost host
    EventBus bus
    PollingConditions within = new PollingConditions(timeout: 10, delay: 0.05)

    def setup() {
        Path pluginsDir = dir.resolve('plugins')
        NotifierPlugins.zip(pluginsDir, 'recorder')
        plugins = PluginHost.open(pluginsDir)
        assert plugins.problems().isEmpty()
        types = NotifierTypes.of(plugins, [new ScriptNotifier()])
        bus = new EventBus('lb1', Clock.systemUTC(), log)
    }

    def cleanup() {
        host?.close(Duration.ofSeconds(2))
        plugins?.close()
    }

    /** Loads {@code text} as keepalived.conf and checks its notifiers. */
    NotifierValidation.Result check(String text) {
        Path f = dir.resolve('keepalived.conf')
        Files.writeString(f, text)
        LoadResult r = ConfigLoader.load(f, LoadOptions.defaults().withConfigId('spec'))
        NotifierValidation.apply(r, types)
    }

    List<NotifierSpec> specs(String text) {
        def r = check(text)
        assert !r.load().hasErrors(): r.load().errors().toString()
        r.specs()
    }

    NotifierHost start(List<NotifierSpec> specs, int capacity = NotifierHost.QUEUE_CAPACITY) {
        host = new NotifierHost(types, Clock.systemUTC(), log, capacity)
        host.configure('lb1', specs)
        bus.subscribe(host)
        host
    }

    String block(String name, String body) {
        """
vigil_notifier ${name} {
    type record
    file ${dir.resolve(name + '.out')}
${body}
}
"""
    }

    List<String> out(String name) {
        Path f = dir.resolve(name + '.out')
        Files.exists(f) ? Files.readAllLines(f) : []
    }

    Map<String, Object> status(String name) {
        host.status()[name] as Map<String, Object>
    }

    def "every event reaches the notifier once, in the order it was published, with its type, node, time and details"() {
        given:
        start(specs(block('ops', '')))

        when:
        (1..50).each { bus.instance('VI_1', it % 2 ? 'BACKUP' : 'MASTER', it % 2 ? 'MASTER' : 'BACKUP', it, "step ${it}") }

        then:
        within.eventually {
            assert out('ops').size() == 50
        }
        out('ops').withIndex().every { line, i ->
            def w = line.split(' ', 5)
            w[0] == 'ops' && w[1] == 'vrrp.instance' && w[2] == 'lb1' && java.time.Instant.parse(w[3]) != null &&
                    w[4] == "instance=VI_1,from=${(i + 1) % 2 ? 'BACKUP' : 'MASTER'},to=${(i + 1) % 2 ? 'MASTER' : 'BACKUP'},priority=${i + 1},cause=step ${i + 1}".toString()
        }
        status('ops').delivered == 50
        status('ops').failed == 0
        status('ops').dropped == 0
        status('ops').state == 'RUNNING'
    }

    def "an event whose state did not change is not published"() {
        given:
        start(specs(block('ops', '')))

        when:
        bus.instance('VI_1', 'MASTER', 'MASTER', 100, 'reload')
        bus.tracker('script chk', 'OK', 'OK', 'VI_1')
        bus.publish(bus.realServer('[10.0.0.1]:tcp:80', '[10.0.1.1]:80', true, 'check'), null)
        host.awaitIdle(Duration.ofSeconds(5))

        then:
        out('ops').size() == 1
        out('ops')[0].contains('real_server.up')
        bus.unchanged() == 2
        bus.published() == 1
    }

    def "a throwing, a hanging and a slow notifier are contained and counted; the others get every event and the publisher never waits"() {
        given:
        start(specs(block('good', '') + block('thrower', 'behaviour throw') +
                block('hanger', 'behaviour hang\n    timeout 0.2') + block('slow', 'behaviour slow 300')))

        when:
        long t0 = System.nanoTime()
        bus.daemonStart('/etc/keepalived/keepalived.conf', 'dev')
        bus.daemonReload('/etc/keepalived/keepalived.conf', true, '0 added')
        bus.daemonStop('SIGTERM')
        long publishMillis = (System.nanoTime() - t0).intdiv(1_000_000)

        then: 'publishing took no notice of the misbehaving notifiers'
        publishMillis < 100

        and: 'the good one has everything at once'
        within.eventually {
            assert out('good')*.split(' ')*.getAt(1) == ['daemon.start', 'daemon.reload', 'daemon.stop']
        }

        and: 'the thrower fails each delivery with its reason, logged'
        within.eventually {
            assert status('thrower').failed == 3
        }
        status('thrower').delivered == 0
        status('thrower').lastError.contains('threw IllegalStateException: refused daemon.stop')
        logged.count { it.startsWith('WARN notifier thrower: daemon.start not delivered') } == 1

        and: 'the slow one delivers them all, late'
        within.eventually {
            assert out('slow').size() == 3
        }

        and: 'each hung delivery is abandoned after timeout + grace, and the lane goes on to the next'
        new PollingConditions(timeout: 8, delay: 0.1).eventually {
            assert status('hanger').failed == 3
        }
        status('hanger').timedOut == 3
        status('hanger').lastError.contains('did not return within 1200 ms')
        out('hanger').isEmpty()
    }

    def "a full queue drops its oldest events and counts them"() {
        given:
        start(specs(block('slow', 'behaviour slow 100')), 4)

        when:
        (1..20).each { bus.tracker("file f${it}", '0', "${it}", 'VI_1') }

        then:
        within.eventually {
            assert status('slow').queued == 0
            assert status('slow').delivered + status('slow').dropped == 20
        }
        status('slow').dropped >= 14
        // the newest always survive
        out('slow').last().contains('tracker=file f20')
        out('slow').size() == status('slow').delivered
    }

    def "the events filter takes types and prefixes"() {
        given:
        start(specs(block('vrrp', 'events vrrp.*') + block('rs', 'events {\n real_server.down\n quorum.down\n }') +
                block('all', '')))

        when:
        bus.instance('VI_1', 'BACKUP', 'MASTER', 100, 'x')
        bus.group('G', 'BACKUP', 'MASTER', 'x')
        bus.publish(bus.realServer('[10.0.0.1]:tcp:80', '[10.0.1.1]:80', false, 'TCP_CHECK failed'), null)
        bus.publish(bus.realServer('[10.0.0.1]:tcp:80', '[10.0.1.1]:80', true, 'TCP_CHECK ok'), null)
        bus.publish(bus.quorum('[10.0.0.1]:tcp:80', 'UP', false, 0, 1), null)
        bus.policyAction('p', '3', 'drain', 'rs', 'load')
        host.awaitIdle(Duration.ofSeconds(5))

        then:
        out('vrrp')*.split(' ')*.getAt(1) == ['vrrp.instance', 'vrrp.group']
        out('rs')*.split(' ')*.getAt(1) == ['real_server.down', 'quorum.down']
        out('all').size() == 6
    }

    def "a reload keeps unchanged notifiers with their counters, replaces changed ones, closes removed ones, starts new ones"() {
        given:
        start(specs(block('keep', '') + block('change', '') + block('drop', '')))
        bus.daemonStart('c', 'dev')
        host.awaitIdle(Duration.ofSeconds(5))

        when:
        host.configure('lb1', specs(block('keep', '') + block('change', 'events daemon.*') + block('add', '')))
        bus.daemonReload('c', true, 'x')
        host.awaitIdle(Duration.ofSeconds(5))

        then:
        within.eventually {
            assert out('drop') == out('drop').findAll { !it.endsWith('closed') } + ['drop closed']
            assert out('change').count { it == 'change closed' } == 1
        }
        status('keep').delivered == 2
        status('change').delivered == 1
        status('add').delivered == 1
        !host.status().containsKey('drop')
        out('keep')*.split(' ')*.getAt(1) == ['daemon.start', 'daemon.reload']
        out('drop').size() == 2
        !out('keep').contains('keep closed')
    }

    def "vigil_notifier blocks are checked, each problem at its word: type, events, timeout and the plugin's own"() {
        when:
        def r = check("""
vigil_notifier a {
    type recordd
}
vigil_notifier b {
    type record
    file /tmp/x
    events vrrp.instance vrp.* nothing
    timeout 0
}
vigil_notifier c {
    type record
    colour blue
}
vigil_notifier d {
    type script
}
vigil_notifier e {
    type script
    command "/bin/true"
    events daemon.*
    timeout 2.5
}
""")
        def errors = r.load().diagnostics().findAll { it.severity() == Severity.ERROR }
                .collect { "${it.ref().line()}:${it.ref().col()}: ${it.message()}".toString() }

        then:
        errors == [
                '3:10: unknown notifier type "recordd" (did you mean "record"?); installed notifiers: record, script',
                '8:26: unknown event type "vrp.*"; expected: daemon.reload, daemon.start, daemon.stop, policy.action, quorum.down, quorum.up, real_server.down, real_server.up, tracker, vrrp.group, vrrp.instance, or a prefix such as vrrp.*',
                '8:32: unknown event type "nothing"; expected: daemon.reload, daemon.start, daemon.stop, policy.action, quorum.down, quorum.up, real_server.down, real_server.up, tracker, vrrp.group, vrrp.instance, or a prefix such as vrrp.*',
                '9:13: "timeout" expected seconds above 0 and at most 3600, got "0"',
                '11:1: a record notifier needs a file',
                '13:5: record does not know "colour"',
                '15:1: a script notifier needs a "command" line',
        ]
        r.specs()*.name() == ['e']
        r.specs()[0].timeout() == Duration.ofMillis(2500)
        r.specs()[0].filter().patterns() == ['daemon.*']
    }

    def "a notifier type claimed by two plugins is refused, naming both"() {
        given:
        Path two = dir.resolve('two')
        NotifierPlugins.zip(two, 'one')
        NotifierPlugins.zip(two, 'other')
        PluginHost both = PluginHost.open(two)
        types = NotifierTypes.of(both, [new ScriptNotifier()])

        when:
        def r = check(block('x', ''))

        then:
        types.claimants('record') == ['one', 'other']
        types.problems()[0].startsWith('notifier type record is claimed by more than one plugin (one, other)')
        r.load().errors()*.message() == ["notifier type record is claimed by more than one plugin (one, other); remove all but one from ${two}".toString()]
        r.specs().isEmpty()

        cleanup:
        both.close()
    }

    def "the script notifier runs its command per event with the event in the environment and keepalived's four arguments"() {
        given:
        Path rec = dir.resolve('rec.sh')
        Files.writeString(rec, '#!/bin/sh\necho "$VIGIL_EVENT|$VIGIL_NODE|$VIGIL_TIME|$VIGIL_INSTANCE$VIGIL_GROUP$VIGIL_REASON|$VIGIL_FROM>$VIGIL_TO|$*" >> ' + dir.resolve('script.out') + '\n')
        rec.toFile().setExecutable(true)
        start(specs("""
vigil_notifier run {
    type script
    command "${rec} extra"
}
"""))

        when:
        bus.instance('VI_1', 'BACKUP', 'MASTER', 150, 'higher priority')
        bus.group('G1', 'MASTER', 'FAULT', 'member')
        bus.daemonStop('SIGTERM')
        host.awaitIdle(Duration.ofSeconds(10))
        def lines = Files.readAllLines(dir.resolve('script.out'))

        then:
        lines.size() == 3
        lines[0] ==~ /vrrp\.instance\|lb1\|\d{4}-.*Z\|VI_1\|BACKUP>MASTER\|extra INSTANCE VI_1 MASTER 150/
        lines[1] ==~ /vrrp\.group\|lb1\|.*\|G1\|MASTER>FAULT\|extra GROUP G1 FAULT 0/
        lines[2] ==~ /daemon\.stop\|lb1\|.*\|SIGTERM\|>\|extra/
        status('run').delivered == 3
    }

    def "keepalived's mail keywords make the smtp_alert notifier, its events chosen by the smtp_alert rules"() {
        given:
        Path mailDir = dir.resolve('mailplugins')
        NotifierPlugins.zip(mailDir, 'mailer', ['mail'])
        PluginHost mailHost = PluginHost.open(mailDir)
        types = NotifierTypes.of(mailHost, [new ScriptNotifier()])

        when:
        def r = check("""
global_defs {
    router_id lb1
    notification_email {
        ops@example.com
        "Night Desk <night@example.com>"
    }
    notification_email_from lb1@example.com
    smtp_server 10.9.0.25 2525
    smtp_connect_timeout 7
    smtp_alert_vrrp off
    no_email_faults
}
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 1
    priority 100
    smtp_alert
    virtual_ipaddress { 10.0.0.1 }
}
vrrp_instance VI_2 {
    interface lo
    virtual_router_id 2
    priority 100
    virtual_ipaddress { 10.0.0.2 }
}
virtual_server 10.0.0.1 80 {
    real_server 10.0.1.1 80 {
        smtp_alert off
    }
    real_server 10.0.1.2 80 {
    }
}
""")
        def mail = r.specs().find { it.name() == 'smtp_alert' }
        def ev = { String type, Map d -> new NotifierEvent(type, 'lb1', java.time.Instant.now(), d) }

        then: 'the block went to the plugin claiming mail, whose complaints are located at global_defs'
        def errs = r.load().errors().collect { "${it.ref().line()}:${it.ref().col()} ${it.message()}".toString() }
        errs[0] == '2:1 a record notifier needs a file'
        errs.contains('2:1 record does not know "smtp_server"')
        errs.every { it.startsWith('2:1 ') }
        mail == null

        when: 'a plugin that accepts the block'
        def block = MailAlerts.block(r.load().config())
        def filter = MailAlerts.filter(r.load().config())

        then:
        block.lines()*.keyword() == ['type', 'smtp_server', 'smtp_helo_name', 'smtp_connect_timeout',
                                      'notification_email_from', 'notification_email']
        block.line('smtp_server').get().arguments() == ['10.9.0.25', '2525']
        block.line('smtp_connect_timeout').get().arguments() == ['7']
        block.line('notification_email').get().arguments() == ['ops@example.com', 'Night Desk <night@example.com>']
        filter.accepts(ev('vrrp.instance', [instance: 'VI_1', to: 'MASTER']))
        !filter.accepts(ev('vrrp.instance', [instance: 'VI_1', to: 'FAULT']))
        !filter.accepts(ev('vrrp.instance', [instance: 'VI_2', to: 'MASTER']))
        !filter.accepts(ev('real_server.down', [virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.1.1]:80']))
        filter.accepts(ev('real_server.down', [virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.1.2]:80']))
        filter.accepts(ev('quorum.down', [virtual_server: '[10.0.0.1]:tcp:80']))
        !filter.accepts(ev('tracker', [tracker: 'script x']))
        !filter.accepts(ev('daemon.start', [:]))

        cleanup:
        mailHost.close()
    }
}
