package dev.vigil.plugin.tcp

import dev.vigil.plugin.testkit.CheckPluginSpecification

import java.nio.channels.SocketChannel
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The TCP_CHECK plugin as the daemon runs it: the zip this build made, dropped into a temporary
 * plugins directory and loaded by the real host, its probes run by the real engine on the shared
 * epoll loops against real listeners on loopback.
 */
class TcpCheckPluginSpec extends CheckPluginSpecification {

    /** A TCP listener on loopback that accepts and closes; records who connected. */
    class Listener implements Closeable {
        final ServerSocket socket
        final List<InetSocketAddress> peers = new CopyOnWriteArrayList<>()

        Listener(String address, int port = 0, int backlog = 50, boolean accepting = true) {
            socket = new ServerSocket()
            socket.reuseAddress = true
            socket.bind(new InetSocketAddress(address, port), backlog)
            listeners << this
            if (accepting) {
                Thread.startDaemon {
                    while (!socket.closed) {
                        try {
                            Socket s = socket.accept()
                            peers << (InetSocketAddress) s.remoteSocketAddress
                            s.close()
                        } catch (IOException ignored) {
                        }
                    }
                }
            }
        }

        int port() {
            socket.localPort
        }

        @Override
        void close() {
            socket.close()
        }
    }

    /** Starts the engine on {@code checker} (the TCP_CHECK block's lines) of real server 127.0.0.1:{@code port}. */
    void run(int port, String checker) {
        start(keepalivedConf(block('TCP_CHECK', checker), "127.0.0.1 ${port}"))
    }

    def 'the zip this build made loads as plugin check-tcp, providing TCP_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['TCP_CHECK'] as Set
        with(host.plugins()[0]) {
            id() == 'check-tcp'
            state() == 'STARTED'
            provider() == 'Vigil'
            keywords() == ['TCP_CHECK']
            version() == System.getProperty('vigil.pluginZip').replaceAll(/.*check-tcp-(.*)\.zip/, '$1')
        }
        host.checker('TCP_CHECK').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a listener that goes away and comes back: down after fall failed checks of retry+1 attempts, up after rise passes'() {
        given:
        def listener = new Listener('127.0.0.1')
        int port = listener.port()

        when: 'up and passing'
        run(port, '''\
            connect_timeout 1
            delay_loop 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
            fall 2
            rise 3''')
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /connected to 127\.0\.0\.1:\d+ in [0-9.]+ ms/

        when: 'the listener goes away'
        listener.close()
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks of two attempts each: four refusals in a row, right after a pass'
        runBefore('DOWN', 'L4CON') == [4, 'L4OK']
        details[events.indexOf('L4CON')] == "connection refused (127.0.0.1:${port})".toString()

        when: 'it comes back on the same port'
        listeners << new Listener('127.0.0.1', port)
        await('the real server up') { events.contains('UP') }

        then: 'three passes in a row bring it up'
        runBefore('UP', 'L4OK') == [3, 'L4CON']
        events.count('DOWN') == 1
    }

    def 'connect_ip and connect_port pick what is probed; bindto and bind_port where the probe comes from'() {
        given:
        def listener = new Listener('127.0.0.1')
        int bindPort = freePort()

        when: 'the real server\'s own port is closed, connect_port names the listener'
        run(freePort(), """\
            connect_ip 127.0.0.1
            connect_port ${listener.port()}
            bindto 127.0.0.2
            bind_port ${bindPort}
            delay_loop 0.2
            warmup 0""")
        await('three passes') { events.count('L4OK') >= 3 }

        then:
        !events.contains('L4CON')
        listener.peers.size() >= 3
        listener.peers.every { it.address.hostAddress == '127.0.0.2' && it.port == bindPort }
    }

    def 'a listener whose accept queue is full drops the connection: no answer within connect_timeout is L4TOUT'() {
        given: 'a listener that never accepts, its one-slot queue filled'
        def listener = new Listener('127.0.0.1', 0, 1, false)
        List<SocketChannel> fillers = []
        (1..4).each {
            def ch = SocketChannel.open()
            ch.configureBlocking(false)
            ch.connect(new InetSocketAddress('127.0.0.1', listener.port()))
            fillers << ch
        }
        Thread.sleep(200)
        listeners.addAll(fillers)

        when:
        run(listener.port(), '''\
            connect_timeout 0.3
            delay_loop 0.5
            retry 0
            warmup 0''')
        await('a timeout taking the real server down') { events.contains('DOWN') }

        then:
        events[0..1] == ['L4TOUT', 'DOWN']
        details[0] == "no connection to 127.0.0.1:${listener.port()} within 300 ms".toString()
    }
}
