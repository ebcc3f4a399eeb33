package dev.vigil.kernel.forward

import dev.vigil.kernel.AddressFamily
import spock.lang.Specification

/**
 * What every {@link Forwarder} must do. A backend's spec extends this and says how to make a
 * forwarder over its kernel, and how to plant and check a rule someone else made.
 */
abstract class ForwarderContractSpec extends Specification {
    /** A new forwarder instance over the same kernel state as the previous ones in this feature. */
    abstract Forwarder newForwarder()

    /** Makes a rule in the kernel that no forwarder created. */
    abstract void plantForeignRule()

    /** Whether the rule {@link #plantForeignRule} made is still there, unchanged. */
    abstract boolean foreignRuleIntact()

    /** What {@link Forwarder#flush} removes in this backend: its whole shared table, or only its own rules. */
    abstract Forwarder.FlushScope flushScope()

    /** The scheduler used for the contract's services; every backend supports {@code rr} and {@code wrr}. */
    String scheduler() { 'wrr' }

    List<Forwarder> opened = []

    Forwarder forwarder() {
        def f = newForwarder()
        opened << f
        f
    }

    def cleanup() {
        opened.each { it.close() }
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static ServiceKey web = ServiceKey.of(ip('192.0.2.10'), 80, Protocol.TCP)
    static ServiceKey dns = ServiceKey.of(ip('192.0.2.11'), 53, Protocol.UDP)

    VirtualService webPool(Map<String, Integer> weights) {
        VirtualService.of(Service.of(web, scheduler()), weights.collect { a, w -> Destination.nat(ip(a), 8080).withWeight(w) })
    }

    DesiredState twoServices() {
        DesiredState.of(
                webPool(['198.51.100.1': 1, '198.51.100.2': 3]),
                VirtualService.of(Service.of(dns, 'rr'), [Destination.nat(ip('198.51.100.3'), 5353)]))
    }

    def "applying a state makes current() equal it"() {
        given:
        def f = forwarder()

        when:
        def report = f.apply(twoServices())

        then:
        report.changed()
        report.operations().count { it instanceof ForwardingOp.AddService } == 2
        report.operations().count { it instanceof ForwardingOp.AddDestination } == 3
        f.current() == twoServices()
    }

    def "applying the same state again changes nothing"() {
        given:
        def f = forwarder()
        f.apply(twoServices())

        expect:
        !f.apply(twoServices()).changed()
        f.apply(twoServices()).operations().isEmpty()
        f.current() == twoServices()
    }

    def "adding and removing a destination touches only that destination"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def grown = twoServices().with(webPool(['198.51.100.1': 1, '198.51.100.2': 3, '198.51.100.4': 2]))

        when:
        def added = f.apply(grown)

        then:
        added.operations() == [new ForwardingOp.AddDestination(web, Destination.nat(ip('198.51.100.4'), 8080).withWeight(2))]
        f.current() == grown

        when:
        def shrunk = twoServices().with(webPool(['198.51.100.2': 3, '198.51.100.4': 2]))
        def removed = f.apply(shrunk)

        then:
        removed.operations() == [new ForwardingOp.DeleteDestination(web, new DestinationKey(ip('198.51.100.1'), 8080))]
        f.current() == shrunk
    }

    def "changing a weight is one update, including down to 0"() {
        given:
        def f = forwarder()
        f.apply(twoServices())

        when:
        def report = f.apply(twoServices().with(webPool(['198.51.100.1': w, '198.51.100.2': 3])))

        then:
        report.operations() == [new ForwardingOp.UpdateDestination(web, Destination.nat(ip('198.51.100.1'), 8080).withWeight(w))]
        f.current().services()[web].destinations()[new DestinationKey(ip('198.51.100.1'), 8080)].weight() == w

        where:
        w << [5, 0]
    }

    def "changing the scheduler updates the service and keeps its destinations"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        def changed = twoServices().with(new VirtualService(Service.of(web, 'rr'), twoServices().services()[web].destinations()))

        when:
        def report = f.apply(changed)

        then:
        report.operations() == [new ForwardingOp.UpdateService(Service.of(web, 'rr'))]
        f.current() == changed
    }

    def "deleting a service removes it and its destinations, leaving the other"() {
        given:
        def f = forwarder()
        f.apply(twoServices())

        when:
        def report = f.apply(twoServices().without(dns))

        then:
        report.operations() == [new ForwardingOp.DeleteService(dns)]
        f.current() == twoServices().without(dns)

        when: 'everything goes'
        f.apply(DesiredState.EMPTY)

        then:
        f.current().isEmpty()
        !f.apply(DesiredState.EMPTY).changed()
    }

    def "a fresh forwarder adopts the rules an earlier one made and re-applying them changes nothing"() {
        given:
        def first = forwarder()
        first.apply(twoServices())
        first.close()

        when:
        def second = forwarder()

        then:
        second.current() == twoServices()
        !second.apply(twoServices()).changed()

        when: 'the new one can change what it adopted'
        second.apply(twoServices().without(web))

        then:
        forwarder().current() == twoServices().without(web)
    }

    def "rules the forwarder did not create are neither reported nor touched"() {
        given:
        plantForeignRule()
        def f = forwarder()

        expect:
        f.current().isEmpty()

        when:
        f.apply(twoServices())
        f.apply(twoServices().with(webPool(['198.51.100.9': 1])))
        f.apply(DesiredState.EMPTY)

        then:
        foreignRuleIntact()
        f.current().isEmpty()
    }

    def "IPv6 services round-trip"() {
        given:
        def f = forwarder()
        def key = ServiceKey.of(ip('2001:db8::10'), 443, Protocol.TCP)
        def state = DesiredState.of(VirtualService.of(Service.of(key, 'rr'),
                [Destination.nat(ip('2001:db8:1::1'), 8443), Destination.nat(ip('2001:db8:1::2'), 8443).withWeight(2)]))

        when:
        f.apply(state)

        then:
        key.family() == AddressFamily.INET6
        f.current() == state
        !forwarder().apply(state).changed()
    }

    def "stats list every owned service and destination"() {
        given:
        def f = forwarder()
        f.apply(twoServices())

        when:
        def stats = f.stats()

        then:
        stats.services().keySet() == [web, dns] as Set
        stats.services()[web].destinations().keySet() == twoServices().services()[web].destinations().keySet()
        stats.services()[web].total().connections() >= 0
    }

    def "a flush leaves the forwarder owning nothing; foreign rules go too only where the table is shared"() {
        given:
        plantForeignRule()
        def f = forwarder()
        f.apply(twoServices())

        when:
        def scope = f.flush()

        then:
        scope == flushScope()
        f.current().isEmpty()
        forwarder().current().isEmpty()
        foreignRuleIntact() == (scope == Forwarder.FlushScope.OWNED)

        and: 'the same state is then made again from nothing'
        f.apply(twoServices()).operations().count { it instanceof ForwardingOp.AddService } == 2
        f.current() == twoServices()
        foreignRuleIntact() == (scope == Forwarder.FlushScope.OWNED)
    }
}
