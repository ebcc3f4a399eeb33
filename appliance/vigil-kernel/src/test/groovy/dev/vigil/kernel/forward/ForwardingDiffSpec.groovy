package dev.vigil.kernel.forward

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.ForwardingOp.AddDestination
import dev.vigil.kernel.forward.ForwardingOp.AddService
import dev.vigil.kernel.forward.ForwardingOp.DeleteDestination
import dev.vigil.kernel.forward.ForwardingOp.DeleteService
import dev.vigil.kernel.forward.ForwardingOp.UpdateDestination
import dev.vigil.kernel.forward.ForwardingOp.UpdateService
import spock.lang.Specification

class ForwardingDiffSpec extends Specification {
    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static ServiceKey a = ServiceKey.of(ip('10.0.0.1'), 80, Protocol.TCP)
    static ServiceKey b = ServiceKey.of(ip('10.0.0.2'), 80, Protocol.TCP)
    static ServiceKey m = ServiceKey.fwmark(7, AddressFamily.INET)

    static Destination d(String addr, int weight = 1) { Destination.nat(ip(addr), 8080).withWeight(weight) }

    static VirtualService vs(ServiceKey key, String sched, Destination... ds) {
        VirtualService.of(Service.of(key, sched), ds as List)
    }

    def "equal states give no operations"() {
        given:
        def s = DesiredState.of(vs(a, 'rr', d('10.1.0.1')), vs(m, 'sh', d('10.1.0.2')))

        expect:
        ForwardingDiff.between(s, s).isEmpty()
        ForwardingDiff.between(DesiredState.EMPTY, DesiredState.EMPTY).isEmpty()
    }

    def "from empty: each service is added before its destinations, services in key order"() {
        given:
        def s = DesiredState.of(vs(b, 'rr', d('10.1.0.2'), d('10.1.0.1')), vs(a, 'wrr', d('10.1.0.3', 2)))

        expect:
        ForwardingDiff.between(DesiredState.EMPTY, s) == [
                new AddService(Service.of(a, 'wrr')),
                new AddDestination(a, d('10.1.0.3', 2)),
                new AddService(Service.of(b, 'rr')),
                new AddDestination(b, d('10.1.0.1')),
                new AddDestination(b, d('10.1.0.2')),
        ]
    }

    def "to empty: one delete per service, no destination deletes"() {
        given:
        def s = DesiredState.of(vs(a, 'rr', d('10.1.0.1'), d('10.1.0.2')), vs(b, 'rr'))

        expect:
        ForwardingDiff.between(s, DesiredState.EMPTY) == [new DeleteService(a), new DeleteService(b)]
    }

    def "removals come before additions and updates"() {
        given:
        def before = DesiredState.of(vs(a, 'rr', d('10.1.0.1'), d('10.1.0.2')), vs(b, 'rr', d('10.1.0.9')))
        def after = DesiredState.of(vs(a, 'wrr', d('10.1.0.2', 4), d('10.1.0.3')), vs(m, 'rr', d('10.1.0.9')))

        expect:
        ForwardingDiff.between(before, after) == [
                new DeleteDestination(a, d('10.1.0.1').key()),
                new DeleteService(b),
                new UpdateService(Service.of(a, 'wrr')),
                new UpdateDestination(a, d('10.1.0.2', 4)),
                new AddDestination(a, d('10.1.0.3')),
                new AddService(Service.of(m, 'rr')),
                new AddDestination(m, d('10.1.0.9')),
        ]
    }

    def "a change in method or thresholds is an update of that destination only"() {
        given:
        def before = DesiredState.of(vs(a, 'rr', d('10.1.0.1'), d('10.1.0.2')))
        def changed = new Destination(ip('10.1.0.1'), 8080, method, 1, upper, 0)
        def after = DesiredState.of(vs(a, 'rr', changed, d('10.1.0.2')))

        expect:
        ForwardingDiff.between(before, after) == [new UpdateDestination(a, changed)]

        where:
        method                 | upper
        ForwardingMethod.DR    | 0
        ForwardingMethod.NAT   | 100
    }

    def "persistence and flags are service attributes"() {
        given:
        def before = DesiredState.of(vs(a, 'sh', d('10.1.0.1')))
        def svc = new Service(a, 'sh', 300, 24, ['sh-port'] as Set)
        def after = DesiredState.of(VirtualService.of(svc, [d('10.1.0.1')]))

        expect:
        ForwardingDiff.between(before, after) == [new UpdateService(svc)]
    }

    def "applying the diff to the old state gives the new one, for many random pairs"() {
        given:
        def rnd = new Random(seed)

        when:
        def x = randomState(rnd)
        def y = randomState(rnd)
        def ops = ForwardingDiff.between(x, y)

        then:
        ForwardingDiff.apply(x, ops) == y
        ForwardingDiff.between(y, ForwardingDiff.apply(x, ops)).isEmpty()
        (x == y) == ops.isEmpty()

        where:
        seed << (1..200)
    }

    def "a state derived from another shares its objects, and diffs exactly as an equal state built afresh"() {
        given: 'many services, and one of them changed through with(): every other object is shared'
        def rnd = new Random(seed)
        def big = DesiredState.of((0..<300).collect { int i ->
            VirtualService.of(Service.of(ServiceKey.of(ip("10.2.${i.intdiv(256)}.${i % 256}"), 80, Protocol.TCP), 'wrr'),
                    (1..3).collect { d -> Destination.nat(ip("10.3.${i.intdiv(256)}.${i % 256}"), 8000 + d).withWeight(d) })
        })
        def victim = big.services().values().toList()[rnd.nextInt(300)]
        def changed = [
                VirtualService.of(victim.service(), victim.destinations().values().collect { it.withWeight(it.weight() + 1) }),
                VirtualService.of(victim.service().withScheduler('rr'), victim.destinations().values().toList()),
                VirtualService.of(victim.service(), victim.destinations().values().toList().drop(1)),
        ][rnd.nextInt(3)]
        def derived = rnd.nextBoolean() ? big.with(changed) : big.without(victim.key())
        def afresh = DesiredState.of(derived.services().values().collect { v ->
            VirtualService.of(new Service(ServiceKey.of(ip(v.key().address().hostAddress), v.key().port(), v.key().protocol()),
                    v.service().scheduler(), 0, 32, [] as Set), v.destinations().values().collect {
                new Destination(ip(it.address().hostAddress), it.port(), it.method(), it.weight(), 0, 0)
            })
        })

        expect:
        afresh == derived
        !afresh.services().values().any { it.is(big.services()[it.key()]) }
        ForwardingDiff.between(big, derived) == ForwardingDiff.between(big, afresh)
        ForwardingDiff.between(big, derived).every { it.serviceKey() == victim.key() }
        ForwardingDiff.apply(big, ForwardingDiff.between(big, derived)) == derived
        ForwardingDiff.between(derived, big) == ForwardingDiff.between(afresh, big)

        where:
        seed << (1..30)
    }

    def "along random chains of with and without, the diff by changed services equals the full walk"() {
        given: 'a random state and a random chain of derivations from it, longer than the lineage'
        def rnd = new Random(seed)
        def chain = [randomState(rnd, POOL)]
        def seen = [] as List<VirtualService>
        (1..(1 + rnd.nextInt(20))).each { chain << randomStep(rnd, chain[-1], seen) }

        when: 'from each state to each later one'
        def wrong = []
        for (int i = 0; i < chain.size(); i++) {
            for (int j = i; j < chain.size(); j++) {
                def current = chain[i]
                def desired = chain[j]
                def ops = ForwardingDiff.between(current, desired)
                boolean fast = desired.changedSince(current) != null
                if (fast != (i < j && j - i <= DesiredState.LINEAGE_DEPTH)
                        || ops != ForwardingDiff.between(current, new DesiredState(desired.services()))
                        || ops != ForwardingDiff.between(new DesiredState(current.services()), desired)
                        || ForwardingDiff.apply(current, ops) != desired
                        || ForwardingDiff.between(desired, current) != ForwardingDiff.between(new DesiredState(desired.services()), current)) {
                    wrong << "${i} -> ${j} (by changed services: ${fast}): ${ops}"
                }
            }
        }

        then: 'the same operations, in the same order, as copies without lineage give; the lineage reaches as far as it should'
        wrong == []

        where:
        seed << (1..300)
    }

    def "a state derived from a sibling of current takes the full walk"() {
        given: 'two states derived from one parent, each changing another service'
        def parent = DesiredState.of(vs(a, 'rr', d('10.1.0.1')), vs(b, 'rr', d('10.1.0.2')))
        def current = parent.with(vs(a, 'rr', d('10.1.0.1', 5)))
        def desired = parent.with(vs(b, 'wrr', d('10.1.0.2')))

        expect: 'the change to a is undone too, though desired never touched a'
        desired.changedSince(current) == null
        ForwardingDiff.between(current, desired) == [
                new UpdateDestination(a, d('10.1.0.1')),
                new UpdateService(Service.of(b, 'wrr')),
        ]
    }

    def "a state derived from an equal copy of current, or current from desired, takes the full walk"() {
        given:
        def parent = DesiredState.of(vs(a, 'rr', d('10.1.0.1')), vs(b, 'rr', d('10.1.0.2')))
        def copy = new DesiredState(parent.services())
        def desired = copy.with(vs(m, 'sh', d('10.1.0.3'))).without(a)

        expect:
        desired.changedSince(parent) == null
        ForwardingDiff.between(parent, desired) == [
                new DeleteService(a),
                new AddService(Service.of(m, 'sh')),
                new AddDestination(m, d('10.1.0.3')),
        ]
        parent.changedSince(desired) == null
        ForwardingDiff.between(desired, parent) == [
                new DeleteService(m),
                new AddService(Service.of(a, 'rr')),
                new AddDestination(a, d('10.1.0.1')),
        ]
    }

    def "a service changed and changed back within the lineage gives no operation"() {
        given:
        def parent = DesiredState.of(vs(a, 'rr', d('10.1.0.1')), vs(b, 'rr', d('10.1.0.2')))
        def original = parent.services()[a]
        def desired = parent.with(vs(a, 'wrr', d('10.1.0.1'))).without(b).with(original)

        expect:
        desired.changedSince(parent) as List == [a, b]
        ForwardingDiff.between(parent, desired) == [new DeleteService(b)]
    }

    def "apply refuses an operation that does not fit"() {
        when:
        ForwardingDiff.apply(DesiredState.of(vs(a, 'rr')), [op])

        then:
        thrown(IllegalStateException)

        where:
        op << [new AddService(Service.of(a, 'rr')),
               new DeleteService(b),
               new UpdateService(Service.of(b, 'rr')),
               new AddDestination(b, d('10.1.0.1')),
               new UpdateDestination(a, d('10.1.0.1')),
               new DeleteDestination(a, d('10.1.0.1').key())]
    }

    def "the model refuses inconsistent values"() {
        when:
        build()

        then:
        thrown(IllegalArgumentException)

        where:
        build << [
                { ServiceKey.of(ip('10.0.0.1'), 70000, Protocol.TCP) },
                { ServiceKey.fwmark(0, AddressFamily.INET) },
                { new ServiceKey(AddressFamily.INET6, Protocol.TCP, ip('10.0.0.1'), 80, 0) },
                { Destination.nat(ip('10.0.0.1'), 80).withWeight(-1) },
                { VirtualService.of(Service.of(a, 'rr'), [d('10.1.0.1'), d('10.1.0.1', 2)]) },
                { VirtualService.of(Service.of(a, 'rr'), [Destination.nat(ip('2001:db8::1'), 80)]) },
                { DesiredState.of(vs(a, 'rr'), vs(a, 'wrr')) },
                { new Service(a, 'rr', 0, 33, [] as Set) },
        ]
    }

    def "keys order deterministically and print readably"() {
        expect:
        [b, m, a].toSorted() == [a, b, m]
        a.toString() == 'TCP 10.0.0.1:80'
        ServiceKey.of(ip('2001:db8::1'), 443, Protocol.UDP).toString() == 'UDP [2001:db8:0:0:0:0:0:1]:443'
        m.toString() == 'fwmark 7'
    }

    /** Keys for the chains: address services of both protocols and fwmark services. */
    static final List<ServiceKey> POOL = (1..6).collect { ServiceKey.of(ip("10.0.1.${it}"), 80, Protocol.TCP) } +
            (1..3).collect { ServiceKey.of(ip("10.0.1.${it}"), 80, Protocol.UDP) } +
            (1..3).collect { ServiceKey.fwmark(it, AddressFamily.INET) }

    static VirtualService randomService(Random rnd, ServiceKey k) {
        def svc = new Service(k, ['rr', 'wrr', 'sh'][rnd.nextInt(3)], rnd.nextBoolean() ? 0 : 300, 32,
                rnd.nextBoolean() ? [] as Set : ['ops'] as Set)
        def dests = (1..5).findAll { rnd.nextBoolean() }.collect { i -> randomDestination(rnd, i) }
        VirtualService.of(svc, dests)
    }

    static Destination randomDestination(Random rnd, int i) {
        new Destination(ip("10.1.0.${i}"), 8080, ForwardingMethod.values()[rnd.nextInt(3)], rnd.nextInt(3), 0, 0)
    }

    /**
     * One random derivation of {@code s}: a new service or a replaced one; the same object again; an
     * equal copy; one destination changed, added or removed (the others shared); a service that an
     * earlier step had replaced put back; a removal, of a present key or an absent one.
     */
    static DesiredState randomStep(Random rnd, DesiredState s, List<VirtualService> seen) {
        def k = POOL[rnd.nextInt(POOL.size())]
        def had = s.services()[k]
        if (had != null) {
            seen << had
        }
        switch (rnd.nextInt(7)) {
            case 0:
                return s.with(randomService(rnd, k))
            case 1:
                return had == null ? s.without(k) : s.with(had)
            case 2:
                return had == null ? s.with(randomService(rnd, k)) : s.with(new VirtualService(had.service(), new TreeMap(had.destinations())))
            case 3:
                if (had == null) {
                    return s.with(randomService(rnd, k))
                }
                def ds = new TreeMap(had.destinations())
                def changed = randomDestination(rnd, 1 + rnd.nextInt(5))
                if (rnd.nextBoolean() || !ds.containsKey(changed.key())) {
                    ds[changed.key()] = changed
                } else {
                    ds.remove(changed.key())
                }
                return s.with(new VirtualService(had.service(), ds))
            case 4:
                return seen ? s.with(seen[rnd.nextInt(seen.size())]) : s.without(k)
            default:
                return s.without(rnd.nextInt(4) == 0 ? ServiceKey.fwmark(99, AddressFamily.INET) : k)
        }
    }

    static DesiredState randomState(Random rnd, List<ServiceKey> keys) {
        DesiredState.of(keys.findAll { rnd.nextBoolean() }.collect { k -> randomService(rnd, k) })
    }

    static DesiredState randomState(Random rnd) {
        def keys = [a, b, m, ServiceKey.of(ip('10.0.0.1'), 80, Protocol.UDP)]
        def services = keys.findAll { rnd.nextBoolean() }.collect { k ->
            def svc = new Service(k, ['rr', 'wrr', 'sh'][rnd.nextInt(3)], rnd.nextBoolean() ? 0 : 300, 32,
                    rnd.nextBoolean() ? [] as Set : ['ops'] as Set)
            def dests = (1..4).findAll { rnd.nextBoolean() }.collect { i ->
                new Destination(ip("10.1.0.${i}"), 8080, ForwardingMethod.values()[rnd.nextInt(3)], rnd.nextInt(3), 0, 0)
            }
            VirtualService.of(svc, dests)
        }
        DesiredState.of(services)
    }
}
