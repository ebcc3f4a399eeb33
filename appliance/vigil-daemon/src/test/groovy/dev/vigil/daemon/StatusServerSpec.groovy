package dev.vigil.daemon

import dev.vigil.daemon.forward.MemoryServices
import dev.vigil.daemon.forward.ServiceManager
import dev.vigil.kernel.forward.InMemoryForwarder
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** The local API over HTTP: status, the ipvsadm-style table, and real-server changes from loopback. */
class StatusServerSpec extends Specification {

    @TempDir
    Path dir

    final InMemoryForwarder forwarder = new InMemoryForwarder()
    @AutoCleanup
    ServiceManager manager = MemoryServices.manager(forwarder)
    @AutoCleanup
    StatusServer server
    ApiClient client

    def setup() {
        MemoryServices.configure(manager, dir)
        server = new StatusServer(new InetSocketAddress('127.0.0.1', 0), { [node: 'n1', forwarder: manager.status()] }, { manager })
        client = new ApiClient("127.0.0.1:${server.address().port}")
    }

    def 'an Error that ends the listener thread does not end the API: the watch listens again on the same port'() {
        given: "the server's own dispatcher thread is found and alive"
        int port = server.address().port
        Thread real = server.dispatcher()
        assert real != null && real.alive && real.name.startsWith('HTTP-Dispatcher')

        and: 'a thread that ends with an OutOfMemoryError stands in for it, as an exhausted heap ends the real one'
        def errors = new java.util.concurrent.atomic.AtomicInteger()
        Thread dying = new Thread({ throw new OutOfMemoryError('Java heap space (thrown by the spec)') }, 'HTTP-Dispatcher-spec')
        dying.setUncaughtExceptionHandler { t, e -> errors.incrementAndGet() }
        server.watchInstead(dying)

        when:
        dying.start()
        dying.join()
        long deadline = System.nanoTime() + 10_000_000_000L
        while (server.restarts() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(100)
        }
        def later = client.get('/status')

        then: 'the watch dropped the old server, listens again on the same port with a live dispatcher, and answers'
        server.restarts() == 1
        !real.alive
        server.address().port == port
        server.dispatcher() != null && server.dispatcher().alive && !server.dispatcher().is(real)
        later.statusCode() == 200
        later.body().contains('"node":"n1"')
    }

    def 'GET /services answers the table; ?stats the counters'() {
        when:
        def plain = client.get('/services')
        def stats = client.get('/services?stats=1')

        then:
        plain.statusCode() == 200
        plain.body().readLines()[3] == 'TCP  10.0.0.50:80 wrr'
        plain.body().readLines()[4].startsWith('  -> 10.0.0.2:8080                Masq    3')
        stats.statusCode() == 200
        stats.body().readLines()[1].startsWith('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes')
    }

    def 'POST /real-server takes a server down and reports what changed'() {
        when:
        def r = client.post('/real-server', [virtual: '10.0.0.50:80', real: '10.0.0.3:8080', state: 'down'])

        then:
        r.statusCode() == 200
        r.body() == 'real server [10.0.0.3]:8080 of [10.0.0.50]:tcp:80: up -> down\n'
        forwarder.current().services().values().first().destinations().keySet()*.address*.hostAddress == ['10.0.0.2']
        client.get('/status').body().contains('"[10.0.0.3]:8080 of [10.0.0.50]:tcp:80":"DOWN"')
    }

    def 'bad requests are refused with the reason'() {
        expect:
        with(client.post('/real-server', form)) {
            statusCode() == code
            body() == text
        }

        where:
        form                                                           || code | text
        [virtual: '10.0.0.50:80', real: '10.0.0.9', state: 'down']     || 404  | 'no real server 10.0.0.9 of 10.0.0.50:80 in the configuration\n'
        [virtual: '10.0.0.50:80', real: '10.0.0.3', state: 'sideways'] || 400  | 'state "sideways": expected up or down\n'
        [virtual: 'fwmark x', real: '10.0.0.3', state: 'up']           || 400  | 'fwmark "x" is not a number\n'
    }

    def 'only POST changes real servers, only GET reads'() {
        expect:
        client.get('/real-server').statusCode() == 405
        client.post('/services', [:]).statusCode() == 405
    }
}
