package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderContractSpec
import dev.vigil.kernel.forward.ForwardingMethod
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

    def "the first failing operation stops the apply and is named in the error; the rest is not sent"() {
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
        kernel.commands.findAll { it != IpvsCodec.CMD_GET_SERVICE } == [IpvsCodec.CMD_NEW_SERVICE, IpvsCodec.CMD_NEW_DEST]

        and: 'what was created stays owned, and the next apply completes it'
        f.current().services().keySet() == [web] as Set
        f.current().services()[web].destinations().isEmpty()
        f.apply(twoServices()).operations().size() == 4
        f.current() == twoServices()
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
