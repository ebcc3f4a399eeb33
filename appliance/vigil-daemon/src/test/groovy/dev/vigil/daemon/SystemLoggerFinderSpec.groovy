package dev.vigil.daemon

import spock.lang.Specification

/**
 * System.Logger lines (those of the kernel adapters) reach the daemon's log in its own format,
 * through the finder the JDK loads from META-INF/services.
 */
class SystemLoggerFinderSpec extends Specification {

    ByteArrayOutputStream bytes = new ByteArrayOutputStream()

    def setup() {
        Log.to(new PrintStream(bytes, true, 'UTF-8'))
    }

    def cleanup() {
        Log.to(System.out)
        Log.debug(Boolean.getBoolean('vigil.debug'))
    }

    List<String> lines() {
        bytes.toString('UTF-8').readLines()
    }

    def 'the JDK finds the daemon\'s finder'() {
        expect:
        System.LoggerFinder.loggerFinder instanceof SystemLoggerFinder
    }

    def 'a kernel adapter\'s warning is a WARN line of the daemon\'s log, the logger\'s name its subject, its parameters formatted'() {
        when:
        System.getLogger('dev.vigil.kernel.linux.NativeSocket')
                .log(System.Logger.Level.WARNING, 'close: {0}: {1} (errno {2})', 'VRRP socket', 'Bad file descriptor', 9)

        then:
        lines().size() == 1
        lines()[0] ==~ /\d{4}-\d\d-\d\dT\S+Z WARN dev\.vigil\.kernel\.linux\.NativeSocket: close: VRRP socket: Bad file descriptor \(errno 9\)/
    }

    def 'levels: #level is written as #written'() {
        given:
        Log.debug(false)

        when:
        System.getLogger('k').log(level, 'line')

        then:
        lines().collect { it.split(' ')[1] } == (written ? [written] : [])

        where:
        level                          | written
        System.Logger.Level.ERROR      | 'ERROR'
        System.Logger.Level.WARNING    | 'WARN'
        System.Logger.Level.INFO       | 'INFO'
        System.Logger.Level.DEBUG      | null
        System.Logger.Level.TRACE      | null
        System.Logger.Level.OFF        | null
    }

    def 'debug and trace lines are written when debugging is on'() {
        given:
        Log.debug(true)
        def logger = System.getLogger('dev.vigil.kernel.linux.NetlinkSocket')

        when:
        logger.log(System.Logger.Level.DEBUG, 'one')
        logger.log(System.Logger.Level.TRACE, { 'two' } as java.util.function.Supplier)

        then:
        logger.isLoggable(System.Logger.Level.DEBUG)
        lines().collect { it.split(' ', 2)[1] } == ['DEBUG dev.vigil.kernel.linux.NetlinkSocket: one',
                                                   'DEBUG dev.vigil.kernel.linux.NetlinkSocket: two']
    }

    def 'a throwable is appended to its message'() {
        when:
        System.getLogger('k').log(System.Logger.Level.ERROR, 'reading failed', new IOException('boom'))

        then:
        lines()[0].endsWith(' ERROR k: reading failed: java.io.IOException: boom')
    }
}
