package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.DestinationKey
import dev.vigil.kernel.forward.ForwarderStats
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.linux.Netlink
import spock.lang.Requires
import spock.lang.Specification

import java.nio.ByteOrder

/**
 * Byte fixtures for every IPVS request, written out from the attribute tables of linux/ip_vs.h
 * rather than produced by the codec. Layout of each line: nlmsghdr (len, type, flags, seq, pid),
 * genlmsghdr (cmd, version 1, reserved), then attributes as {@code len type value [padding]}; a
 * nested attribute's type has NLA_F_NESTED (0x8000) set. Host-order fields are little-endian; the
 * ports (0050 = 80, 1f90 = 8080) and the IPv4 netmask are network order.
 */
@Requires(value = { ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN }, reason = 'byte fixtures are for little-endian hosts (x86_64)')
class IpvsCodecSpec extends Specification {
    static final int FAMILY = 0x1b
    static final long UNKNOWN = ForwarderStats.Counters.UNKNOWN

    static byte[] hex(String s) {
        s = s.replaceAll(/#[^\n]*/, '').replaceAll(/\s+/, '')
        (0..<s.length() / 2).collect { Integer.parseInt(s.substring(it * 2, it * 2 + 2), 16) as byte } as byte[]
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static ServiceKey web = ServiceKey.of(ip('192.0.2.10'), 80, Protocol.TCP)

    /** The service identity of {@code web}: 48 bytes including the nest header. */
    static final String WEB_IDENTITY = '''
        3000 0180                                     # IPVS_CMD_ATTR_SERVICE, 48 bytes
          0600 0100 0200 0000                         # AF = AF_INET (2), u16 + 2 padding
          0600 0200 0600 0000                         # PROTOCOL = 6 (tcp)
          1400 0300 c000020a 00000000 00000000 00000000  # ADDR 192.0.2.10 as nf_inet_addr
          0600 0400 0050 0000                         # PORT 80, network order
    '''

    def "resolving the family asks the controller for IPVS"() {
        expect:
        IpvsCodec.resolveFamily('IPVS').build(1) == hex('''
            20000000 1000 0500 01000000 00000000      # 32 bytes, GENL_ID_CTRL, REQUEST|ACK, seq 1
            03 01 0000                                # CTRL_CMD_GETFAMILY, version 1
            0900 0200 49505653 00 000000              # CTRL_ATTR_FAMILY_NAME "IPVS\\0" + 3 padding
        ''')
    }

    def "the controller's reply yields the family id"() {
        given:
        def reply = new Netlink.Message(0x10, 0, 1, 0, hex('''
            01 02 0000                                # CTRL_CMD_NEWFAMILY, version 2
            0900 0200 49505653 00 000000              # FAMILY_NAME "IPVS"
            0600 0100 1b00 0000                       # FAMILY_ID 0x1b
            0800 0300 01000000                        # VERSION 1
        '''))

        expect:
        IpvsCodec.familyId(reply) == 0x1b
    }

    def "a controller reply without the id, or of another type, is refused"() {
        when:
        IpvsCodec.familyId(new Netlink.Message(type, 0, 1, 0, hex(payload)))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(text)

        where:
        type | payload                                       | text
        0x10 | '01 02 0000 0900 0200 49505653 00 000000'     | 'no CTRL_ATTR_FAMILY_ID'
        0x1b | '01 02 0000 0600 0100 1b00 0000'              | 'message type 27'
        0x10 | '01 02'                                       | 'bytes (expected: >= 4)'
    }

    def "NEW_SERVICE carries identity, scheduler, flags with a full mask, timeout and netmask"() {
        expect:
        IpvsCodec.newService(FAMILY, Service.of(web, 'wrr')).build(1) == hex('''
            68000000 1b00 0500 01000000 00000000      # 104 bytes, family 0x1b, REQUEST|ACK
            01 01 0000                                # IPVS_CMD_NEW_SERVICE, version 1
            5400 0180                                 # SERVICE, 84 bytes
              0600 0100 0200 0000
              0600 0200 0600 0000
              1400 0300 c000020a 00000000 00000000 00000000
              0600 0400 0050 0000
              0800 0600 77727200                      # SCHED_NAME "wrr\\0"
              0c00 0700 00000000 ffffffff             # FLAGS {flags 0, mask ~0}
              0800 0800 00000000                      # TIMEOUT 0
              0800 0900 ffffffff                      # NETMASK 255.255.255.255
        ''')
    }

    def "SET_SERVICE of a persistent sh service sets PERSISTENT and the flag bits, and a /24 netmask"() {
        given:
        def s = new Service(web, 'sh', 300, 24, ['sh-port'] as Set)

        expect:
        IpvsCodec.setService(FAMILY, s).build(2) == hex('''
            68000000 1b00 0500 02000000 00000000
            02 01 0000                                # IPVS_CMD_SET_SERVICE
            5400 0180
              0600 0100 0200 0000
              0600 0200 0600 0000
              1400 0300 c000020a 00000000 00000000 00000000
              0600 0400 0050 0000
              0700 0600 736800 00                     # "sh\\0" + 1 padding
              0c00 0700 11000000 ffffffff             # PERSISTENT 0x1 | SCHED2 0x10
              0800 0800 2c010000                      # TIMEOUT 300
              0800 0900 ffffff00                      # NETMASK 255.255.255.0, network order
        ''')
    }

    def "an IPv6 fwmark service sends the mark instead of protocol, address and port, and a prefix length"() {
        expect:
        IpvsCodec.newService(FAMILY, Service.of(ServiceKey.fwmark(5, AddressFamily.INET6), 'rr')).build(3) == hex('''
            4c000000 1b00 0500 03000000 00000000      # 76 bytes
            01 01 0000
            3800 0180                                 # SERVICE, 56 bytes
              0600 0100 0a00 0000                     # AF_INET6 (10)
              0800 0500 05000000                      # FWMARK 5
              0700 0600 727200 00                     # "rr\\0"
              0c00 0700 00000000 ffffffff
              0800 0800 00000000
              0800 0900 80000000                      # NETMASK = prefix length 128
        ''')
    }

    def "DEL_SERVICE carries only the identity"() {
        expect:
        IpvsCodec.delService(FAMILY, web).build(4) == hex("""
            44000000 1b00 0500 04000000 00000000      # 68 bytes
            03 01 0000                                # IPVS_CMD_DEL_SERVICE
            ${WEB_IDENTITY}
        """)
    }

    def "the service dump is a bare GET_SERVICE with NLM_F_DUMP"() {
        expect:
        IpvsCodec.dumpServices(FAMILY).build(5) == hex('''
            14000000 1b00 0103 05000000 00000000      # 20 bytes, REQUEST|DUMP (0x301)
            04 01 0000                                # IPVS_CMD_GET_SERVICE
        ''')
    }

    def "the destination dump names its service"() {
        expect:
        IpvsCodec.dumpDestinations(FAMILY, web).build(6) == hex("""
            44000000 1b00 0103 06000000 00000000
            08 01 0000                                # IPVS_CMD_GET_DEST
            ${WEB_IDENTITY}
        """)
    }

    def "NEW_DEST and SET_DEST carry the service identity and every destination attribute"() {
        given:
        def d = new Destination(ip('198.51.100.1'), 8080, method, 3, 100, 10)

        expect:
        IpvsCodec."${verb}Destination"(FAMILY, web, d).build(7) == hex("""
            8c000000 1b00 0500 07000000 00000000      # 140 bytes
            ${cmd} 01 0000
            ${WEB_IDENTITY}
            4800 0280                                 # IPVS_CMD_ATTR_DEST, 72 bytes
              1400 0100 c6336401 00000000 00000000 00000000  # ADDR 198.51.100.1
              0600 0200 1f90 0000                     # PORT 8080, network order
              0600 0b00 0200 0000                     # ADDR_FAMILY AF_INET
              0800 0300 ${fwd} 000000                 # FWD_METHOD
              0800 0400 03000000                      # WEIGHT 3
              0800 0500 64000000                      # U_THRESH 100
              0800 0600 0a000000                      # L_THRESH 10
        """)

        where:
        verb  | cmd  | method                | fwd
        'new' | '05' | ForwardingMethod.NAT  | '00'
        'new' | '05' | ForwardingMethod.TUN  | '02'
        'set' | '06' | ForwardingMethod.DR   | '03'
    }

    def "DEL_DEST carries the service identity and the destination's address and port"() {
        expect:
        IpvsCodec.delDestination(FAMILY, web, new DestinationKey(ip('198.51.100.1'), 8080)).build(8) == hex("""
            6c000000 1b00 0500 08000000 00000000      # 108 bytes
            07 01 0000                                # IPVS_CMD_DEL_DEST
            ${WEB_IDENTITY}
            2800 0280                                 # DEST, 40 bytes
              1400 0100 c6336401 00000000 00000000 00000000
              0600 0200 1f90 0000
              0600 0b00 0200 0000
        """)
    }

    def "a flush is IPVS_CMD_FLUSH without attributes"() {
        expect:
        IpvsCodec.flush(FAMILY).build(4) == hex('''
            14000000 1b00 0500 04000000 00000000      # 20 bytes, the IPVS family, REQUEST|ACK, seq 4
            11 01 0000                                # IPVS_CMD_FLUSH (17), version 1
        ''')
    }

    def "an IPv6 destination has a full 16-byte address and AF_INET6"() {
        given:
        def key = ServiceKey.of(ip('2001:db8::10'), 443, Protocol.TCP)
        def bytes = IpvsCodec.delDestination(FAMILY, key, new DestinationKey(ip('2001:db8:1::2'), 8443)).build(9)

        expect:
        bytes.length == 108
        // Service ADDR value at 20 + 4 + 8 + 8 + 4 = 44, destination ADDR value at 20 + 48 + 4 + 4 = 76.
        bytes[44..<60] == hex('20010db8 00000000 00000000 00000010') as List
        bytes[28..<30] == hex('0a00') as List
        bytes[76..<92] == hex('20010db8 00010000 00000000 00000002') as List
        bytes[96..<98] == hex('20fb') as List
        bytes[100..<104] == hex('0600 0b00') as List
        bytes[104..<106] == hex('0a00') as List
    }

    /** A service as the kernel dumps it: nests without NLA_F_NESTED, HASHED set, 32- and 64-bit stats. */
    static final String SERVICE_REPLY = '''
        01 01 0000                                    # IPVS_CMD_NEW_SERVICE (dump replies reuse it)
        c000 0100                                     # SERVICE, 192 bytes, no NLA_F_NESTED
          0600 0100 0200 0000
          0600 0200 0600 0000
          1400 0300 c000020a 00000000 00000000 00000000
          0600 0400 0050 0000
          0800 0600 77727200
          0c00 0700 03000000 ffffffff                 # PERSISTENT | HASHED
          0800 0800 78000000                          # TIMEOUT 120
          0800 0900 ffffffff
          2c00 0a00                                   # STATS (u32), 44 bytes
            0800 0100 07000000  0800 0200 64000000  0800 0300 32000000
            0800 0400 70170000  0800 0500 b80b0000
          4000 0c00                                   # STATS64, 64 bytes
            0c00 0100 0700000000000000  0c00 0200 6400000000000000
            0c00 0300 3200000000000000  0c00 0400 0000000001000000
            0c00 0500 b80b000000000000
    '''

    def "a service dump reply decodes into the port's record, preferring 64-bit stats"() {
        when:
        def entry = IpvsCodec.parseService(new Netlink.Message(FAMILY, Netlink.NLM_F_MULTI, 5, 0, hex(SERVICE_REPLY)))

        then:
        entry.service() == new Service(web, 'wrr', 120, 32, [] as Set)
        entry.stats() == new ForwarderStats.Counters(7, 100, 50, 0x100000000L, 3000, UNKNOWN, UNKNOWN)
    }

    def "a destination dump reply decodes, with 32-bit stats when no 64-bit ones are present"() {
        given:
        def payload = hex('''
            05 01 0000
            8800 0200                                 # DEST, 136 bytes
              1400 0100 c6336401 00000000 00000000 00000000
              0600 0b00 0200 0000                     # ADDR_FAMILY
              0600 0200 1f90 0000                     # PORT 8080
              0800 0300 03000000                      # FWD_METHOD DROUTE
              0800 0400 03000000                      # WEIGHT 3
              0500 0d00 00 000000                     # TUN_TYPE ipip
              0600 0e00 0000 0000                     # TUN_PORT
              0600 0f00 0000 0000                     # TUN_FLAGS
              0800 0500 64000000                      # U_THRESH 100
              0800 0600 0a000000                      # L_THRESH 10
              0800 0700 02000000                      # ACTIVE_CONNS
              0800 0800 01000000                      # INACT_CONNS
              0c00 0a00                               # STATS, only CONNS and INBYTES
                0800 0100 09000000
              0c00 0a00 0800 0400 e8030000            # a second STATS: ignored, the first wins
        ''')

        when:
        def entry = IpvsCodec.parseDestination(new Netlink.Message(FAMILY, Netlink.NLM_F_MULTI, 6, 0, payload), AddressFamily.INET)

        then:
        entry.destination() == new Destination(ip('198.51.100.1'), 8080, ForwardingMethod.DR, 3, 100, 10)
        entry.stats() == new ForwarderStats.Counters(9, 0, 0, 0, 0, 2, 1)
    }

    /** A masquerading destination of 198.51.100.1:8080, weight 1, followed by {@code rest}; {@code len} is the nest's length. */
    static byte[] destinationReply(String len, String rest) {
        hex("""
            05 01 0000
            ${len} 0200
              1400 0100 c6336401 00000000 00000000 00000000
              0600 0200 1f90 0000
              0800 0300 00000000                      # FWD_METHOD MASQ
              0800 0400 01000000                      # WEIGHT 1
              ${rest}
        """)
    }

    def "the kernel's 32-bit STATS decode whole: u32 connections and packets, u64 bytes, a PAD attribute passed over"() {
        given: 'ip_vs_genl_fill_stats writes the byte counters with nla_put_u64_64bit even in STATS'
        def payload = destinationReply('6800', '''
              3800 0a00                               # STATS, 56 bytes
                0800 0100 05000000                    # CONNS 5
                0800 0200 ffffffff                    # INPKTS 2^32 - 1
                0800 0300 28000000                    # OUTPKTS 40
                0400 0b00                             # PAD
                0c00 0400 0100000001000000            # INBYTES 2^32 + 1
                0c00 0500 e803000000000000            # OUTBYTES 1000
        ''')

        when:
        def entry = IpvsCodec.parseDestination(new Netlink.Message(FAMILY, Netlink.NLM_F_MULTI, 6, 0, payload), AddressFamily.INET)

        then: 'no ACTIVE_CONNS or INACT_CONNS in the reply: the gauges are unknown, not 0'
        entry.stats() == new ForwarderStats.Counters(5, 0xffffffffL, 40, 0x100000001L, 1000, UNKNOWN, UNKNOWN)
    }

    def "a short connection gauge, a stats value of 2 bytes or a 64-bit counter beyond a long is refused"() {
        when:
        IpvsCodec.parseDestination(new Netlink.Message(FAMILY, 0, 1, 0, destinationReply(len, rest)), AddressFamily.INET)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == text

        where:
        len    | rest                                              | text
        '3800' | '0600 0700 0200 0000'                             | 'IPVS reply: IPVS_DEST_ATTR_ACTIVE_CONNS of 2 bytes (expected: >= 4)'
        '3800' | '0600 0800 0100 0000'                             | 'IPVS reply: IPVS_DEST_ATTR_INACT_CONNS of 2 bytes (expected: >= 4)'
        '3c00' | '0c00 0a00 0600 0100 0700 0000'                   | 'IPVS stats attribute 1: 2 bytes (expected: 4 or 8)'
        '4000' | '1000 0c00 0c00 0200 0000000000000080'            | 'IPVS stats attribute 2: 9223372036854775808 (expected: < 2^63)'
    }

    def "malformed dump replies are refused with what is wrong"() {
        when:
        IpvsCodec.parseService(new Netlink.Message(FAMILY, 0, 1, 0, hex(payload)))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(text)

        where:
        payload                                                                   | text
        '01 01'                                                                   | 'bytes (expected: >= 4)'
        '01 01 0000'                                                              | 'no IPVS_CMD_ATTR_SERVICE'
        '01 01 0000 1400 0100 0800 0200 06000000 0600 0300 0000 0000'            | 'no IPVS_SVC_ATTR_AF'
        '01 01 0000 0c00 0100 0600 0100 0700 0000'                                | 'AF 7 (expected: 2 or 10)'
        '01 01 0000 1400 0100 0600 0100 0200 0000 0600 0200 0100 0000'            | 'protocol 1'
        '01 01 0000 4000 0100 0600 0100 0200 0000'                                | 'length 64'
        SERVICE_REPLY.replace('0800 0600 77727200', '0800 0d00 77727200')         | 'no IPVS_SVC_ATTR_SCHED_NAME'
        SERVICE_REPLY.replace('0800 0900 ffffffff', '0800 0900 ff00ff00')          | 'not contiguous'
        SERVICE_REPLY.replace('0c00 0700 03000000 ffffffff', '0600 0700 0300 0000 0400 0d00') | 'IPVS_SVC_ATTR_FLAGS of 2 bytes'
    }

    def "a destination with the LOCALNODE method or no weight is refused"() {
        when:
        IpvsCodec.parseDestination(new Netlink.Message(FAMILY, 0, 1, 0, hex("""
            05 01 0000 ${len} 0200
              1400 0100 c6336401 00000000 00000000 00000000
              0600 0200 1f90 0000
              ${rest}
        """)), AddressFamily.INET)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(text)

        where:
        len    | rest                                    | text
        '3000' | '0800 0300 01000000 0800 0400 01000000' | 'forwarding method 1'
        '2800' | '0800 0300 00000000'                    | 'no IPVS_DEST_ATTR_WEIGHT'
    }

    def "requests and replies round-trip for every scheduler flag the port names"() {
        given:
        def s = new Service(web, sched, 60, 32, flags as Set)
        def request = IpvsCodec.newService(FAMILY, s).build(1)
        // A dump reply has the same nested service; only the command differs.
        def reply = new Netlink.Message(FAMILY, 0, 1, 0, request[16..-1] as byte[])

        expect:
        IpvsCodec.parseService(reply).service() == s

        where:
        sched | flags
        'sh'  | ['sh-fallback', 'sh-port']
        'mh'  | ['mh-port']
        'wlc' | ['ops']
        'wrr' | ['flag-3']
    }

    def "an unknown flag or an over-long scheduler name is refused when building"() {
        when:
        IpvsCodec.newService(FAMILY, new Service(web, sched, 0, 32, flags as Set))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(text)

        where:
        sched                 | flags      | text
        'rr'                  | ['bogus']  | "no service flag 'bogus'"
        'a-very-long-scheduler' | []       | 'expected: 1..15 characters'
    }

    def "a service's identity decodes on its own, even when the rest is beyond the port"() {
        given: 'a mask that is no prefix: ipvsadm -M 255.0.255.0 makes one, and the kernel keeps it'
        def reply = new Netlink.Message(FAMILY, Netlink.NLM_F_MULTI, 5, 0,
                hex(SERVICE_REPLY.replace('0800 0900 ffffffff', '0800 0900 ff00ff00')))

        when:
        def key = IpvsCodec.parseServiceKey(reply)
        IpvsCodec.parseService(reply)

        then: 'the key is there to tell whose service it is; only the full record is refused'
        key == web
        def e = thrown(IllegalArgumentException)
        e.message.contains('not contiguous')
    }

    def "a fwmark of 2^31 or more is no key the port can hold, and is refused in full"() {
        given:
        def reply = new Netlink.Message(FAMILY, Netlink.NLM_F_MULTI, 5, 0, hex('''
            01 01 0000
            3800 0100                                 # SERVICE, 56 bytes
              0600 0100 0200 0000                     # AF_INET
              0800 0500 ffffffff                      # FWMARK 4294967295
              0700 0600 727200 00                     # "rr"
              0c00 0700 02000000 ffffffff             # HASHED
              0800 0800 00000000
              0800 0900 ffffffff
        '''))

        when:
        def key = IpvsCodec.parseServiceKey(reply)
        IpvsCodec.parseService(reply)

        then:
        key == null
        def e = thrown(IllegalArgumentException)
        e.message == 'IPVS service reply: fwmark 4294967295 (expected: 1..2147483647)'
    }

    def "an identity that is malformed is still refused"() {
        when:
        IpvsCodec.parseServiceKey(new Netlink.Message(FAMILY, 0, 1, 0, hex(payload)))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(text)

        where:
        payload                                                                   | text
        '01 01 0000'                                                              | 'no IPVS_CMD_ATTR_SERVICE'
        '01 01 0000 1400 0100 0800 0200 06000000 0600 0300 0000 0000'            | 'no IPVS_SVC_ATTR_AF'
        '01 01 0000 0c00 0100 0600 0100 0700 0000'                                | 'AF 7 (expected: 2 or 10)'
        '01 01 0000 1400 0100 0600 0100 0200 0000 0600 0200 0100 0000'            | 'protocol 1'
    }
}
