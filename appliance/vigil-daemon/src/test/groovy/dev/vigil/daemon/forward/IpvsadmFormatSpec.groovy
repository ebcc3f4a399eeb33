package dev.vigil.daemon.forward

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.ForwarderStats
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Specification

class IpvsadmFormatSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    def 'services print as ipvsadm names them, with scheduler flags, persistence, mask and ops'() {
        given:
        def v4 = ServiceKey.of(ip('192.0.2.1'), 443, Protocol.TCP)
        def state = DesiredState.of(
                VirtualService.of(new Service(v4, 'sh', 300, 24, ['sh-port', 'ops'] as Set),
                        [new Destination(ip('198.51.100.1'), 443, ForwardingMethod.DR, 5, 0, 0)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('2001:db8::1'), 53, Protocol.UDP), 'rr'),
                        [new Destination(ip('2001:db8::2'), 53, ForwardingMethod.TUN, 1, 0, 0)]),
                VirtualService.of(Service.of(ServiceKey.fwmark(7, AddressFamily.INET6), 'wlc'), []),
                VirtualService.of(Service.of(ServiceKey.of(ip('192.0.2.2'), 3868, Protocol.SCTP), 'rr'), []))

        expect:
        IpvsadmFormat.render('ipvs', state, null, true).readLines()*.stripTrailing() == '''\
            IP Virtual Server version 1.2.1 (backend=ipvs)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  192.0.2.1:443 sh (sh-port) persistent 300 mask 255.255.255.0 ops
              -> 198.51.100.1:443             Route   5      -          -
            SCTP  192.0.2.2:3868 rr
            UDP  [2001:db8:0:0:0:0:0:1]:53 rr
              -> [2001:db8:0:0:0:0:0:2]:53    Tunnel  1      -          -
            FWM  7 IPv6 wlc
            '''.stripIndent().readLines()
    }

    def 'large counters scale as ipvsadm scales them'() {
        expect:
        IpvsadmFormat.largeNumber(n) == text

        where:
        n                     || text
        0                     || '        0'
        99_999_999            || ' 99999999'
        100_000_000           || '  100000K'
        1_234_567_890         || '    1234M'
        123_456_789_012       || '     123G'
        1_234_567_890_123_456 || '    1234T'
    }

    def 'a backend that counts only connections shows - for packets and bytes'() {
        given:
        def key = ServiceKey.of(ip('192.0.2.1'), 80, Protocol.TCP)
        def d = Destination.nat(ip('10.0.0.1'), 80)
        def state = DesiredState.of(VirtualService.of(Service.of(key, 'rr'), [d]))
        def c = new ForwarderStats.Counters(7, 0, 0)
        def stats = new ForwarderStats(new TreeMap([(key): new ForwarderStats.ServiceStats(c, new TreeMap([(d.key()): c]))]))

        expect:
        IpvsadmFormat.render('nftables', state, stats, false).readLines()[3..4] == [
                'TCP  192.0.2.1:80                        7        -        -        -        -',
                '  -> 10.0.0.1:80                         7        -        -        -        -']
    }
}
