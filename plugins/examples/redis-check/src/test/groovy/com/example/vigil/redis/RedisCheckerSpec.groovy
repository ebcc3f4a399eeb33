package com.example.vigil.redis

import dev.vigil.api.CheckContext
import dev.vigil.api.CheckResult
import dev.vigil.api.CheckTarget
import dev.vigil.api.ConfigBlock
import dev.vigil.api.ConfigLine
import dev.vigil.api.Location
import io.netty.channel.EventLoop
import io.netty.channel.EventLoopGroup
import io.netty.channel.MultiThreadIoEventLoopGroup
import io.netty.channel.nio.NioIoHandler
import io.netty.channel.socket.DatagramChannel
import io.netty.channel.socket.SocketChannel
import io.netty.channel.socket.nio.NioDatagramChannel
import io.netty.channel.socket.nio.NioSocketChannel
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The example checker tested the way its third-party author can, with the API and Netty alone:
 * {@code validate} on blocks built from the API's records, and probes run on a Netty loop of the
 * spec's own against a real Redis server on loopback (Debian's {@code redis-server}, started here)
 * and against listeners that record what they get or never answer. The daemon's side (loading
 * the zip, scheduling, the forwarder) is tests/.../ThirdPartyPluginSpec.
 */
class RedisCheckerSpec extends Specification {

    static final String PASSWORD = 's3cret'

    @Shared EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())
    final List<Closeable> closing = []

    def cleanupSpec() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync()
    }

    def cleanup() {
        closing.reverse()*.close()
    }

    // --- validation ------------------------------------------------------------------------------

    /** A line at {@code row}, keyword at column 9, arguments at 20, 30, ... */
    static ConfigLine line(int row, String keyword, List<String> args = [], List<ConfigLine> children = []) {
        new ConfigLine(keyword, new Location('k.conf', row, 9), args,
                (0..<args.size()).collect { new Location('k.conf', row, 20 + 10 * it) }, children)
    }

    static ConfigBlock block(ConfigLine... lines) {
        new ConfigBlock('REDIS_CHECK', new Location('k.conf', 1, 5), lines as List)
    }

    static List<String> problems(ConfigLine... lines) {
        new RedisChecker().validate(block(lines)).collect { "${it.severity()} ${it.location()} ${it.message()}".toString() }
    }

    def 'a block of its own keywords and the shared options is fine'() {
        expect:
        problems(line(2, 'password', [PASSWORD]), line(3, 'expect', ['-LOADING Redis is loading the dataset in memory']),
                line(4, 'connect_timeout', ['1']), line(5, 'delay_loop', ['2']), line(6, 'rise', ['2'])).empty
        problems().empty
    }

    def 'each mistake is reported at the word it is about: #what'() {
        expect:
        problems(bad) == [expected]

        where:
        what                       | bad                                                   || expected
        'password without a value' | line(2, 'password')                                   || 'ERROR k.conf:2:9 password takes one argument, none given (expected: password SECRET; quote a value with spaces)'
        'password with two words'  | line(2, 'password', ['a', 'b'])                       || 'ERROR k.conf:2:30 password takes one argument (expected: password SECRET; quote a value with spaces)'
        'an empty password'        | line(2, 'password', [''])                             || 'ERROR k.conf:2:20 password is empty (expected: the server\'s requirepass or ACL password)'
        'a control character'      | line(2, 'password', ['a\tb'])                         || 'ERROR k.conf:2:20 password contains a control character (expected: printable characters)'
        'a block under password'   | line(2, 'password', ['x'], [line(3, 'y')])            || 'ERROR k.conf:2:9 password opens no block (expected: password SECRET)'
        'expect without a type'    | line(2, 'expect', ['PONG'])                           || 'ERROR k.conf:2:20 expect "PONG" (expected: a RESP simple string or error line of printable ASCII, at most 512 characters, such as +PONG or "-LOADING Redis is loading")'
        'expect of a bulk string'  | line(2, 'expect', ['$4'])                             || 'ERROR k.conf:2:20 expect "$4" (expected: a RESP simple string or error line of printable ASCII, at most 512 characters, such as +PONG or "-LOADING Redis is loading")'
        'expect of a lone +'       | line(2, 'expect', ['+'])                              || 'ERROR k.conf:2:20 expect "+" (expected: a RESP simple string or error line of printable ASCII, at most 512 characters, such as +PONG or "-LOADING Redis is loading")'
        'a misspelt keyword'       | line(2, 'pasword', ['x'])                             || 'WARNING k.conf:2:9 unknown keyword "pasword" in REDIS_CHECK is ignored (expected: password, expect or an option every checker takes)'
    }

    // --- probes ----------------------------------------------------------------------------------

    /** A context as the host makes one: the target 127.0.0.1:{@code port}, on the spec's loop. */
    CheckContext context(int port, ConfigBlock config, Duration timeout = Duration.ofSeconds(1)) {
        EventLoop loop = group.next()
        new CheckContext() {
            CheckTarget target() { CheckTarget.of('redis', new InetSocketAddress('127.0.0.1', port)) }
            ConfigBlock config() { config }
            Duration connectTimeout() { timeout }
            EventLoop eventLoop() { loop }
            Class<? extends SocketChannel> socketChannelType() { NioSocketChannel }
            Class<? extends DatagramChannel> datagramChannelType() { NioDatagramChannel }
            long nanoTime() { System.nanoTime() }
            System.Logger logger() { System.getLogger('redis') }
        }
    }

    /** One probe of a checker configured by {@code lines}, waited for. */
    CheckResult probe(int port, List<ConfigLine> lines, Duration timeout = Duration.ofSeconds(1)) {
        def p = new RedisChecker().create(context(port, block(lines as ConfigLine[]), timeout))
        try {
            p.run().toCompletableFuture().get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS)
        } finally {
            p.close()
        }
    }

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    /** A listener that keeps what the first client sends, and answers {@code reply} (or nothing) once it has {@code expecting} bytes. */
    ServerSocket listener(int expecting, String reply, List<String> received) {
        def server = new ServerSocket(0, 5, InetAddress.getByName('127.0.0.1'))
        closing << server
        Thread.startDaemon {
            try {
                Socket s = server.accept()
                closing << s
                byte[] buf = new byte[expecting]
                int n = 0
                while (n < expecting) {
                    int r = s.inputStream.read(buf, n, expecting - n)
                    if (r < 0) {
                        break
                    }
                    n += r
                }
                received << new String(buf, 0, n, 'ISO-8859-1')
                if (reply != null) {
                    s.outputStream.write(reply.getBytes('ISO-8859-1'))
                    s.outputStream.flush()
                    s.close()
                }
            } catch (IOException ignored) {
            }
        }
        server
    }

    def 'the commands on the wire: AUTH then PING, RESP arrays of bulk strings in one write'() {
        given:
        List<String> received = [].asSynchronized()
        String expected = '*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n*1\r\n$4\r\nPING\r\n'
        def server = listener(expected.length(), '+OK\r\n+PONG\r\n', received)

        when:
        CheckResult r = probe(server.localPort, [line(2, 'password', [PASSWORD])])

        then:
        received == [expected]
        r.status() == CheckResult.Status.L7OK
        r.detail() ==~ /PING answered \+PONG by 127\.0\.0\.1:\d+ in [0-9.]+ ms/
    }

    def 'without a password only PING goes out; a reply of another type fails at its first line'() {
        given:
        List<String> received = [].asSynchronized()
        def server = listener(14, '$4\r\nPONG\r\n', received)

        when:
        CheckResult r = probe(server.localPort, [])

        then:
        received == ['*1\r\n$4\r\nPING\r\n']
        r.status() == CheckResult.Status.L7RSP
        r.detail() == 'PING answered "$4" (expected +PONG)'
    }

    def 'a server that takes the commands and says nothing: L7TOUT at connect_timeout'() {
        given:
        def server = listener(14, null, [].asSynchronized())

        when:
        long start = System.nanoTime()
        CheckResult r = probe(server.localPort, [], Duration.ofMillis(300))
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)

        then:
        r.status() == CheckResult.Status.L7TOUT
        r.detail() == "no reply while waiting for the reply to PING from 127.0.0.1:${server.localPort} within 300 ms".toString()
        took >= 290 && took < 1000
    }

    def 'a server that hangs up: L7RSP; nobody listening: L4CON'() {
        given:
        def server = listener(14, '', [].asSynchronized())
        int closed = freePort()

        expect:
        probe(server.localPort, []).toString() == "L7RSP connection closed by 127.0.0.1:${server.localPort} while waiting for the reply to PING".toString()
        probe(closed, []).toString() == "L4CON connection refused (127.0.0.1:${closed})".toString()
    }

    // --- against Debian's redis-server -----------------------------------------------------------

    static boolean redisInstalled() {
        if (Files.isExecutable(Path.of('/usr/bin/redis-server'))) {
            return true
        }
        System.err.println('*** SKIPPING RedisCheckerSpec\'s real-server features: Debian\'s redis-server is not installed ***')
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException('vigil.requireNetns is set but redis-server is not installed')
        }
        false
    }

    /** A real Redis server on 127.0.0.1:{@code port} with a password, answering PING. */
    Process redis(int port) {
        Path dir = Files.createTempDirectory('redis-check-')
        Process p = new ProcessBuilder('/usr/bin/redis-server', '--bind', '127.0.0.1', '--port', "${port}".toString(),
                '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve('redis.log').toFile()).start()
        closing << ({ p.destroyForcibly(); p.waitFor(); dir.toFile().deleteDir() } as Closeable)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (true) {
            try {
                new Socket('127.0.0.1', port).close()
                return p
            } catch (IOException e) {
                assert System.nanoTime() < deadline: "redis-server did not listen on ${port}: ${Files.readString(dir.resolve('redis.log'))}"
                Thread.sleep(50)
            }
        }
    }

    @Requires({ RedisCheckerSpec.redisInstalled() })
    def 'a real Redis server: its password passes, a wrong one or none fails with what the server said, and so does another expect'() {
        given:
        int port = freePort()
        Process server = redis(port)

        expect:
        probe(port, [line(2, 'password', [PASSWORD])]).status() == CheckResult.Status.L7OK
        probe(port, []).toString() == 'L7RSP PING answered "-NOAUTH Authentication required." (expected +PONG)'
        probe(port, [line(2, 'password', ['wrong'])]).toString() ==
                'L7RSP AUTH answered "-WRONGPASS invalid username-password pair or user is disabled." (expected +OK)'
        probe(port, [line(2, 'password', [PASSWORD]), line(3, 'expect', ['+HELLO'])]).toString() ==
                'L7RSP PING answered "+PONG" (expected +HELLO)'
        probe(port, [line(2, 'password', ['old']), line(3, 'password', [PASSWORD])]).status() == CheckResult.Status.L7OK

        when: 'the server stops'
        server.destroy()
        server.waitFor()

        then:
        probe(port, [line(2, 'password', [PASSWORD])]).toString() == "L4CON connection refused (127.0.0.1:${port})".toString()
    }
}
