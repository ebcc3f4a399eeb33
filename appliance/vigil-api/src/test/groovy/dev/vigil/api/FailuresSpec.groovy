package dev.vigil.api

import io.netty.bootstrap.Bootstrap
import io.netty.channel.ChannelInboundHandlerAdapter
import io.netty.channel.ChannelOption
import io.netty.channel.ConnectTimeoutException
import io.netty.channel.MultiThreadIoEventLoopGroup
import io.netty.channel.nio.NioIoHandler
import io.netty.channel.socket.nio.NioSocketChannel
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification

import java.util.concurrent.CancellationException
import java.util.concurrent.TimeUnit

/** The words of a failed socket: Netty's decoration gone, the address as keepalived logs it. */
class FailuresSpec extends Specification {

    static final InetSocketAddress TO = new InetSocketAddress(InetAddress.getByName('10.0.0.2'), 80)

    @Shared
    @AutoCleanup('shutdownGracefully')
    MultiThreadIoEventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())

    def 'reason keeps the kernel\'s words, lower case, without the call or the address Netty adds'() {
        expect:
        Failures.reason(cause) == words

        where:
        cause                                                                                           || words
        new ConnectException('finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:80') || 'connection refused'
        new ConnectException('Connection refused: /127.0.0.1:80')                                       || 'connection refused'
        new IOException('sendToAddress(..) failed: Network is unreachable')                             || 'network is unreachable'
        new IOException('Broken pipe')                                                                  || 'broken pipe'
        new IOException((String) null)                                                                  || 'ioexception'
        null                                                                                            || 'unknown error'
    }

    def 'show writes the address as given, IPv6 in brackets, never a looked-up name'() {
        expect:
        Failures.show(address) == text

        where:
        address                                                           || text
        TO                                                                || '10.0.0.2:80'
        new InetSocketAddress(InetAddress.getByName('2001:db8::2'), 443)  || '[2001:db8:0:0:0:0:0:2]:443'
        InetSocketAddress.createUnresolved('redis.example', 6379)         || 'redis.example:6379'
    }

    def 'a connect that fails is L4TOUT on the timeout and L4CON otherwise, each saying where'() {
        expect:
        with(Failures.connectFailed(cause, TO, bind, 3000)) {
            status() == code
            detail() == words
            weight().empty
        }

        where:
        cause                                                     | bind                                    || code                       | words
        new ConnectTimeoutException('connection timed out')      | null                                    || CheckResult.Status.L4TOUT  | 'no connection to 10.0.0.2:80 within 3000 ms'
        new BindException('Address already in use')              | new InetSocketAddress('127.0.0.2', 5000) || CheckResult.Status.L4CON   | 'cannot bind to 127.0.0.2:5000: address already in use'
        new BindException('Address already in use')              | null                                    || CheckResult.Status.L4CON   | 'connect to 10.0.0.2:80 failed: address already in use'
        new NoRouteToHostException('No route to host')           | null                                    || CheckResult.Status.L4CON   | 'no route to host (10.0.0.2:80)'
        new CancellationException()                              | null                                    || CheckResult.Status.L4CON   | 'connect to 10.0.0.2:80 cancelled'
        new IOException('Connection reset by peer')              | null                                    || CheckResult.Status.L4CON   | 'connect to 10.0.0.2:80 failed: connection reset by peer'
    }

    def 'a real refused connect on loopback reads as the kernel said it'() {
        given: 'a port nobody listens on'
        int port = new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
        def to = new InetSocketAddress(InetAddress.getByName('127.0.0.1'), port)

        when:
        def connect = new Bootstrap().group(loop).channel(NioSocketChannel)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(to)
        connect.await(5, TimeUnit.SECONDS)

        then:
        !connect.success
        with(Failures.connectFailed(connect.cause(), to, null, 2000)) {
            status() == CheckResult.Status.L4CON
            detail() == "connection refused (127.0.0.1:${port})".toString()
        }
    }
}
