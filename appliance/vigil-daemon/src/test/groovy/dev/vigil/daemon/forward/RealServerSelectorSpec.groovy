package dev.vigil.daemon.forward

import dev.vigil.kernel.forward.Protocol
import spock.lang.Specification

class RealServerSelectorSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    def 'virtual servers are named by address and port, fwmark or group; real servers by address and optional port'() {
        expect:
        RealServerSelector.parse(virtual, real, protocol).toString() == text

        where:
        virtual              | real               | protocol || text
        '10.0.0.1:80'        | '10.0.1.1:8080'    | null     || '10.0.1.1:8080 of 10.0.0.1:80'
        '10.0.0.1:80'        | '10.0.1.1'         | 'udp'    || '10.0.1.1 of 10.0.0.1:80 UDP'
        '10.0.0.1'           | '10.0.1.1'         | null     || '10.0.1.1 of 10.0.0.1'
        '[2001:db8::1]:443'  | '[2001:db8::2]:80' | null     || '[2001:db8:0:0:0:0:0:2]:80 of [2001:db8:0:0:0:0:0:1]:443'
        'fwmark 7'           | '10.0.1.1'         | null     || '10.0.1.1 of fwmark 7'
        'group WEB'          | '10.0.1.1:80'      | null     || '10.0.1.1:80 of group WEB'
    }

    def 'what cannot be read is refused with a message naming it'() {
        when:
        RealServerSelector.parse(virtual, real, protocol)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == message

        where:
        virtual          | real           | protocol || message
        'fwmark x'       | '10.0.1.1'     | null     || 'fwmark "x" is not a number'
        'www.example:80' | '10.0.1.1'     | null     || 'virtual server "www.example:80": expected an IP address'
        '10.0.0.1:http'  | '10.0.1.1'     | null     || 'virtual server "10.0.0.1:http": invalid port "http"'
        '10.0.0.1:80'    | '10.0.1.1:7x'  | null     || 'real server "10.0.1.1:7x": invalid port "7x"'
        '10.0.0.1:80'    | '[2001:db8::2' | null     || 'real server "[2001:db8::2": missing ]'
        '10.0.0.1:80'    | '10.0.1.1'     | 'ICMP'   || 'protocol "ICMP" (expected TCP, UDP or SCTP)'
    }

    def 'an address selector with a protocol names only that protocol'() {
        expect:
        (RealServerSelector.parse('10.0.0.1:80', '10.0.1.1', 'tcp').virtual() as RealServerSelector.Virtual.Address).protocol() == Protocol.TCP
        (RealServerSelector.parse('10.0.0.1:80', '10.0.1.1', null).virtual() as RealServerSelector.Virtual.Address).protocol() == null
    }
}
