package dev.vigil.kernel.forward

import java.lang.ref.WeakReference

import spock.lang.Specification

class DesiredStateSpec extends Specification {
    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static ServiceKey key(int i) { ServiceKey.of(ip("10.0.${i.intdiv(256)}.${i % 256}"), 80, Protocol.TCP) }

    static VirtualService vs(int i, int weight = 1) {
        VirtualService.of(Service.of(key(i), 'wrr'), [Destination.nat(ip("10.1.${i.intdiv(256)}.${i % 256}"), 8080).withWeight(weight)])
    }

    static DesiredState base(int n) { DesiredState.of((0..<n).collect { vs(it) }) }

    def "with and without give new states and leave the original as it was"() {
        given:
        def s = base(3)

        when:
        def added = s.with(vs(5))
        def replaced = s.with(vs(1, 7))
        def removed = s.without(key(0))

        then:
        s == base(3)
        added.services().keySet() == [key(0), key(1), key(2), key(5)] as Set
        replaced.services()[key(1)] == vs(1, 7)
        removed.services().keySet() == [key(1), key(2)] as Set
        s.without(key(9)) == s
    }

    def "a derived state shares every service it did not change with its parent"() {
        given:
        def s = base(50)

        when:
        def derived = s.with(vs(20, 3))

        then:
        (0..<50).findAll { it != 20 }.every { derived.services()[key(it)].is(s.services()[key(it)]) }
        !derived.services()[key(20)].is(s.services()[key(20)])
    }

    def "equality and hash code ignore lineage"() {
        given: 'the same services reached through different derivations, and without any'
        def s = base(4)
        def one = s.with(vs(2, 5)).without(key(3))
        def other = s.without(key(3)).with(vs(9)).without(key(9)).with(vs(2, 5))
        def fresh = new DesiredState(one.services())

        expect:
        one.lineageDepth() == 2
        other.lineageDepth() == 4
        fresh.lineageDepth() == 0
        one == other
        one == fresh
        fresh == one
        one.hashCode() == fresh.hashCode()
        other.hashCode() == fresh.hashCode()
        one.toString() == fresh.toString()
        one.toString().startsWith('DesiredState[services={TCP 10.0.0.0:80=VirtualService[')
        one != s
    }

    def "a derived state remembers its last LINEAGE_DEPTH derivations and the keys they changed, no more"() {
        given: 'a chain of 20 derivations, each changing one service'
        def chain = [base(30)]
        (1..20).each { int step ->
            def last = chain[-1]
            chain << (step % 5 == 0 ? last.without(key(step)) : last.with(vs(step % 7, step)))
        }

        expect:
        DesiredState.LINEAGE_DEPTH == 8
        (0..20).every { int j -> chain[j].lineageDepth() == Math.min(j, DesiredState.LINEAGE_DEPTH) }
        (0..20).every { int i ->
            (0..20).every { int j ->
                def changed = chain[j].changedSince(chain[i])
                def remembered = i < j && j - i <= DesiredState.LINEAGE_DEPTH
                remembered ? changed as List == ((i + 1)..j).collect { changedKey(it) }.unique().sort() : changed == null
            }
        }
    }

    private static ServiceKey changedKey(int step) { step % 5 == 0 ? key(step) : key(step % 7) }

    def "lineage is by identity: an equal state is not an ancestor"() {
        given:
        def s = base(5)
        def derived = s.with(vs(1, 2))

        expect:
        derived.changedSince(s) as List == [key(1)]
        derived.changedSince(new DesiredState(s.services())) == null
        derived.changedSince(DesiredState.of(s.services().values())) == null
        derived.changedSince(derived) == null
        s.changedSince(derived) == null
    }

    def "a derived state keeps the services of at most LINEAGE_DEPTH older states alive"() {
        given: 'weak references to the service maps of a chain of 20 derivations, and only the last state kept'
        def refs = []
        def last = chainKeepingOnlyLast(20, refs)

        when: 'the collector has run until the maps beyond the bound are gone, or gave up'
        for (int tries = 0; tries < 20 && (0..<(20 - DesiredState.LINEAGE_DEPTH)).any { refs[it].get() != null }; tries++) {
            System.gc()
        }

        then: 'the older maps went; the last LINEAGE_DEPTH ancestors and the state itself stay'
        (0..<(20 - DesiredState.LINEAGE_DEPTH)).every { refs[it].get() == null }
        ((20 - DesiredState.LINEAGE_DEPTH)..20).every { refs[it].get() != null }
        last.lineageDepth() == DesiredState.LINEAGE_DEPTH
    }

    private static DesiredState chainKeepingOnlyLast(int steps, List<WeakReference> refs) {
        def s = base(200)
        refs << new WeakReference(s.services())
        for (int step = 1; step <= steps; step++) {
            s = s.with(vs(step, step))
            refs << new WeakReference(s.services())
        }
        s
    }

    def "a state keeps its services in the keys' natural order, whatever order the given map has"() {
        given:
        def reversed = new TreeMap<ServiceKey, VirtualService>(Comparator.reverseOrder())
        (0..<5).each { reversed[key(it)] = vs(it) }

        when:
        def s = new DesiredState(reversed)

        then:
        s.services().keySet() as List == (0..<5).collect { key(it) }
        s.services().comparator() == null
        ForwardingDiff.between(DesiredState.EMPTY, s) == ForwardingDiff.between(DesiredState.EMPTY, base(5))
        ForwardingDiff.between(s, s.with(vs(7)).without(key(1))) == [new ForwardingOp.DeleteService(key(1)),
                new ForwardingOp.AddService(Service.of(key(7), 'wrr')),
                new ForwardingOp.AddDestination(key(7), vs(7).destinations().values().first())]
    }

    def "a key that is not its service's key is refused with both keys named"() {
        when:
        new DesiredState(new TreeMap([(key(1)): vs(2)]))

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'TCP 10.0.0.1:80 maps to TCP 10.0.0.2:80'
    }

    def "with and without name a missing argument"() {
        when:
        call(base(1))

        then:
        def e = thrown(NullPointerException)
        e.message == name

        where:
        call << [{ DesiredState s -> s.with((VirtualService) null) }, { DesiredState s -> s.without((ServiceKey) null) }]
        name << ['service', 'key']
    }
}
