package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/**
 * What {@link IpvsForwarder} puts in the kernel, read back by ipvsadm, the kernel's own
 * administration tool, rather than by the forwarder's codec: for every scheduler of Linux 6.1 and
 * every forwarding method, {@code ipvsadm -Sn}, {@code -Ln} and {@code -Ln --thresholds} show
 * exactly the services, destinations, flags, weights and thresholds of the applied state. The
 * other way round, rules that ipvsadm restores are read by the forwarder as the same records.
 * Expected listings are rendered here from the records, in ipvsadm's formats (ipvsadm.8: the
 * {@code --save} rule syntax and the list columns).
 *
 * <p>Needs the IPVS kernel the host lacks: it runs in the qemu guest of tests/qemu (IpvsGuestSpec in
 * tests/ boots it), all features in one namespace with one forwarder, in order, so that each state
 * is applied over the previous one and the transitions (scheduler, method, flags) are exercised too.
 */
@Requires(value = { IpvsForwarderSpec.usable() }, reason = 'needs root, iproute2, ipvsadm and a kernel with ip_vs loaded')
class IpvsListingSpec extends Specification {
    static final List<String> SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh']

    @Shared GuestLab lab = new GuestLab()
    @Shared String ns
    @Shared Path dir
    @Shared IpvsForwarder forwarder

    def setupSpec() {
        ns = lab.namespace('list')
        dir = Files.createTempDirectory('vigil-ipvs-list')
        forwarder = IpvsForwarder.inNamespace(ns, dir.resolve('ipvs-services'))
    }

    def cleanupSpec() {
        forwarder?.close()
        lab.close()
        dir?.toFile()?.deleteDir()
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static Destination dest(String address, int port, ForwardingMethod method, int weight, int upper = 0, int lower = 0) {
        new Destination(ip(address), port, method, weight, upper, lower)
    }

    /**
     * One state using {@code scheduler} and {@code method} everywhere: TCP, UDP and SCTP, IPv4 and
     * IPv6, fwmark services of both families, persistence with several granularities, one-packet
     * scheduling, the sh/mh flags, weights from 0 to 100 and thresholds.
     */
    static DesiredState everything(String scheduler, ForwardingMethod m) {
        // NAT may translate the port; DR and TUN deliver the packet unchanged, so their real servers
        // listen on the service's port (ipvsadm writes that port for them whatever it is given).
        Closure<Integer> port = { int service, int translated -> m == ForwardingMethod.NAT ? translated : service }
        Set<String> schedFlags = scheduler == 'sh' ? ['sh-fallback', 'sh-port'] as Set
                : scheduler == 'mh' ? ['mh-fallback', 'mh-port'] as Set : [] as Set
        def tcp = ServiceKey.of(ip('192.0.2.10'), 80, Protocol.TCP)
        def udp6 = ServiceKey.of(ip('2001:db8::10'), 53, Protocol.UDP)
        def sctp = ServiceKey.of(ip('192.0.2.11'), 3868, Protocol.SCTP)
        def udp = ServiceKey.of(ip('192.0.2.12'), 514, Protocol.UDP)
        def mark = ServiceKey.fwmark(7, AddressFamily.INET)
        def mark6 = ServiceKey.fwmark(8, AddressFamily.INET6)
        DesiredState.of(
                VirtualService.of(new Service(tcp, scheduler, 0, 32, schedFlags), [
                        dest('198.51.100.1', port(80, 8080), m, 1),
                        dest('198.51.100.2', port(80, 8080), m, 3),
                        dest('198.51.100.3', port(80, 8080), m, 0, 100, 10)]),
                VirtualService.of(new Service(udp6, scheduler, 300, 64, [] as Set), [
                        dest('2001:db8:1::1', port(53, 5353), m, 2),
                        dest('2001:db8:1::2', port(53, 5353), m, 1, 50, 0)]),
                VirtualService.of(new Service(sctp, scheduler, 600, 24, [] as Set), [dest('198.51.100.4', 3868, m, 100)]),
                VirtualService.of(new Service(udp, scheduler, 0, 32, ['ops'] as Set), [dest('198.51.100.5', port(514, 1514), m, 1)]),
                VirtualService.of(new Service(mark, scheduler, 60, 32, [] as Set), [
                        dest('198.51.100.6', 0, m, 1),
                        dest('198.51.100.7', 0, m, 2)]),
                VirtualService.of(new Service(mark6, scheduler, 0, 128, [] as Set), [dest('2001:db8:1::6', 0, m, 1)]))
    }

    def "for every scheduler and forwarding method ipvsadm lists exactly the applied state"() {
        given:
        def state = everything(scheduler, method)

        when:
        forwarder.apply(state)

        then: 'the forwarder reads its own state back, and applying it again changes nothing'
        forwarder.current() == state
        !forwarder.apply(state).changed()

        and: 'ipvsadm, reading the kernel, lists the same rules'
        def listings = listings()
        listings.saved == IpvsadmFormat.rules(state, false)
        listings.listed == IpvsadmFormat.listing(state)
        listings.thresholds == IpvsadmFormat.thresholds(state)

        when: 'ipvsadm clears the table and restores the same rules itself'
        def cleared = restore(IpvsadmFormat.rules(state, true))

        then: 'the forwarder reads what ipvsadm made as the same records'
        cleared.isEmpty()
        forwarder.current() == state
        !forwarder.apply(state).changed()

        where:
        [scheduler, method] << [SCHEDULERS, ForwardingMethod.values().toList()].combinations()
    }

    def "persistence granularity: every prefix length lists as its mask"() {
        given:
        def services = [24, 31, 16, 8, 1].withIndex().collect { int prefix, int i ->
            VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.20'), 1000 + i, Protocol.TCP), 'rr', 30, prefix, [] as Set),
                    [dest('198.51.100.20', 1000 + i, ForwardingMethod.NAT, 1)])
        } + [48, 64, 96, 127].withIndex().collect { int prefix, int i ->
            VirtualService.of(new Service(ServiceKey.of(ip('2001:db8::20'), 2000 + i, Protocol.UDP), 'sh', 3600, prefix, [] as Set),
                    [dest('2001:db8:2::20', 2000 + i, ForwardingMethod.DR, 1)])
        }
        def state = DesiredState.of(services)

        when:
        forwarder.apply(state)

        then:
        forwarder.current() == state
        saved() == IpvsadmFormat.rules(state, false)
        listed() == IpvsadmFormat.listing(state)
    }

    def "IPv4 real servers behind an IPv6 service are tunnelled and listed in their own family"() {
        given:
        def key = ServiceKey.of(ip('2001:db8::30'), 80, Protocol.TCP)
        def state = DesiredState.of(VirtualService.of(Service.of(key, 'wrr'), [
                dest('198.51.100.30', 80, ForwardingMethod.TUN, 2),
                dest('2001:db8:3::30', 80, ForwardingMethod.TUN, 1)]))

        when:
        forwarder.apply(state)

        then:
        forwarder.current() == state
        saved() == IpvsadmFormat.rules(state, false)
        listed() == IpvsadmFormat.listing(state)

        when: 'the IPv4 one is reweighted, then removed (requests naming its own family)'
        def reweighted = DesiredState.of(VirtualService.of(Service.of(key, 'wrr'), [
                dest('198.51.100.30', 80, ForwardingMethod.TUN, 5),
                dest('2001:db8:3::30', 80, ForwardingMethod.TUN, 1)]))
        forwarder.apply(reweighted)
        def reweightedListing = listed()
        def without = DesiredState.of(VirtualService.of(Service.of(key, 'wrr'), [dest('2001:db8:3::30', 80, ForwardingMethod.TUN, 1)]))
        forwarder.apply(without)

        then:
        reweightedListing == IpvsadmFormat.listing(reweighted)
        forwarder.current() == without
        saved() == IpvsadmFormat.rules(without, false)
    }

    def "a table larger than one netlink datagram reads back whole"() {
        given: '150 services of 8 destinations each: the dumps span many datagrams'
        def state = DesiredState.of((0..<150).collect { int i ->
            def key = ServiceKey.of(ip("192.0.2.${100 + i.intdiv(50)}"), 10000 + i, Protocol.TCP)
            VirtualService.of(Service.of(key, SCHEDULERS[i % SCHEDULERS.size()]), (1..8).collect { int d ->
                dest("198.51.${100 + i.intdiv(50)}.${d}", 10000 + i, ForwardingMethod.NAT, d)
            })
        })

        when:
        def report = forwarder.apply(state)

        then:
        report.operations().size() >= 150 * 9
        forwarder.current() == state
        saved() == IpvsadmFormat.rules(state, false)

        when: 'everything goes'
        forwarder.apply(DesiredState.EMPTY)

        then:
        forwarder.current().isEmpty()
        saved().isEmpty()
    }

    static final String CUT = '--- vigil ---'

    /**
     * {@code ipvsadm -Sn} (sorted: the kernel lists services in hash order), {@code -Ln} and
     * {@code -Ln --thresholds} (service line to sorted destination lines), from one process:
     * spawning is slow under emulation.
     */
    Map<String, Object> listings() {
        def parts = GuestLab.bash(ns, "ipvsadm -Sn; echo '${CUT}'; ipvsadm -Ln; echo '${CUT}'; ipvsadm -Ln --thresholds")
                .split(CUT)
        [saved: parts[0].readLines()*.trim().findAll().sort(),
         listed: IpvsadmFormat.parseListing(parts[1]),
         thresholds: IpvsadmFormat.parseListing(parts[2])]
    }

    /** {@code ipvsadm -Sn} alone, sorted. */
    List<String> saved() {
        GuestLab.exec(ns, 'ipvsadm', '-Sn').readLines()*.trim().findAll().sort()
    }

    Map<String, List<String>> listed() {
        IpvsadmFormat.parseListing(GuestLab.exec(ns, 'ipvsadm', '-Ln'))
    }

    /** Clears the table with {@code ipvsadm -C}, then loads {@code rules} with {@code -R}; returns the rules listed in between. */
    List<String> restore(List<String> rules) {
        Path file = dir.resolve('rules')
        Files.write(file, rules)
        GuestLab.bash(ns, "ipvsadm -C; ipvsadm -Sn; ipvsadm -R < '${file}'").readLines()*.trim().findAll()
    }
}
