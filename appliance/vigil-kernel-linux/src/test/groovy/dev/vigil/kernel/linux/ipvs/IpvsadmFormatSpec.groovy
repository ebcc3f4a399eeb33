package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import spock.lang.Specification

/**
 * The renderer the guest's IpvsListingSpec compares ipvsadm with, checked against what ipvsadm
 * v1.31 really printed in the qemu guest of tests/qemu for rules made with ipvsadm itself
 * ({@code -A -t 10.0.0.1:80 -s wrr}, {@code -a ... -r 10.0.0.2:8080 -m -w 3}, ...; see the
 * fixtures below, copied from the guest's console).
 */
class IpvsadmFormatSpec extends Specification {
    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static Destination dest(String a, int port, ForwardingMethod m, int w, int upper = 0, int lower = 0) {
        new Destination(ip(a), port, m, w, upper, lower)
    }

    /** The rules behind the fixtures, as records. */
    static final DesiredState STATE = DesiredState.of(
            VirtualService.of(Service.of(ServiceKey.of(ip('10.0.0.1'), 80, Protocol.TCP), 'wrr'), [
                    dest('10.0.0.2', 8080, ForwardingMethod.NAT, 3),
                    dest('10.0.0.3', 80, ForwardingMethod.DR, 1, 100, 10),
                    dest('10.0.0.4', 80, ForwardingMethod.TUN, 0)]),
            VirtualService.of(new Service(ServiceKey.of(ip('10.0.0.1'), 81, Protocol.TCP), 'lc', 0, 32, ['flag-1'] as Set), []),
            VirtualService.of(new Service(ServiceKey.of(ip('10.0.0.1'), 53, Protocol.UDP), 'sh', 0, 32,
                    ['sh-port', 'ops', 'sh-fallback'] as Set), []),
            VirtualService.of(new Service(ServiceKey.of(ip('10.0.0.1'), 54, Protocol.UDP), 'mh', 0, 32, ['mh-port'] as Set), []),
            VirtualService.of(new Service(ServiceKey.of(ip('10.0.0.1'), 9, Protocol.SCTP), 'lblc', 300, 24, [] as Set), []),
            VirtualService.of(new Service(ServiceKey.of(ip('2001:db8::1'), 443, Protocol.TCP), 'rr', 60, 64, [] as Set),
                    [dest('2001:db8::2', 443, ForwardingMethod.NAT, 2)]),
            VirtualService.of(Service.of(ServiceKey.fwmark(5, AddressFamily.INET), 'nq'), [dest('10.0.0.9', 0, ForwardingMethod.DR, 1)]),
            VirtualService.of(new Service(ServiceKey.fwmark(6, AddressFamily.INET6), 'sed', 120, 128, [] as Set),
                    [dest('2001:db8::9', 0, ForwardingMethod.TUN, 1)]))

    static final String SAVED = '''\
        -A -t 10.0.0.1:80 -s wrr
        -a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3
        -a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1
        -a -t 10.0.0.1:80 -r 10.0.0.4:80 -i -w 0 --tun-type ipip
        -A -t 10.0.0.1:81 -s lc -b flag-1
        -A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port
        -A -u 10.0.0.1:54 -s mh -b mh-port
        -A --sctp-service 10.0.0.1:9 -s lblc -p 300 -M 255.255.255.0
        -A -t [2001:db8::1]:443 -s rr -p 60 -M 64
        -a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 2
        -A -f 5 -s nq
        -a -f 5 -r 10.0.0.9:0 -g -w 1
        -A -f 6 -6 -s sed -p 120
        -a -f 6 -6 -r [2001:db8::9]:0 -i -w 1 --tun-type ipip
        '''.stripIndent()

    static final String LISTED = '''\
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
        TCP  10.0.0.1:80 wrr
          -> 10.0.0.2:8080                Masq    3      0          0
          -> 10.0.0.3:80                  Route   1      0          0
          -> 10.0.0.4:80                  Tunnel  0      0          0
        TCP  10.0.0.1:81 lc (flag-1)
        UDP  10.0.0.1:53 sh (sh-fallback,sh-port) ops
        UDP  10.0.0.1:54 mh (mh-port)
        SCTP 10.0.0.1:9 lblc persistent 300 mask 255.255.255.0
        TCP  [2001:db8::1]:443 rr persistent 60 mask 64
          -> [2001:db8::2]:443            Masq    2      0          0
        FWM  5 nq
          -> 10.0.0.9:0                   Route   1      0          0
        FWM  6 IPv6 sed persistent 120
          -> [2001:db8::9]:0              Tunnel  1      0          0
        '''.stripIndent()

    static final String THRESHOLDS = '''\
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
          -> RemoteAddress:Port
        TCP  10.0.0.1:80 wrr
          -> 10.0.0.2:8080                0          0          0          0
          -> 10.0.0.3:80                  100        10         0          0
          -> 10.0.0.4:80                  0          0          0          0
        TCP  10.0.0.1:81 lc (flag-1)
        UDP  10.0.0.1:53 sh (sh-fallback,sh-port) ops
        UDP  10.0.0.1:54 mh (mh-port)
        SCTP 10.0.0.1:9 lblc persistent 300 mask 255.255.255.0
        TCP  [2001:db8::1]:443 rr persistent 60 mask 64
          -> [2001:db8::2]:443            0          0          0          0
        FWM  5 nq
          -> 10.0.0.9:0                   0          0          0          0
        FWM  6 IPv6 sed persistent 120
          -> [2001:db8::9]:0              0          0          0          0
        '''.stripIndent()

    def "the rules render as ipvsadm -Sn printed them"() {
        expect:
        IpvsadmFormat.rules(STATE, false) == SAVED.readLines()*.trim().findAll().sort()
    }

    def "rules for ipvsadm -R carry the thresholds -Sn leaves out"() {
        expect:
        IpvsadmFormat.rules(STATE, true).contains('-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1 -x 100 -y 10')
        IpvsadmFormat.rules(STATE, true).size() == IpvsadmFormat.rules(STATE, false).size()
    }

    def "the listing and the thresholds listing render as ipvsadm -Ln printed them"() {
        expect:
        IpvsadmFormat.listing(STATE) == IpvsadmFormat.parseListing(LISTED)
        IpvsadmFormat.thresholds(STATE) == IpvsadmFormat.parseListing(THRESHOLDS)
        IpvsadmFormat.parseListing(LISTED).size() == 8
        IpvsadmFormat.parseListing(LISTED)['TCP 10.0.0.1:80 wrr'] ==
                ['-> 10.0.0.2:8080 Masq 3 0 0', '-> 10.0.0.3:80 Route 1 0 0', '-> 10.0.0.4:80 Tunnel 0 0 0']
    }

    def "a changed weight, method or flag no longer matches"() {
        expect:
        IpvsadmFormat.listing(STATE.with(changed)) != IpvsadmFormat.parseListing(LISTED)

        where:
        changed << [
                VirtualService.of(Service.of(ServiceKey.of(ip('10.0.0.1'), 80, Protocol.TCP), 'wrr'), [
                        dest('10.0.0.2', 8080, ForwardingMethod.NAT, 4),
                        dest('10.0.0.3', 80, ForwardingMethod.DR, 1),
                        dest('10.0.0.4', 80, ForwardingMethod.TUN, 0)]),
                VirtualService.of(Service.of(ServiceKey.of(ip('10.0.0.1'), 80, Protocol.TCP), 'wrr'), [
                        dest('10.0.0.2', 8080, ForwardingMethod.NAT, 3),
                        dest('10.0.0.3', 80, ForwardingMethod.TUN, 1),
                        dest('10.0.0.4', 80, ForwardingMethod.TUN, 0)]),
                VirtualService.of(new Service(ServiceKey.of(ip('10.0.0.1'), 54, Protocol.UDP), 'mh', 0, 32, ['mh-fallback'] as Set), [])]
    }

    def "a listing line before any service is refused"() {
        when:
        IpvsadmFormat.parseListing('  -> 10.0.0.2:8080 Masq 3 0 0')

        then:
        thrown(IllegalArgumentException)
    }

    def "IPv6 addresses print as inet_ntop prints them (RFC 5952)"() {
        expect:
        IpvsadmFormat.text(ip(address)) == text

        where:
        address                   | text
        '2001:db8:0:0:0:0:0:1'    | '2001:db8::1'
        '2001:db8:0:1:0:0:0:1'    | '2001:db8:0:1::1'
        '2001:db8:0:0:1:0:0:1'    | '2001:db8::1:0:0:1'
        '2001:0:0:1:0:0:0:1'      | '2001:0:0:1::1'
        '2001:db8:1:2:3:4:0:5'    | '2001:db8:1:2:3:4:0:5'
        '0:0:0:0:0:0:0:1'         | '::1'
        '0:0:0:0:0:0:0:0'         | '::'
        '2001:db8:0:0:0:0:0:0'    | '2001:db8::'
        '2001:DB8:0:0:0:0:ABCD:0' | '2001:db8::abcd:0'
        '192.0.2.1'               | '192.0.2.1'
    }
}
