package dev.vigil.plugin.webhook

import dev.vigil.api.ConfigBlock
import dev.vigil.api.ConfigLine
import dev.vigil.api.Location
import dev.vigil.api.Notifier
import dev.vigil.api.NotifierEvent
import groovy.json.JsonSlurper
import org.pf4j.DefaultPluginManager
import org.pf4j.PluginManager
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * The webhook notifier against real HTTP receivers: {@code receiver.py} run by python3 (Debian's),
 * on loopback or in a network namespace of its own reached over a veth pair, which records what it
 * got and verifies the signature with Python's own hmac. {@code validate} is tested on blocks built
 * from the API's records; the zip the build made is loaded by PF4J as the daemon loads it.
 */
class WebhookNotifierSpec extends Specification {

    static final String SECRET = 's3cret'
    /** The namespace the receiver runs in, and the veth pair to it: 10.216.16.1 here, .2 there. */
    static final String NETNS = 'h16-wh'
    static final String HERE = 'h16-wh0'
    static final String THERE = 'h16-wh1'
    static final String NETNS_ADDRESS = '10.216.16.2'

    @TempDir
    Path dir
    final List<Closeable> closing = []

    def cleanup() {
        closing.reverse()*.close()
    }

    // --- fixtures --------------------------------------------------------------------------------

    /** A line at {@code row}: keyword at column 5, arguments at 20, 40, ... */
    static ConfigLine line(int row, String keyword, List<String> args = [], List<ConfigLine> children = []) {
        new ConfigLine(keyword, new Location('n.conf', row, 5), args,
                (0..<args.size()).collect { new Location('n.conf', row, 20 + 20 * it) }, children)
    }

    /** {@code vigil_notifier ops-hook { type webhook; LINES }}, the block at 1:1. */
    static ConfigBlock block(List<ConfigLine> lines) {
        new ConfigBlock('vigil_notifier', new Location('n.conf', 1, 1), [line(2, 'type', ['webhook'])] + lines)
    }

    /** A block of {@code url} lines for {@code urls} and the lines {@code text} holds ("keyword arg arg" each). */
    static ConfigBlock block(List<String> urls, String text) {
        int row = 3
        List<ConfigLine> lines = urls.collect { line(row++, 'url', [it]) }
        text.readLines()*.trim().findAll { it }.each { String l ->
            List<String> words = l.split(/\s+/) as List
            lines << line(row++, words[0], words.drop(1))
        }
        block(lines)
    }

    static List<String> problems(List<ConfigLine> lines) {
        new WebhookNotifier().validate(block(lines)).collect { "${it.severity()} ${it.location()} ${it.message()}".toString() }
    }

    static NotifierEvent transition(Map<String, String> details = [instance: 'VI_1', from: 'BACKUP', to: 'MASTER',
                                                                    priority: '100', cause: 'master down timer']) {
        new NotifierEvent(NotifierEvent.VRRP_INSTANCE, 'lb-1', Instant.parse('2026-11-30T10:40:41.123456789Z'), details)
    }

    /** A sink of the block, closed after the feature, with the context whose log it writes. */
    Tuple2<Notifier.Sink, TestContext> newSink(ConfigBlock block, Duration timeout = Duration.ofSeconds(10)) {
        assert new WebhookNotifier().validate(block).empty
        TestContext context = new TestContext(block, timeout)
        Notifier.Sink sink = new WebhookNotifier().create(context)
        closing << ({ sink.close() } as Closeable)
        new Tuple2<>(sink, context)
    }

    Receiver receiver(Map options = [:]) {
        Receiver r = new Receiver(dir, options)
        closing << r
        r
    }

    /** How long {@code action} took, in seconds, and what it threw (null if nothing). */
    static Tuple2<Double, Throwable> timed(Closure action) {
        long start = System.nanoTime()
        Throwable thrown = null
        try {
            action()
        } catch (Throwable t) {
            thrown = t
        }
        new Tuple2<>((System.nanoTime() - start) / 1e9 as double, thrown)
    }

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    static boolean python() {
        if (Files.isExecutable(Path.of(Receiver.PYTHON))) {
            return true
        }
        System.err.println("*** SKIPPING webhook receiver spec: ${Receiver.PYTHON} is not installed ***")
        false
    }

    /**
     * Root, python3 and a working {@code ip netns}; otherwise says so loudly and skips, or fails when
     * the build demands every privileged spec ({@code -Dvigil.requireNetns=true}).
     */
    static boolean netnsUsable() {
        List<String> missing = []
        if (['id', '-u'].execute().text.trim() != '0') {
            missing << 'root (network namespaces need CAP_NET_ADMIN)'
        }
        if (!Files.isExecutable(Path.of(Receiver.PYTHON))) {
            missing << Receiver.PYTHON
        }
        if (missing.isEmpty()) {
            return true
        }
        System.err.println("*** SKIPPING webhook network-namespace spec: ${missing.join(', ')} missing ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
        }
        false
    }

    /** The namespace and veth pair, made afresh (a leftover of an interrupted run is removed first). */
    void netns() {
        removeNetns()
        sh('ip', 'netns', 'add', NETNS)
        closing << ({ removeNetns() } as Closeable)
        sh('ip', 'link', 'add', HERE, 'type', 'veth', 'peer', 'name', THERE)
        sh('ip', 'link', 'set', THERE, 'netns', NETNS)
        sh('ip', 'addr', 'add', '10.216.16.1/30', 'dev', HERE)
        sh('ip', 'link', 'set', HERE, 'up')
        sh('ip', '-n', NETNS, 'addr', 'add', NETNS_ADDRESS + '/30', 'dev', THERE)
        sh('ip', '-n', NETNS, 'link', 'set', THERE, 'up')
        sh('ip', '-n', NETNS, 'link', 'set', 'lo', 'up')
    }

    static void removeNetns() {
        // Deleting the namespace deletes its veth end, and with it the pair.
        ['ip', 'netns', 'del', NETNS].execute().waitFor()
        ['ip', 'link', 'del', HERE].execute().waitFor()
    }

    static String sh(String... cmd) {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor() == 0: "${cmd.join(' ')}: ${out}"
        out
    }

    // --- validation ------------------------------------------------------------------------------

    def 'a block of its own keywords and the host\'s is fine'() {
        expect:
        problems([line(3, 'url', ['http://10.9.0.100:8080/hook']), line(4, 'url', ['https://hooks.example.com/a?token=x']),
                  line(5, 'secret', [SECRET]), line(6, 'retries', ['0']), line(7, 'retry_delay', ['0.25']),
                  line(8, 'header', ['Authorization', 'Bearer', 'abc']), line(9, 'events', ['vrrp.instance']),
                  line(10, 'timeout', ['5'])]).empty
    }

    def 'each mistake is reported at the word it is about: #what'() {
        expect:
        problems([line(3, 'url', ['http://10.9.0.100/hook'])] + bad) == [expected]

        where:
        what                     | bad                                                     || expected
        'a url of another scheme'| line(4, 'url', ['ftp://10.9.0.100/hook'])               || 'ERROR n.conf:4:20 url "ftp://10.9.0.100/hook" has scheme ftp (expected: http://HOST[:PORT]/PATH or https://...)'
        'a url without a scheme' | line(4, 'url', ['10.9.0.100:8080/hook'])                || 'ERROR n.conf:4:20 url "10.9.0.100:8080/hook" has no scheme (expected: http://HOST[:PORT]/PATH or https://...)'
        'a url that is not one'  | line(4, 'url', ['http://10.9.0.100/a b'])               || 'ERROR n.conf:4:20 url "http://10.9.0.100/a b" is not a URL: Illegal character in path at character 20 (expected: http://HOST[:PORT]/PATH or https://...)'
        'a url without a host'   | line(4, 'url', ['http:///hook'])                        || 'ERROR n.conf:4:20 url "http:///hook" has no host, or one that is not a valid host name (expected: http://HOST[:PORT]/PATH)'
        'a url with credentials' | line(4, 'url', ['http://u:p@10.9.0.100/'])              || 'ERROR n.conf:4:20 url "http://u:p@10.9.0.100/" carries credentials, which are not sent (expected: a header line for them, such as header Authorization "Basic ...")'
        'two urls on a line'     | line(4, 'url', ['http://a/', 'http://b/'])              || 'ERROR n.conf:4:40 url takes one value (expected: url http://HOST[:PORT]/PATH)'
        'a url line without one' | line(4, 'url')                                          || 'ERROR n.conf:4:5 url needs a value (expected: url http://HOST[:PORT]/PATH)'
        'an empty secret'        | line(4, 'secret', [''])                                 || 'ERROR n.conf:4:20 secret is empty (expected: the key the receiver verifies X-Vigil-Signature with)'
        'retries in words'       | line(4, 'retries', ['three'])                           || 'ERROR n.conf:4:20 retries "three" (expected: a whole number from 0 to 10)'
        'too many retries'       | line(4, 'retries', ['11'])                              || 'ERROR n.conf:4:20 retries "11" (expected: a whole number from 0 to 10)'
        'a negative retry_delay' | line(4, 'retry_delay', ['-1'])                          || 'ERROR n.conf:4:20 retry_delay "-1" (expected: seconds, more than 0 and at most 3600, such as 1 or 0.5)'
        'a zero retry_delay'     | line(4, 'retry_delay', ['0'])                           || 'ERROR n.conf:4:20 retry_delay "0" (expected: seconds, more than 0 and at most 3600, such as 1 or 0.5)'
        'a retry_delay with unit'| line(4, 'retry_delay', ['1s'])                          || 'ERROR n.conf:4:20 retry_delay "1s" (expected: seconds, more than 0 and at most 3600, such as 1 or 0.5)'
        'a header without value' | line(4, 'header', ['X-Team'])                           || 'ERROR n.conf:4:5 header needs a name and a value (expected: header NAME VALUE, such as header Authorization "Bearer TOKEN")'
        'a header name with :'   | line(4, 'header', ['X-Team:', 'ops'])                   || 'ERROR n.conf:4:20 header name "X-Team:" is not an HTTP field name (expected: letters, digits and !#$%&\'*+-.^_`|~, RFC 9110 section 5.6.2)'
        'the signature header'   | line(4, 'header', ['X-Vigil-Signature', 'x'])           || 'ERROR n.conf:4:20 header X-Vigil-Signature is set by the webhook notifier itself (expected: another header)'
        'a header the JDK sets'  | line(4, 'header', ['Host', 'example.com'])              || 'ERROR n.conf:4:20 header Host cannot be set: the HTTP client refuses it (restricted header name: "Host")'
        'a control character'    | line(4, 'header', ['X-Team', 'a\u0001b'])               || 'ERROR n.conf:4:40 header X-Team value contains a control character (expected: printable characters, RFC 9110 section 5.5)'
        'a misspelt keyword'     | line(4, 'secert', [SECRET])                             || 'ERROR n.conf:4:5 unknown keyword "secert" in a webhook notifier (expected: url, secret, retries, retry_delay, header, or the host\'s type, events, timeout)'
        'a nested block'         | line(4, 'header', [], [line(5, 'name', ['X'])])         || 'ERROR n.conf:4:5 header opens a block (expected: one keyword per line, header VALUE)'
    }

    def 'a block without a url is refused at the block'() {
        expect:
        problems([line(3, 'secret', [SECRET])]) ==
                ['ERROR n.conf:1:1 a webhook notifier needs a url (expected: url http://HOST[:PORT]/PATH, one line per URL)']
    }

    def 'create refuses a block that validate refused, naming the first error'() {
        when:
        new WebhookNotifier().create(new TestContext(block([line(3, 'url', ['gopher://x/'])])))

        then:
        IllegalArgumentException e = thrown()
        e.message == 'n.conf:3:20: url "gopher://x/" has scheme gopher (expected: http://HOST[:PORT]/PATH or https://...)'
    }

    // --- the plugin as the daemon loads it ---------------------------------------------------------

    def 'the zip the build made loads in PF4J and provides the webhook type'() {
        given:
        Path zip = Path.of(System.getProperty('vigil.pluginZip'))
        assert Files.exists(zip): "the build did not make ${zip}"
        Path plugins = Files.createDirectories(dir.resolve('plugins'))
        Files.copy(zip, plugins.resolve(zip.fileName))
        PluginManager manager = new DefaultPluginManager(plugins)

        when:
        manager.loadPlugins()
        manager.startPlugins()
        List<Notifier> notifiers = manager.getExtensions(Notifier, 'notify-webhook')

        then:
        notifiers*.types() == [['webhook'] as Set]
        notifiers[0].class.classLoader != WebhookNotifier.classLoader

        cleanup:
        // stopPlugins() iterates the list that stopping changes (PF4J 3.15): one by one, as PluginHost does.
        manager?.stopPlugin('notify-webhook')
        manager?.unloadPlugins()
    }

    // --- delivery ----------------------------------------------------------------------------------

    @Requires({ netnsUsable() })
    def 'a receiver in another network namespace gets the JSON body and verifies its signature'() {
        given:
        netns()
        Receiver r = receiver(netns: NETNS, bind: NETNS_ADDRESS, port: 8080, secret: SECRET)
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url('/hook?token=t0k3n')], """
                secret ${SECRET}
                header X-Team ops on call
                """))
        NotifierEvent event = transition()

        when:
        sink.deliver(event)
        List<Map> got = r.requests()
        Map body = new JsonSlurper().parseText(got[0].body as String) as Map

        then: 'one POST, whose signature the receiver recomputed from the bytes it got'
        got.size() == 1
        got[0].path == '/hook?token=t0k3n'
        got[0].verified == true
        got[0].headers['x-vigil-signature'] ==~ /sha256=[0-9a-f]{64}/
        got[0].headers['content-type'] == 'application/json'
        got[0].headers['user-agent'] ==~ /Vigil\/\d+\.\d+\.\d+(-SNAPSHOT)?/
        got[0].headers['x-team'] == 'ops on call'

        and: 'the body names the event, the node, the time in UTC and the details, in that order'
        body.keySet() as List == ['id', 'event', 'node', 'time', 'instance', 'from', 'to', 'priority', 'cause']
        body.event == 'vrrp.instance'
        body.node == 'lb-1'
        body.time == '2026-11-30T10:40:41.123Z'
        body.subMap('instance', 'from', 'to', 'priority', 'cause') ==
                [instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: '100', cause: 'master down timer']
        body.id ==~ /[0-9a-f]{32}/
        body.id == WebhookPayload.id(event)

        and: 'nothing was retried, so nothing was logged'
        context.log.empty
    }

    @Requires({ python() })
    def 'a wrong secret is caught by the receiver, and another event gets another id'() {
        given:
        Receiver r = receiver(secret: SECRET)
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url()], 'secret not-the-secret'))

        when:
        sink.deliver(transition())
        sink.deliver(transition([instance: 'VI_1', from: 'MASTER', to: 'BACKUP', priority: '100', cause: 'higher priority']))
        List<Map> got = r.requests()

        then:
        got*.verified == [false, false]
        got.collect { new JsonSlurper().parseText(it.body as String).id }.unique().size() == 2
    }

    @Requires({ python() })
    def 'a receiver down at first gets the event after a retry, exactly once'() {
        given: 'nothing listens on the port yet'
        int port = freePort()
        def (Notifier.Sink sink, TestContext context) = newSink(block(["http://127.0.0.1:${port}/hook".toString()], """
                secret ${SECRET}
                retries 5
                retry_delay 0.5
                """))
        Receiver r = null

        when: 'the delivery starts, and the receiver starts once the first attempt has failed'
        Thread delivery = Thread.start { sink.deliver(transition()) }
        long deadline = System.nanoTime() + 5_000_000_000L
        while (!context.log.any { it.contains('retrying in') }) {
            assert System.nanoTime() < deadline: "no failed attempt logged: ${context.log}"
            Thread.sleep(5)
        }
        r = receiver(port: port, secret: SECRET)
        delivery.join(10_000)
        Thread.sleep(500)

        then: 'it failed with a refused connection first, then arrived once, signed'
        !delivery.alive
        context.log[0] ==~ /INFO vrrp\.instance at \S+ to http:\/\/127\.0\.0\.1:${port}\/hook: connection refused; retrying in 0\.5 s/
        context.log.last() ==~ /INFO vrrp\.instance at \S+ delivered to http:\/\/127\.0\.0\.1:${port}\/hook at attempt \d, after: connection refused.*/
        r.requests().size() == 1
        r.requests()[0].verified == true
    }

    @Requires({ netnsUsable() })
    def 'a receiver that takes the connection and never answers fails the delivery within the timeout'() {
        given:
        netns()
        Receiver r = receiver(netns: NETNS, bind: NETNS_ADDRESS, port: 8080, hang: true)
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url()], 'retries 3'), Duration.ofSeconds(2))

        when:
        def (double took, Throwable failure) = timed { sink.deliver(transition()) }
        println "hung receiver: deliver failed after ${String.format('%.3f', took)} s (timeout 2 s)"

        then: 'the request arrived, and the delivery gave up at the timeout, not later'
        r.requests().size() == 1
        failure instanceof IOException
        failure.message == "POST http://${NETNS_ADDRESS}:8080/hook: no answer within 2.0 s after 1 attempt in 2.0 s; " +
                'the delivery timeout (2.0 s) is over'
        took >= 1.95
        took < 2.3
    }

    @Requires({ python() })
    def 'a 4xx fails at once, without retries'() {
        given:
        Receiver r = receiver(answers: '400')
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url()], 'retries 3\nretry_delay 1'))

        when:
        def (double took, Throwable failure) = timed { sink.deliver(transition()) }

        then:
        failure.message ==~ /POST http:\/\/127\.0\.0\.1:${r.port}\/hook: HTTP 400 "status 400 from the receiver" after 1 attempt in 0\.\d s; not retried: the same request gets the same answer/
        took < 0.9
        r.requests().size() == 1
        context.log.empty
    }

    @Requires({ python() })
    def '#answers is retried with the very same bytes until it passes'() {
        given:
        Receiver r = receiver(answers: answers, secret: SECRET)
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url()], "secret ${SECRET}\nretry_delay 0.1"))

        when:
        sink.deliver(transition())
        List<Map> got = r.requests()

        then:
        got*.status == answers.split(',')*.toInteger()
        got*.body.unique().size() == 1
        got*.headers*.getAt('x-vigil-signature').unique().size() == 1
        got*.verified.every()
        context.log.count { it.contains('retrying in') } == got.size() - 1

        where:
        answers << ['503,503,204', '429,200', '500,502,504,201']
    }

    @Requires({ python() })
    def 'a receiver answering 503 for ever uses up the retries, and the reason says so'() {
        given:
        Receiver r = receiver(answers: '503')
        def (Notifier.Sink sink, TestContext context) = newSink(block([r.url()], 'retries 2\nretry_delay 0.1'))

        when:
        sink.deliver(transition())

        then:
        IOException e = thrown()
        String s = '"status 503 from the receiver"'
        e.message ==~ /POST http:\/\/127\.0\.0\.1:${r.port}\/hook: HTTP 503 ${s} after 3 attempts in 0\.\d s \(HTTP 503 ${s}, HTTP 503 ${s}, HTTP 503 ${s}\); retries 2 used/
        r.requests().size() == 3
    }

    @Requires({ python() })
    def 'the back-off doubles and is cut so that the delivery ends within the timeout'() {
        given: 'nothing ever listens'
        int port = freePort()
        def (Notifier.Sink sink, TestContext context) = newSink(block(["http://127.0.0.1:${port}/".toString()],
                'retries 10\nretry_delay 0.5'), Duration.ofSeconds(3))

        when:
        def (double took, Throwable failure) = timed { sink.deliver(transition()) }
        List<Double> delays = context.log.findResults { String l -> (l =~ /retrying in (\S+) s/).with { m -> m.find() ? m.group(1) as double : null } }
        println "back-off: ${delays} s, failed after ${String.format('%.3f', took)} s (timeout 3 s)"

        then: '0.5 s, 1 s, then (2 s being more than half of what is left) half of what is left each time, until too little is left'
        delays[0] == 0.5d
        delays[1] == 1.0d
        delays[2] >= 0.6d && delays[2] <= 0.8d
        (3..<delays.size()).every { delays[it] <= delays[it - 1] / 2 + 0.1d }
        delays.size() >= 5
        failure.message ==~ /POST http:\/\/127\.0\.0\.1:${port}\/: connection refused after \d+ attempts in 2\.\d s \((connection refused, )+connection refused\); the delivery timeout \(3\.0 s\) is over/
        took < 3.1
    }

    @Requires({ python() })
    def 'several URLs are delivered to each on its own, and a failure names the URL that failed'() {
        given:
        Receiver good = receiver()
        Receiver gone = receiver(answers: '404')
        Receiver slow = receiver(answers: '503,204')
        def (Notifier.Sink sink, TestContext context) = newSink(block([good.url('/a'), gone.url('/b'), slow.url('/c')], 'retry_delay 0.2'))

        when:
        sink.deliver(transition())

        then:
        IOException e = thrown()
        e.message ==~ /1 of 3 URLs failed: POST http:\/\/127\.0\.0\.1:${gone.port}\/b: HTTP 404 .*not retried.*/
        good.requests().size() == 1
        gone.requests().size() == 1
        slow.requests()*.status == [503, 204]
        [good, gone, slow].collect { it.requests()[0].body }.unique().size() == 1
    }

    @Requires({ python() })
    def 'several URLs that all take the event make a delivered event'() {
        given:
        Receiver a = receiver(secret: SECRET)
        Receiver b = receiver(secret: SECRET)
        def (Notifier.Sink sink, TestContext context) = newSink(block([a.url(), b.url()], "secret ${SECRET}"))

        when:
        sink.deliver(transition())

        then:
        noExceptionThrown()
        a.requests()*.verified == [true]
        b.requests()*.verified == [true]
    }

    def 'the body escapes what JSON needs escaped, and keeps the first four names for itself'() {
        when:
        Map body = new JsonSlurper().parseText(new String(WebhookPayload.json(
                new NotifierEvent('daemon.reload', 'lb "1"', Instant.parse('2026-01-02T03:04:05Z'),
                        [config: 'C:\\keepalived.conf', result: 'refused', reason: 'line 1\n\tbad \u0001', node: 'x']),
                'abc'), 'UTF-8')) as Map

        then:
        body == [id: 'abc', event: 'daemon.reload', node: 'lb "1"', time: '2026-01-02T03:04:05.000Z',
                 config: 'C:\\keepalived.conf', result: 'refused', reason: 'line 1\n\tbad \u0001', detail_node: 'x']
    }
}
