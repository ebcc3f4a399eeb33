package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderContractSpec
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.ForwardingOp
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService

import java.nio.file.Files
import java.nio.file.Path

/**
 * The forwarder contract and the IPVS forwarder's own rules (ownership file, failure reporting,
 * refusals) over {@link FakeIpvsKernel}, which speaks the same bytes as the kernel family.
 */
class IpvsForwarderFakeKernelSpec extends ForwarderContractSpec {
    FakeIpvsKernel kernel = new FakeIpvsKernel()
    Path dir = Files.createTempDirectory('vigil-ipvs')
    Path registry = dir.resolve('run/ipvs-services')
    static Service foreign = Service.of(ServiceKey.of(ip('192.0.2.99'), 443, Protocol.TCP), 'lc')

    def cleanup() {
        dir.toFile().deleteDir()
    }

    @Override
    Forwarder newForwarder() { kernel.forwarder(registry) }

    @Override
    void plantForeignRule() { kernel.plant(foreign) }

    @Override
    boolean foreignRuleIntact() { kernel.services[foreign.key()]?.service() == foreign }

    @Override
    Forwarder.FlushScope flushScope() { Forwarder.FlushScope.EVERYTHING }

    def "a flush is one IPVS_CMD_FLUSH, after which the ownership file lists nothing"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        kernel.commands.clear()

        when:
        f.flush()

        then:
        kernel.commands == [IpvsCodec.CMD_FLUSH]
        registry.toFile().readLines().findAll { !it.startsWith('#') } == []

        when: 'someone else makes a service under a key that was Vigil\'s'
        kernel.plant(Service.of(web, 'lc'))

        then: 'it is not taken for Vigil\'s'
        forwarder().current().isEmpty()

        when:
        f.apply(twoServices())

        then: 'and applying that key is refused'
        def e = thrown(KernelException)
        e.errno() == 17
        kernel.services[web].service() == Service.of(web, 'lc')
    }

    def "a failed flush is reported and leaves the ownership file as it was"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        kernel.failCommand = IpvsCodec.CMD_FLUSH

        when:
        f.flush()

        then:
        def e = thrown(KernelException)
        e.call() == 'IPVS_CMD_FLUSH'
        registry.toFile().readLines().findAll { !it.startsWith('#') } == ['tcp 192.0.2.10 80', 'udp 192.0.2.11 53']
        f.current() == twoServices()
    }

    def "a kernel without the IPVS family gets a clear message"() {
        given:
        kernel.familyRegistered = false

        when:
        kernel.forwarder(registry)

        then:
        def e = thrown(KernelException)
        e.errno() == 2
        e.message == 'CTRL_CMD_GETFAMILY: IPVS is not available in this kernel (modprobe ip_vs) (errno 2)'
    }

    def "the ownership file lists exactly the owned services, in its documented format"() {
        given:
        def f = forwarder()

        when:
        f.apply(twoServices().with(VirtualService.of(Service.of(ServiceKey.fwmark(7, AddressFamily.INET6), 'rr'), [])))

        then:
        registry.toFile().readLines().findAll { !it.startsWith('#') } == ['tcp 192.0.2.10 80', 'udp 192.0.2.11 53', 'fwmark inet6 7']

        when:
        f.apply(twoServices().without(web))

        then:
        registry.toFile().readLines().findAll { !it.startsWith('#') } == ['udp 192.0.2.11 53']
    }

    def "a forwarder with another ownership file sees none of the first one's services"() {
        given:
        forwarder().apply(twoServices())

        when:
        def other = kernel.forwarder(dir.resolve('other'))

        then:
        other.current().isEmpty()
        other.apply(DesiredState.EMPTY).operations().isEmpty()
        kernel.services.size() == 2
    }

    def "services go first, then destinations; one failing destination stops no other operation, and the next apply reads the kernel and completes"() {
        given:
        def f = forwarder()
        kernel.failCommand = IpvsCodec.CMD_NEW_DEST

        when:
        f.apply(twoServices())

        then:
        def e = thrown(KernelException)
        e.call() == 'IPVS_CMD_NEW_DEST'
        e.errno() == 22
        e.message.startsWith('IPVS_CMD_NEW_DEST: applying AddDestination[serviceKey=TCP 192.0.2.10:80')
        e.message.endsWith('] (errno 22)')
        !e.message.contains('(errno 22) (errno 22)')
        !e.message.contains('more of')
        kernel.commands.findAll { it != IpvsCodec.CMD_GET_SERVICE } ==
                [IpvsCodec.CMD_NEW_SERVICE, IpvsCodec.CMD_NEW_SERVICE, IpvsCodec.CMD_NEW_DEST, IpvsCodec.CMD_NEW_DEST, IpvsCodec.CMD_NEW_DEST]

        and: 'what was created is owned'
        registry.toFile().readLines().findAll { !it.startsWith('#') } == ['tcp 192.0.2.10 80', 'udp 192.0.2.11 53']
        kernel.services[web].destinations().keySet() == [new DestinationKey(ip('198.51.100.2'), 8080)] as Set

        when: 'the next apply reads the kernel again and adds only what is missing'
        kernel.commands.clear()
        def report = f.apply(twoServices())

        then:
        kernel.commands.first() == IpvsCodec.CMD_GET_SERVICE
        report.operations() == [new ForwardingOp.AddDestination(web, Destination.nat(ip('198.51.100.1'), 8080))]
        f.current() == twoServices()
    }

    def "a failed apply counts the other failures, and the registry keeps only the services the kernel made"() {
        given: 'web exists in the kernel but the registry does not list it: its add is refused (EEXIST)'
        def f = forwarder()
        f.apply(DesiredState.EMPTY)
        kernel.plant(Service.of(web, 'wrr'))

        when: 'the forwarder read the kernel before web appeared, so it tries to add it'
        f.apply(twoServices())

        then:
        def e = thrown(KernelException)
        e.call() == 'IPVS_CMD_NEW_SERVICE'
        e.errno() == 17
        e.message.contains('applying AddService[service=Service[key=TCP 192.0.2.10:80')
        e.message.contains('(2 operations on services that failed were not sent)')

        and: 'web, made by someone else, gets none of the destinations and is not taken over; dns is owned'
        registry.toFile().readLines().findAll { !it.startsWith('#') } == ['udp 192.0.2.11 53']
        kernel.services[web].service() == Service.of(web, 'wrr')
        kernel.services[web].destinations().isEmpty()

        when: 'the next apply reads the kernel and refuses before any change'
        kernel.commands.clear()
        f.apply(twoServices())

        then:
        def refused = thrown(KernelException)
        refused.message.contains('TCP 192.0.2.10:80 exists and is not owned by Vigil')
        kernel.commands.every { it == IpvsCodec.CMD_GET_SERVICE || it == IpvsCodec.CMD_GET_DEST }
    }

    def "after the first apply a one-destination change is one request: no dump, no other service touched"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        kernel.commands.clear()

        when:
        def report = f.apply(twoServices().with(webPool(['198.51.100.1': 2, '198.51.100.2': 3])))

        then:
        report.operations().size() == 1
        kernel.commands == [IpvsCodec.CMD_SET_DEST]
        kernel.services[web].destinations()[new DestinationKey(ip('198.51.100.1'), 8080)].weight() == 2
    }

    def "a service deleted behind the forwarder's back: the change to it fails, and the next apply reads the kernel and makes it again"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        kernel.services.remove(web)
        def wanted = twoServices().with(webPool(['198.51.100.1': 2, '198.51.100.2': 3]))

        when: 'the forwarder still takes web to be there: its update is refused'
        f.apply(wanted)

        then:
        def e = thrown(KernelException)
        e.call() == 'IPVS_CMD_SET_DEST'
        !kernel.services.containsKey(web)

        when:
        kernel.commands.clear()
        def report = f.apply(wanted)

        then:
        kernel.commands.first() == IpvsCodec.CMD_GET_SERVICE
        report.operations().first() == new ForwardingOp.AddService(Service.of(web, 'wrr'))
        f.current() == wanted
        kernel.services[web].destinations().size() == 2
    }

    def "current() reads the kernel, so a service deleted behind the forwarder's back is made again by the next apply"() {
        given:
        def f = forwarder()
        f.apply(twoServices())
        kernel.services.remove(dns)

        expect:
        f.current() == twoServices().without(dns)
        f.apply(twoServices()).operations()*.class.unique() == [ForwardingOp.AddService, ForwardingOp.AddDestination]
        kernel.services.keySet() == [web, dns] as Set
    }

    def "a desired service that exists but is not owned is refused before any change"() {
        given:
        kernel.plant(Service.of(web, 'rr'))
        def f = forwarder()

        when:
        f.apply(twoServices())

        then:
        def e = thrown(KernelException)
        e.errno() == 17
        e.message.contains('TCP 192.0.2.10:80 exists and is not owned by Vigil')
        kernel.commands.every { it == IpvsCodec.CMD_GET_SERVICE }
    }

    def "everything the port expresses round-trips: fwmark, SCTP, IPv6, persistence, flags, DR/TUN, thresholds"() {
        given:
        def f = forwarder()
        def state = DesiredState.of(
                VirtualService.of(new Service(ServiceKey.fwmark(3, AddressFamily.INET), 'sh', 600, 24, ['sh-port', 'sh-fallback'] as Set),
                        [new Destination(ip('10.0.0.1'), 0, ForwardingMethod.DR, 2, 1000, 900)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('2001:db8::1'), 36412, Protocol.SCTP), 'mh'),
                        [new Destination(ip('10.0.0.2'), 36412, ForwardingMethod.TUN, 1, 0, 0)]),
                VirtualService.of(new Service(ServiceKey.of(ip('192.0.2.5'), 53, Protocol.UDP), 'wlc', 0, 32, ['ops'] as Set),
                        [Destination.nat(ip('10.0.0.3'), 53)]))

        when:
        f.apply(state)

        then:
        f.current() == state
        !forwarder().apply(state).changed()
    }

    def "flags that would not read back the same are refused before any change"() {
        when:
        forwarder().apply(DesiredState.of(VirtualService.of(new Service(web, 'wrr', 0, 32, ['sh-port'] as Set), [])))

        then:
        def e = thrown(KernelException)
        e.errno() == 22
        e.message.contains('sh-* flags need sh')
        kernel.services.isEmpty()
    }
}
