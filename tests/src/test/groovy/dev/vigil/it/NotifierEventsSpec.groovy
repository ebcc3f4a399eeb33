package dev.vigil.it

import dev.vigil.daemon.plugin.TestPlugins
import dev.vigil.plugin.testkit.MailServers
import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit

/**
 * Every event type the daemon emits reaching every notifier once and only once. One Vigil node
 * runs a notifier of every type Vigil ships, and a third party's, side by side: the built-in
 * {@code script} notifier, whose command writes each event's environment and arguments as one
 * line; a third party's notifier plugin (compiled here, zipped, installed beside the build's
 * plugins) that writes each event it is given as one line; a {@code webhook} notifier posting to
 * the webhook plugin's specs' {@code receiver.py}, which records each request and checks its
 * signature; and a {@code mail} notifier (no {@code events} filter, so it gets everything) mailing
 * through aiosmtpd, which records each message. The node goes through everything it can tell today:
 *
 * <pre>
 *   lb 10.78.0.1 (Vigil: VI_1 in sync group G1, priority 100; VS 10.78.0.100:80 -> rs:8080, quorum 1)
 *   kp 10.78.0.2 (keepalived: VI_1, priority 150, started once lb is MASTER)
 *   rs 10.78.0.11 (python3's HTTP server on 8080, TCP_CHECK)
 *   ops 10.78.0.50 (receiver.py on 8080, aiosmtpd on 25)
 * </pre>
 *
 * start; VI_1 and G1 to BACKUP, then MASTER alone, then BACKUP when keepalived preempts; the
 * vrrp_script's first result, then its failure; the real server down (and the quorum lost), then
 * up (quorum gained); a reload that changes nothing else; the stop (VI_1 STOP). Every notifier
 * received exactly that list, in that order, each event once (the webhook receiver by the body's
 * {@code id} and {@code event}, the mail server one message per event with a subject naming it),
 * with the fields NotifierEvent documents.
 */
@Stepwise
@Requires({ NetnsLab.usable() && KeepalivedNode.present() && MailServers.usable('mail spec') })
class NotifierEventsSpec extends Specification {

    static final String VIP = '10.78.0.100'
    static final String VS = '[10.78.0.100]:tcp:80'
    static final String RS = '[10.78.0.11]:8080'
    static final String OPS = '10.78.0.50'
    static final String SECRET = 's3cret'
    static final Path RECEIVER_PY = Path.of(System.getProperty('vigil.root', '..'),
            'plugins', 'notify-webhook', 'src', 'test', 'resources', 'receiver.py').toAbsolutePath().normalize()

    /** The fields of each type, as {@code dev.vigil.api.NotifierEvent} documents them. */
    static final Map<String, List<String>> FIELDS = [
            'vrrp.instance'   : ['instance', 'from', 'to', 'priority', 'cause'],
            'vrrp.group'      : ['group', 'from', 'to', 'cause'],
            'real_server.up'  : ['virtual_server', 'real_server', 'from', 'to', 'reason'],
            'real_server.down': ['virtual_server', 'real_server', 'from', 'to', 'reason'],
            'quorum.up'       : ['virtual_server', 'from', 'to', 'healthy', 'quorum'],
            'quorum.down'     : ['virtual_server', 'from', 'to', 'healthy', 'quorum'],
            'tracker'         : ['tracker', 'from', 'to', 'instances'],
            'daemon.start'    : ['config', 'version'],
            'daemon.stop'     : ['reason'],
            'daemon.reload'   : ['config', 'result', 'reason'],
    ]

    @Shared NetnsLab lab
    @Shared VigilNode lb
    @Shared KeepalivedNode kp
    @Shared Process server
    @Shared Path flag
    @Shared Path scriptOut
    @Shared Path pluginOut
    @Shared Path webhookRecord
    @Shared MailServers.Recorder mailServer
    @Shared Path plugins
    @Shared Instant begun

    def setupSpec() {
        begun = Instant.now()
        assert Files.exists(RECEIVER_PY): "no ${RECEIVER_PY}"
        lab = new NetnsLab().host('lb', '10.78.0.1/24').host('kp', '10.78.0.2/24').host('rs', '10.78.0.11/24')
                .host('ops', OPS + '/24')
        flag = lab.dir.resolve('maintenance')
        scriptOut = lab.dir.resolve('script-notifier.log')
        pluginOut = lab.dir.resolve('plugin-notifier.log')
        webhookRecord = lab.dir.resolve('webhook.jsonl')

        // The webhook receiver (answers 204, checks the signature) and the mail server on ops.
        lab.spawn('ops', lab.dir.resolve('receiver.out'), ['/usr/bin/python3', RECEIVER_PY.toString(), '--bind', OPS,
                                                           '--port', '8080', '--record', webhookRecord.toString(), '--secret', SECRET])
        NetnsLab.waitFor(Duration.ofSeconds(30), 'the webhook receiver listening') {
            Path out = lab.dir.resolve('receiver.out')
            Files.exists(out) && Files.readString(out).contains('listening')
        }
        mailServer = new MailServers.Recorder(lab.place('ops'), lab.dir, OPS, 25)

        // The script notifier's command: one line per event, "ARGS|VIGIL_A=x|VIGIL_B=y|..." (sorted by name).
        Path rec = lab.write('record-event.sh', "#!/bin/sh\n" +
                "echo \"\$*|\$(env | grep '^VIGIL_' | sort | tr '\\n' '|')\" >> ${scriptOut}\n")
        rec.toFile().setExecutable(true)

        Path builtIn = Path.of(System.getenv('VIGIL_PLUGINS_DIR') ?: 'unset')
        assert Files.isDirectory(builtIn): "no built-in plugins in ${builtIn}"
        plugins = Files.createDirectories(lab.dir.resolve('plugins'))
        Files.list(builtIn).withCloseable { s ->
            s.filter { it.fileName.toString().endsWith('.zip') }.forEach { z -> Files.copy(z, plugins.resolve(z.fileName)) }
        }
        recorderPlugin(plugins)

        server = httpServer()
        lb = new VigilNode(lab, 'lb', """\
            global_defs {
                router_id lb-node
                vigil_forwarder nftables
                vigil_plugins_dir ${plugins}
            }
            vrrp_script chk_maintenance {
                script "/bin/sh -c '! test -e ${flag}'"
                interval 0.2
                weight 2
            }
            vrrp_sync_group G1 {
                group {
                    VI_1
                }
                sync_group_tracking_weight
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 78
                priority 100
                version 3
                advert_int 0.2
                track_script {
                    chk_maintenance
                }
                virtual_ipaddress {
                    ${VIP}/24
                }
            }
            virtual_server ${VIP} 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                quorum 1
                real_server 10.78.0.11 8080 {
                    TCP_CHECK {
                        connect_timeout 1
                        delay_loop 0.3
                        retry 0
                    }
                }
            }
            vigil_notifier by-script {
                type script
                command "${rec}"
            }
            vigil_notifier by-plugin {
                type recorder
                file ${pluginOut}
            }
            vigil_notifier by-webhook {
                type webhook
                url http://${OPS}:8080/hook
                secret ${SECRET}
            }
            vigil_notifier by-mail {
                type mail
                smtp_server ${OPS} 25
                smtp_helo_name lb-node.vigil.test
                notification_email ops@vigil.test
                notification_email_from vigil@lb-node.vigil.test
            }
            """.stripIndent())
        lb.start()
    }

    def cleanupSpec() {
        if (lb?.process?.alive) {
            lb.signal('KILL')
        }
        kp?.signal('TERM')
        server?.destroy()
        lab?.close()
    }

    /** python3's HTTP server on rs:8080, the real server TCP_CHECK connects to. */
    Process httpServer() {
        lab.spawn('rs', lab.dir.resolve("rs-http-${System.nanoTime()}.log"),
                ['/usr/bin/python3', '-m', 'http.server', '--bind', '10.78.0.11', '8080'])
    }

    static List<String> lines(Path f) {
        Files.exists(f) ? Files.readAllLines(f).findAll { it } : []
    }

    /**
     * The script notifier's lines as events: [type, node, time, details, args]. The details are
     * the VIGIL_<FIELD> variables other than EVENT, NODE and TIME, lower-cased.
     */
    List<Map> scriptEvents() {
        lines(scriptOut).collect { line ->
            List<String> parts = line.split('\\|', -1) as List
            Map<String, String> vars = parts.drop(1).findAll { it }.collectEntries { p -> int eq = p.indexOf('='); [p.substring(0, eq), p.substring(eq + 1)] }
            Map<String, String> details = vars.findAll { k, v -> !(k in ['VIGIL_EVENT', 'VIGIL_NODE', 'VIGIL_TIME']) }
                    .collectEntries { k, v -> [k.substring(6).toLowerCase(), v] }
            [type: vars.VIGIL_EVENT, node: vars.VIGIL_NODE, time: vars.VIGIL_TIME, details: details, args: parts[0]]
        }
    }

    /** The plugin's lines as events: {@code NAME TYPE NODE TIME}, then a tab and {@code k=v} per detail. */
    List<Map> pluginEvents() {
        lines(pluginOut).findAll { !it.endsWith(' closed') }.collect { line ->
            List<String> fields = line.split('\t') as List
            List<String> w = fields[0].split(' ') as List
            Map<String, String> details = fields.drop(1).collectEntries { kv ->
                int eq = kv.indexOf('='); [kv.substring(0, eq), kv.substring(eq + 1)]
            }
            [type: w[1], node: w[2], time: w[3], details: details]
        }
    }

    /**
     * The webhook receiver's requests as events: [type, node, time, details, id, verified]. The
     * details are the body's fields after {@code id}, {@code event}, {@code node} and {@code time}.
     */
    List<Map> webhookEvents() {
        lines(webhookRecord).collect { String l ->
            Map request = new JsonSlurper().parseText(l) as Map
            Map body = new JsonSlurper().parseText(request.body as String) as Map
            [type   : body.event, node: body.node, time: body.time, id: body.id, verified: request.verified, path: request.path,
             details: body.findAll { k, v -> !(k in ['id', 'event', 'node', 'time']) }, keys: body.keySet() as List]
        }
    }

    /**
     * The mail server's messages as events: [type, node, time, details, subject, envelope]. The
     * body lists the event's fields after its first line: {@code event}, {@code node}, {@code time},
     * then the details.
     */
    List<Map> mailEvents() {
        mailServer.messages().collect { Map m ->
            MailServers.Received mail = m.message as MailServers.Received
            Map<String, String> facts = mail.facts()
            [type   : facts.event, node: facts.node, time: facts.time, subject: mail.header('Subject'), first: mail.body.readLines()[0],
             details: facts.findAll { k, v -> !(k in ['event', 'node', 'time']) }, envelope: m.subMap('mail_from', 'rcpt_to', 'tls', 'helo')]
        }
    }

    /** The subject the mail notifier gives an event of this spec (plugins/README.md, the mail notifier's table). */
    static String mailSubject(Map e) {
        Map d = e.details
        String state = d.to == 'STOP' ? 'Stopping' : "Entering ${d.to} state"
        String s
        switch (e.type) {
            case 'vrrp.instance': s = "VRRP Instance ${d.instance} - ${state}"; break
            case 'vrrp.group': s = "VRRP Group ${d.group} - ${state}"; break
            case ~/real_server\..*/: s = "Realserver ${d.real_server} of virtual server ${d.virtual_server} - ${d.to}"; break
            case ~/quorum\..*/: s = "Virtualserver ${d.virtual_server} - ${d.to}"; break
            case 'tracker': s = "Tracker ${d.tracker} - ${d.to}"; break
            case 'daemon.start': s = 'Vigil - Starting'; break
            case 'daemon.stop': s = 'Vigil - Stopping'; break
            case 'daemon.reload': s = "Vigil - Reload ${d.result}"; break
            default: s = "Event ${e.type}"
        }
        "[${e.node}] ${s}".toString()
    }

    /** An event as the notifiers are compared: type, node, time to the millisecond, every detail. */
    static List same(Map e) {
        [e.type, e.node, Instant.parse(e.time as String).truncatedTo(ChronoUnit.MILLIS), e.details as Map]
    }

    /** An event as the list compares it: its type and the details that identify it. */
    static String signature(Map e) {
        Map d = e.details
        switch (e.type) {
            case 'vrrp.instance': return "vrrp.instance ${d.instance} ${d.from}->${d.to}"
            case 'vrrp.group': return "vrrp.group ${d.group} ${d.from}->${d.to}"
            case ~/real_server\..*/: return "${e.type} ${d.real_server} of ${d.virtual_server} ${d.from}->${d.to}"
            case ~/quorum\..*/: return "${e.type} ${d.virtual_server} ${d.from}->${d.to}"
            case 'tracker': return "tracker ${d.tracker} ${d.from}->${d.to} (${d.instances})"
            case 'daemon.reload': return "daemon.reload ${d.result}"
            default: return e.type
        }
    }

    /** Waits until {@code seen} holds for the events of every notifier. */
    void awaitAll(String what, Closure<Boolean> seen) {
        NetnsLab.waitFor(Duration.ofSeconds(30), "${what}\n--- script notifier:\n${-> lines(scriptOut).join('\n')}" +
                "\n--- plugin notifier:\n${-> lines(pluginOut).join('\n')}\n--- webhook receiver:\n${-> lines(webhookRecord).join('\n')}" +
                "\n--- mail server:\n${-> mailServer.messages()*.message*.header('Subject').join('\n')}\n--- lb log:\n${-> lb.logText()}") {
            [scriptEvents(), pluginEvents(), webhookEvents(), mailEvents()].every { List<Map> events -> seen(events.collect { signature(it) }) }
        }
    }

    def 'start: daemon.start, VI_1 and G1 to BACKUP then MASTER, the script tracker\'s first result'() {
        expect:
        lb.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(20))
        awaitAll('start events') { List<String> s ->
            s.containsAll(['daemon.start', 'vrrp.instance VI_1 INIT->BACKUP', 'vrrp.group G1 INIT->BACKUP',
                           'vrrp.instance VI_1 BACKUP->MASTER', 'vrrp.group G1 BACKUP->MASTER',
                           'tracker script chk_maintenance INIT->OK (VI_1)'])
        }
    }

    def 'a keepalived peer with a higher priority takes VI_1 over: MASTER -> BACKUP'() {
        when:
        kp = new KeepalivedNode(lab, 'kp', """\
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 78
                priority 150
                version 3
                advert_int 0.2
                virtual_ipaddress {
                    ${VIP}/24
                }
            }
            """.stripIndent()).start()

        then:
        awaitAll('preempted') { List<String> s ->
            s.containsAll(['vrrp.instance VI_1 MASTER->BACKUP', 'vrrp.group G1 MASTER->BACKUP'])
        }
    }

    def 'the tracked script fails: tracker OK -> FAILED'() {
        when:
        Files.writeString(flag, 'on\n')

        then:
        awaitAll('tracker failed') { List<String> s -> s.contains('tracker script chk_maintenance OK->FAILED (VI_1)') }
    }

    def 'the real server stops and starts: real_server.down and quorum.down, then real_server.up and quorum.up'() {
        when:
        server.destroy()
        server.waitFor()

        then:
        awaitAll('down') { List<String> s ->
            s.containsAll(["real_server.down ${RS} of ${VS} UP->DOWN".toString(), "quorum.down ${VS} UP->DOWN".toString()])
        }

        when:
        server = httpServer()

        then:
        awaitAll('up') { List<String> s ->
            s.containsAll(["real_server.up ${RS} of ${VS} DOWN->UP".toString(), "quorum.up ${VS} DOWN->UP".toString()])
        }
    }

    def 'a reload that changes nothing is one daemon.reload and nothing else'() {
        when:
        lb.signal('HUP')

        then:
        awaitAll('reload') { List<String> s -> s.contains('daemon.reload applied') }
    }

    def 'the stop: daemon.stop and VI_1 STOP; each notifier got every event once, none missing, none twice, with its fields'() {
        when:
        lb.signal('TERM')
        int exit = lb.awaitExit(Duration.ofSeconds(20))
        List<Map> byScript = scriptEvents()
        List<Map> byPlugin = pluginEvents()
        List<Map> byWebhook = webhookEvents()
        List<Map> byMail = mailEvents()
        List<String> expected = [
                'daemon.start',
                'vrrp.instance VI_1 INIT->BACKUP', 'vrrp.group G1 INIT->BACKUP',
                'vrrp.instance VI_1 BACKUP->MASTER', 'vrrp.group G1 BACKUP->MASTER',
                'tracker script chk_maintenance INIT->OK (VI_1)',
                'vrrp.instance VI_1 MASTER->BACKUP', 'vrrp.group G1 MASTER->BACKUP',
                'tracker script chk_maintenance OK->FAILED (VI_1)',
                "real_server.down ${RS} of ${VS} UP->DOWN".toString(), "quorum.down ${VS} UP->DOWN".toString(),
                "real_server.up ${RS} of ${VS} DOWN->UP".toString(), "quorum.up ${VS} DOWN->UP".toString(),
                'daemon.reload applied',
                'daemon.stop', 'vrrp.instance VI_1 BACKUP->STOP',
        ]

        then:
        exit == 0

        and: 'every notifier: exactly the expected events, each once'
        byScript.collect { signature(it) }.sort() == expected.sort()
        byPlugin.collect { signature(it) }.sort() == expected.sort()
        byWebhook.collect { signature(it) }.sort() == expected.sort()
        byMail.collect { signature(it) }.sort() == expected.sort()

        and: 'in the order they happened (the daemon.start before, the stop after everything else)'
        byPlugin.collect { signature(it) } == byScript.collect { signature(it) }
        byWebhook.collect { signature(it) } == byScript.collect { signature(it) }
        byMail.collect { signature(it) } == byScript.collect { signature(it) }
        signature(byPlugin.first()) == 'daemon.start'

        and: 'every type the daemon emits today is there'
        (byPlugin*.type as Set) == FIELDS.keySet()

        and: 'the webhook: one request per event (no id twice), each signed, its fields in their documented order'
        byWebhook*.id.unique(false).size() == expected.size()
        byWebhook.every { it.verified == true && it.path == '/hook' }
        byWebhook.every { e -> e.keys == ['id', 'event', 'node', 'time'] + FIELDS[e.type] }

        and: 'the mail: one message per event, its subject and first line naming it, to the configured recipient'
        byMail.every { e -> e.subject == mailSubject(e) }
        byMail.every { e -> e.first ==~ /=> .+ <=/ }
        byMail.every { e -> e.envelope == [mail_from: 'vigil@lb-node.vigil.test', rcpt_to: ['ops@vigil.test'], tls: 'no', helo: 'lb-node.vigil.test'] }
        byMail.every { e -> (e.details as Map).keySet() as List == FIELDS[e.type] }

        and: 'each event has the node, a time within the run, and exactly the documented fields'
        Instant now = Instant.now()
        [byScript, byPlugin, byWebhook, byMail].every { events ->
            events.every { e ->
                Instant t = Instant.parse(e.time as String)
                e.node == 'lb-node' && !t.isBefore(begun) && !t.isAfter(now) &&
                        ((e.details as Map).keySet() as Set) == (FIELDS[e.type] as Set)
            }
        }
        // the plugin gets the fields in their documented order (the environment is sorted by name)
        byPlugin.every { e -> (e.details as Map).keySet() as List == FIELDS[e.type] }
        byPlugin.find { it.type == 'daemon.start' }.details.config == lb.config.toString()
        byPlugin.find { it.type == 'daemon.stop' }.details.reason == 'SIGTERM'
        byPlugin.find { it.type == 'real_server.down' }.details.reason.startsWith('TCP_CHECK')
        // every notifier was given the same events: time (to the webhook's milliseconds) and details, value for value
        [byScript, byWebhook, byMail].every { events -> events.collect { same(it) } == byPlugin.collect { same(it) } }

        and: 'the script notifier got keepalived\'s four arguments for VRRP events, none for the others'
        byScript.findAll { it.type == 'vrrp.instance' }*.args ==
                byScript.findAll { it.type == 'vrrp.instance' }.collect { "INSTANCE VI_1 ${it.details.to} ${it.details.priority}".toString() }
        byScript.findAll { it.type == 'vrrp.group' }*.args.every { it ==~ /GROUP G1 (BACKUP|MASTER) 0/ }
        byScript.findAll { !it.type.startsWith('vrrp.') }*.args.every { it == '' }

        and: 'the plugin\'s sink was closed at the stop'
        lines(pluginOut).last() == 'by-plugin closed'
    }

    /** The third party's notifier: type "recorder", one line per event to the block's file. */
    static void recorderPlugin(Path pluginsDir) {
        String source = '''\
            package t.recorder;

            import dev.vigil.api.*;
            import java.nio.charset.StandardCharsets;
            import java.nio.file.*;
            import java.util.*;

            @org.pf4j.Extension
            public class Recorder implements Notifier {
                public Set<String> types() {
                    return Set.of("recorder");
                }

                public List<ConfigProblem> validate(ConfigBlock block) {
                    return block.line("file").isPresent() ? List.of()
                            : List.of(ConfigProblem.error(block.location(), "a recorder needs a file"));
                }

                public Sink create(NotifierContext ctx) {
                    Path file = Path.of(ctx.config().line("file").get().arguments().get(0));
                    return new Sink() {
                        public void deliver(NotifierEvent e) throws Exception {
                            StringBuilder d = new StringBuilder();
                            e.details().forEach((k, v) -> d.append('\\t').append(k).append('=').append(v));
                            write(ctx.name() + " " + e.type() + " " + e.node() + " " + e.time() + d + "\\n");
                        }

                        public void close() throws Exception {
                            write(ctx.name() + " closed\\n");
                        }

                        private void write(String line) throws Exception {
                            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        }
                    };
                }
            }
            '''.stripIndent()
        TestPlugins.zip(pluginsDir, 'recorder-notifier', ['t.recorder.Recorder': source], ['plugin.version': '1.0.0'])
    }
}
