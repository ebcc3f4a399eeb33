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
        IpvsadmFormat.render('ipvs', state, null, false, true).readLines()*.stripTrailing() == '''\
            IP Virtual Server version 1.2.1 (backend=ipvs)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  192.0.2.1:443 sh (sh-port) persistent 300 mask 255.255.255.0 ops
              -> 198.51.100.1:443             Route   5      -          -
            SCTP  192.0.2.2:3868 rr
            UDP  [2001:db8::1]:53 rr
              -> [2001:db8::2]:53             Tunnel  1      -          -
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
        IpvsadmFormat.render('nftables', state, stats, true, false).readLines()[3..4] == [
                'TCP  192.0.2.1:80                        7        -        -        -        -',
                '  -> 10.0.0.1:80                         7        -        -        -        -']
    }

    def 'IPVS counters print both directions under --stats, and the connection gauges in the plain layout'() {
        given:
        def key = ServiceKey.of(ip('2001:db8::80'), 443, Protocol.TCP)
        def a = new Destination(ip('2001:db8:1::a'), 8443, ForwardingMethod.NAT, 3, 0, 0)
        def b = new Destination(ip('2001:db8:1::b'), 8443, ForwardingMethod.NAT, 1, 0, 0)
        def state = DesiredState.of(VirtualService.of(Service.of(key, 'wrr'), [a, b]))
        def ca = new ForwarderStats.Counters(12, 480, 360, 123_456_789_012L, 45_000, 4, 8)
        def cb = new ForwarderStats.Counters(3, 120, 90, 6000, 11_250, 0, 3)
        def total = new ForwarderStats.Counters(15, 600, 450, 123_456_795_012L, 56_250, ForwarderStats.Counters.UNKNOWN,
                ForwarderStats.Counters.UNKNOWN)
        def stats = new ForwarderStats(new TreeMap([(key): new ForwarderStats.ServiceStats(total,
                new TreeMap([(a.key()): ca, (b.key()): cb]))]))

        expect:
        IpvsadmFormat.render('ipvs', state, stats, true, true).readLines() == '''\
            IP Virtual Server version 1.2.1 (backend=ipvs)
            Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
              -> RemoteAddress:Port
            TCP  [2001:db8::80]:443                 15      600      450     123G    56250
              -> [2001:db8:1::a]:8443               12      480      360     123G    45000
              -> [2001:db8:1::b]:8443                3      120       90     6000    11250
            '''.stripIndent().readLines()
        IpvsadmFormat.render('ipvs', state, stats, false, true).readLines()*.stripTrailing()[3..5] == [
                'TCP  [2001:db8::80]:443 wrr',
                '  -> [2001:db8:1::a]:8443         Masq    3      4          8',
                '  -> [2001:db8:1::b]:8443         Masq    1      0          3']
    }

    def 'what the stats do not mention, or a counter the backend does not keep, prints as -'() {
        given:
        def key = ServiceKey.of(ip('192.0.2.1'), 80, Protocol.TCP)
        def d = Destination.nat(ip('10.0.0.1'), 80)
        def state = DesiredState.of(VirtualService.of(Service.of(key, 'rr'), [d]))
        def c = new ForwarderStats.Counters(5, 50, ForwarderStats.Counters.UNKNOWN, 5000, ForwarderStats.Counters.UNKNOWN,
                2, ForwarderStats.Counters.UNKNOWN)
        def stats = new ForwarderStats(new TreeMap([(key): new ForwarderStats.ServiceStats(c, new TreeMap([(d.key()): c]))]))
        def none = new ForwarderStats(new TreeMap())

        expect:
        IpvsadmFormat.render('ipvs', state, stats, true, true).readLines()[4] ==
                '  -> 10.0.0.1:80                         5       50        -     5000        -'
        IpvsadmFormat.render('ipvs', state, stats, false, true).readLines()[4].stripTrailing() ==
                '  -> 10.0.0.1:80                  Masq    1      2          -'
        IpvsadmFormat.render('ipvs', state, none, true, true).readLines()[3..4] == [
                'TCP  192.0.2.1:80                        -        -        -        -        -',
                '  -> 10.0.0.1:80                         -        -        -        -        -']
        IpvsadmFormat.largeNumber(ForwarderStats.Counters.UNKNOWN) == '        -'
    }

    def 'addresses print as inet_ntop writes them'() {
        expect:
        AddressText.of(InetAddress.getByName(address)) == text

        where:
        address                                   || text
        '192.0.2.1'                               || '192.0.2.1'
        '2001:db8:0:0:0:0:0:1'                    || '2001:db8::1'
        '2001:0DB8:0000:0001:0000:0000:0000:0001' || '2001:db8:0:1::1'
        '2001:db8:0:0:1:0:0:1'                    || '2001:db8::1:0:0:1'
        '2001:db8:0:1:1:1:1:1'                    || '2001:db8:0:1:1:1:1:1'
        '::1'                                     || '::1'
        '::'                                      || '::'
        '1::'                                     || '1::'
        'fe80::1%1'                               || 'fe80::1'
        '::1.2.3.4'                               || '::1.2.3.4'
        '0:0:0:0:0:ffff:0102:0304'                || '1.2.3.4'
    }
}
