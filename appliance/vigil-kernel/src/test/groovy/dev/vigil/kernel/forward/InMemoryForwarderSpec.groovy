package dev.vigil.kernel.forward

import dev.vigil.kernel.KernelException

class InMemoryForwarderSpec extends ForwarderContractSpec {
    InMemoryForwarder.Table table = new InMemoryForwarder.Table()
    VirtualService foreign = VirtualService.of(Service.of(ServiceKey.of(ip('203.0.113.1'), 25, Protocol.TCP), 'wlc'),
            [Destination.nat(ip('203.0.113.2'), 25)])

    @Override
    Forwarder newForwarder() { new InMemoryForwarder(table) }

    @Override
    void plantForeignRule() { table.addForeign(foreign) }

    @Override
    boolean foreignRuleIntact() { table.foreign() == DesiredState.of(foreign) }

    @Override
    Forwarder.FlushScope flushScope() { Forwarder.FlushScope.EVERYTHING }

    def "each apply that changes something is one batch; an idempotent one is none"() {
        given:
        def f = forwarder()

        when:
        f.apply(twoServices())
        f.apply(twoServices())
        f.apply(twoServices().without(dns))

        then:
        table.batches() == 2
    }

    def "a desired service that collides with a foreign one is refused before any change"() {
        given:
        plantForeignRule()
        def f = forwarder()

        when:
        f.apply(twoServices().with(foreign))

        then:
        def e = thrown(KernelException)
        e.errno() == 17
        f.current().isEmpty()
        foreignRuleIntact()
    }

    def "counted traffic shows per destination and summed per service; a removed destination's counters go"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def d1 = new DestinationKey(ip('198.51.100.1'), 8080)
        def d2 = new DestinationKey(ip('198.51.100.2'), 8080)
        table.count(web, d1, new ForwarderStats.Counters(1, 10, 1000))
        table.count(web, d2, new ForwarderStats.Counters(2, 20, 2000))

        expect:
        f.stats().services()[web].destinations()[d1] == new ForwarderStats.Counters(1, 10, 1000)
        f.stats().services()[web].total() == new ForwarderStats.Counters(3, 30, 3000)

        when:
        f.apply(twoServices().with(webPool(['198.51.100.2': 3])))
        f.apply(twoServices())

        then:
        f.stats().services()[web].destinations()[d1] == ForwarderStats.Counters.ZERO
        f.stats().services()[web].destinations()[d2] == new ForwarderStats.Counters(2, 20, 2000)
    }

    def "counters carry both directions and the connection gauges; what one side does not count stays unknown in a sum"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def d1 = new DestinationKey(ip('198.51.100.1'), 8080)
        def d2 = new DestinationKey(ip('198.51.100.2'), 8080)
        table.count(web, d1, new ForwarderStats.Counters(4, 40, 30, 4000, 9000, 2, 1))
        table.count(web, d1, new ForwarderStats.Counters(1, 10, 5, 1000, 500, 1, 0))
        table.count(web, d2, new ForwarderStats.Counters(2, 20, 2000))

        expect:
        f.stats().services()[web].destinations()[d1] == new ForwarderStats.Counters(5, 50, 35, 5000, 9500, 3, 1)
        with(f.stats().services()[web].total()) {
            connections() == 7
            inPackets() == 70
            inBytes() == 7000
            outPackets() == ForwarderStats.Counters.UNKNOWN
            outBytes() == ForwarderStats.Counters.UNKNOWN
            activeConnections() == ForwarderStats.Counters.UNKNOWN
            !ForwarderStats.Counters.known(inactiveConnections())
        }
    }

    def "a counter below zero other than UNKNOWN is refused"() {
        when:
        new ForwarderStats.Counters(0, 0, -2)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'counter -2 (expected: >= 0, or UNKNOWN)'
    }

    def "a flush empties the whole table, foreign services and counters included"() {
        given:
        plantForeignRule()
        def f = forwarder()
        f.apply(twoServices())
        table.count(web, new DestinationKey(ip('198.51.100.1'), 8080), new ForwarderStats.Counters(1, 10, 1000))

        when:
        f.flush()
        f.apply(twoServices())

        then:
        table.flushes() == 1
        table.foreign().isEmpty()
        f.stats().services()[web].total() == ForwarderStats.Counters.ZERO
    }

    def "a closed forwarder refuses calls"() {
        given:
        def f = new InMemoryForwarder(table)
        f.close()

        when:
        f.current()

        then:
        thrown(KernelException)
    }
}
