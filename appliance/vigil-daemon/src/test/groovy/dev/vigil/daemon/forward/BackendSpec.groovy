package dev.vigil.daemon.forward

import dev.vigil.config.model.ForwarderBackend
import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import dev.vigil.kernel.linux.ipvs.IpvsForwarder
import dev.vigil.kernel.linux.nft.NftContext
import spock.lang.Requires
import spock.lang.Specification

class BackendSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static final ServiceKey WEB = ServiceKey.of(ip('192.0.2.1'), 80, Protocol.TCP)

    def 'what the nftables forwarder cannot express is named; what it can passes'() {
        expect:
        Backend.nftablesLimit(vs) == reason

        where:
        vs                                                                                                     || reason
        VirtualService.of(Service.of(WEB, 'wrr'), [Destination.nat(ip('10.0.0.1'), 8080)])                      || null
        VirtualService.of(Service.of(ServiceKey.fwmark(3, AddressFamily.INET), 'sh'), [Destination.nat(ip('10.0.0.1'), 0)]) || null
        VirtualService.of(Service.of(WEB, 'wlc'), [])                                                           || 'lb_algo wlc (the nftables forwarder does [rr, sh, wrr])'
        VirtualService.of(Service.of(WEB, 'rr').withPersistence(60), [])                                        || 'persistence_timeout'
        VirtualService.of(new Service(WEB, 'rr', 0, 32, ['ops'] as Set), [])                                    || 'flags [ops]'
        VirtualService.of(Service.of(WEB, 'sh'), [new Destination(ip('10.0.0.1'), 80, ForwardingMethod.DR, 1, 0, 0)]) || null
        VirtualService.of(new Service(WEB, 'sh', 0, 32, ['sh-port'] as Set), [Destination.nat(ip('10.0.0.1'), 8080)]) || null
        VirtualService.of(Service.of(WEB, 'rr'), [new Destination(ip('10.0.0.1'), 80, ForwardingMethod.DR, 1, 0, 0)]) || 'lb_algo rr with DR forwarding (the director sees only the client\'s packets of a DR connection and nftables keeps no state for it, so only a hash of each packet can keep a connection on one real server: use lb_algo sh)'
        VirtualService.of(Service.of(WEB, 'sh'), [new Destination(ip('10.0.0.1'), 80, ForwardingMethod.TUN, 1, 0, 0)]) || 'TUN forwarding to 10.0.0.1:80 (the nftables forwarder does NAT and DR)'
        VirtualService.of(Service.of(WEB, 'rr'), [new Destination(ip('10.0.0.1'), 80, ForwardingMethod.NAT, 1, 10, 0)]) || 'uthreshold/lthreshold on 10.0.0.1:80'
        VirtualService.of(Service.of(ServiceKey.fwmark(3, AddressFamily.INET), 'rr'), [Destination.nat(ip('10.0.0.1'), 80)]) || 'a real server port on a fwmark service (10.0.0.1:80)'
    }

    @Requires(value = { NftContext.available() }, reason = 'libnftables1 is needed to open the nftables forwarder')
    def 'auto takes IPVS when the generic-netlink family resolves, else nftables, and says why'() {
        when:
        def b = Backend.open(ForwarderBackend.AUTO)

        then:
        IpvsForwarder.available() ? b.name() == 'ipvs' : b.name() == 'nftables'
        b.reason() == (b.name() == 'ipvs' ? 'vigil_forwarder auto: the generic-netlink family "IPVS" resolves'
                : 'vigil_forwarder auto: the kernel has no IPVS (the generic-netlink family "IPVS" does not resolve)')
        !b.traffic() || b.name() == 'ipvs'

        cleanup:
        b?.forwarder()?.close()
    }
}
