package dev.vigil.api

import spock.lang.Specification

import java.util.concurrent.CompletableFuture

/** The API's values: immutable, validated, and printing the way diagnostics and logs use them. */
class ApiValuesSpec extends Specification {

    static final Location AT = new Location('/etc/keepalived/keepalived.conf', 12, 9)

    def 'a location prints as file:line:col and refuses positions that do not exist'() {
        expect:
        AT.toString() == '/etc/keepalived/keepalived.conf:12:9'

        when:
        new Location('k.conf', 0, 1)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'line: 0 (expected: >= 1)'
    }

    def 'a block finds its lines, the last of a repeated option wins, and arguments carry their locations'() {
        given:
        def url1 = new ConfigLine('url', new Location('k', 2, 5), [], [], [new ConfigLine('path', new Location('k', 3, 9), ['/a'], [new Location('k', 3, 14)], [])])
        def url2 = new ConfigLine('url', new Location('k', 5, 5), [], [], [])
        def t1 = new ConfigLine('connect_timeout', new Location('k', 6, 5), ['3'], [new Location('k', 6, 21)], [])
        def t2 = new ConfigLine('connect_timeout', new Location('k', 7, 5), ['5'], [new Location('k', 7, 21)], [])
        def block = new ConfigBlock('HTTP_GET', new Location('k', 1, 1), [url1, url2, t1, t2])

        expect:
        block.lines('url') == [url1, url2]
        block.line('connect_timeout').get().argument(0).get() == '3'
        block.last('connect_timeout').get().argument(0).get() == '5'
        block.line('nothing').isEmpty()
        url1.child('path').get().locationOf(0).toString() == 'k:3:14'
        url1.child('path').get().locationOf(1).toString() == 'k:3:9'
        t1.argument(1).isEmpty()
    }

    def 'values are immutable copies'() {
        given:
        def args = ['a']
        def line = new ConfigLine('x', AT, args, [AT], [])
        args << 'b'

        when:
        line.arguments() << 'c'

        then:
        thrown(UnsupportedOperationException)
        line.arguments() == ['a']
    }

    def 'a line needs one location per argument'() {
        when:
        new ConfigLine('x', AT, ['a', 'b'], [AT], [])

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'argumentLocations: 1 (expected: one per argument, 2)'
    }

    def 'a result says whether it passed, and prints its code first'() {
        expect:
        CheckResult.of(status, 'why').pass() == pass
        CheckResult.of(status, 'why').toString() == "${status} why".toString()

        where:
        status                        || pass
        CheckResult.Status.L4OK       || true
        CheckResult.Status.L7OK       || true
        CheckResult.Status.L4TOUT     || false
        CheckResult.Status.L4CON      || false
        CheckResult.Status.L7TOUT     || false
        CheckResult.Status.L7RSP      || false
        CheckResult.Status.PROCERR    || false
        CheckResult.Status.PLUGINERR  || false
    }

    def 'a result may set a weight, never a negative one'() {
        expect:
        CheckResult.of(CheckResult.Status.L4OK, 'exit 7').withWeight(5).toString() == 'L4OK exit 7 (weight 5)'

        when:
        CheckResult.of(CheckResult.Status.L4OK, 'x').withWeight(-1)

        then:
        thrown(IllegalArgumentException)
    }

    def 'a probe is a lambda: run() is its only abstract method, close() does nothing unless overridden'() {
        given:
        Probe p = { CompletableFuture.completedFuture(CheckResult.of(CheckResult.Status.L4OK, 'ok')) } as Probe

        when:
        p.close()

        then:
        p.run().toCompletableFuture().get().pass()
    }

    def 'problems are errors or warnings at a location'() {
        expect:
        ConfigProblem.error(AT, 'bad').severity() == ConfigProblem.Severity.ERROR
        ConfigProblem.warning(AT, 'odd') == new ConfigProblem(ConfigProblem.Severity.WARNING, AT, 'odd')
        CheckTarget.of('rs', new InetSocketAddress('127.0.0.1', 80)).bindAddress() == null
    }
}
