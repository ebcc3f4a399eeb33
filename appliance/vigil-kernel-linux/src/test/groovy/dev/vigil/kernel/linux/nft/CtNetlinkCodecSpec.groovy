package dev.vigil.kernel.linux.nft

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.linux.Netlink
import spock.lang.Requires
import spock.lang.Specification

import java.nio.ByteOrder

import static dev.vigil.kernel.linux.NetlinkCodecSpec.hex

@Requires(value = { ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN }, reason = 'byte fixtures are for little-endian hosts (x86_64)')
class CtNetlinkCodecSpec extends Specification {
    /** CTA_TUPLE_ORIG of TCP 192.0.2.100:40000 -> 192.0.2.10:80. */
    static final String ORIG = '34000180' + '14000180' + '08000100 c0000264' + '08000200 c000020a' +
            '1c000280' + '05000100 06000000' + '06000200 9c400000' + '06000300 00500000'
    /** CTA_TUPLE_REPLY of the same connection DNATed to 198.51.100.1:8080. */
    static final String REPLY = '34000280' + '14000180' + '08000100 c6336401' + '08000200 c0000264' +
            '1c000280' + '05000100 06000000' + '06000200 1f900000' + '06000300 9c400000'
    static final String STATUS = '08000300 0000018e'
    static final String ID = '08000c00 12345678'

    static Netlink.Message message(String payload, int type = 0x100) {
        new Netlink.Message(type, Netlink.NLM_F_MULTI, 7, 0, hex(payload))
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    def "the dump request is IPCTNL_MSG_CT_GET with NLM_F_DUMP for the family"() {
        expect:
        CtNetlinkCodec.dump(family).build(0) == hex('14000000 0101 0103 00000000 00000000' + nfgen)

        where:
        family               | nfgen
        AddressFamily.INET   | '02000000'
        AddressFamily.INET6  | '0a000000'
    }

    def "the dump of translated entries asks for IPS_DST_NAT in CTA_STATUS and CTA_STATUS_MASK, both big-endian"() {
        expect:
        CtNetlinkCodec.dumpWithStatus(AddressFamily.INET, CtNetlinkCodec.IPS_DST_NAT).build(0) ==
                hex('24000000 0101 0103 00000000 00000000 02000000' + '08000300 00000020' + '08001a00 00000020')
    }

    def "the filtered dumps: one per service, narrowed to the real server when it is the service's only target, one per fwmark target"() {
        given:
        def web = { String rs -> new Conntrack.Target(ip(rs), 8080, 6, ip('192.0.2.10'), 80) }
        def mail = new Conntrack.Target(ip('198.51.100.9'), 25, 6, ip('192.0.2.13'), 25)
        def fwmark = new Conntrack.Target(ip('198.51.100.7'), 0, 0, null, 0)
        def built = { List<Netlink.Builder> dumps -> dumps.collect { it.build(0) } }

        expect: 'web\'s two real servers share one dump of its connections; mail and the fwmark target get their own'
        built(Conntrack.filteredDumps(AddressFamily.INET, [web('198.51.100.1'), mail, web('198.51.100.2'), fwmark])) ==
                built([CtNetlinkCodec.dump(AddressFamily.INET, web('198.51.100.1').original(), CtNetlinkCodec.TupleFilter.ANY),
                       CtNetlinkCodec.dump(AddressFamily.INET, mail.original(), mail.reply()),
                       CtNetlinkCodec.dump(AddressFamily.INET, CtNetlinkCodec.TupleFilter.ANY, fwmark.reply())])
    }

    def "a dumped entry decodes into its original and reply tuples, id and the original tuple's bytes"() {
        when:
        def e = CtNetlinkCodec.entry(message('02000000' + ORIG + REPLY + STATUS + ID))

        then:
        e.original() == new CtNetlinkCodec.Tuple(ip('192.0.2.100'), ip('192.0.2.10'), 6, 40000, 80)
        e.reply() == new CtNetlinkCodec.Tuple(ip('198.51.100.1'), ip('192.0.2.100'), 6, 8080, 40000)
        e.id() == 0x12345678
        e.originalRaw() == hex(ORIG.substring(8))
        e.zoneRaw() == null
    }

    def "an IPv6 entry and a zone decode too"() {
        given:
        String a = '20010db8000000000000000000000064'
        String b = '20010db8000000000000000000000010'
        String r = '20010db8000100000000000000000001'
        def tuple = { int type, String src, String dst, String sport, String dport ->
            '4c00' + String.format('%02x', type) + '80' + '2c000180' + '14000300' + src + '14000400' + dst +
                    '1c000280' + '05000100 11000000' + '06000200 ' + sport + '0000' + '06000300 ' + dport + '0000'
        }

        when:
        def e = CtNetlinkCodec.entry(message('0a000000' + tuple(1, a, b, '9c40', '0035') + tuple(2, r, a, '14e9', '9c40')
                + '06001200 00070000'))

        then:
        e.original() == new CtNetlinkCodec.Tuple(ip('2001:db8::64'), ip('2001:db8::10'), 17, 40000, 53)
        e.reply() == new CtNetlinkCodec.Tuple(ip('2001:db8:1::1'), ip('2001:db8::64'), 17, 5353, 40000)
        e.id() == null
        e.zoneRaw() == hex('0007')
    }

    def "the delete request names the entry by its original tuple as dumped, its zone and its id"() {
        given:
        def e = CtNetlinkCodec.entry(message('02000000' + ORIG + REPLY + STATUS + ID + '06001200 00070000'))

        expect: 'header: length 88, IPCTNL_MSG_CT_DELETE of subsystem 1, NLM_F_REQUEST | NLM_F_ACK'
        CtNetlinkCodec.delete(AddressFamily.INET, e).build(0) ==
                hex('58000000 0201 0500 00000000 00000000' + '02000000' + ORIG + '06001200 00070000' + ID)
    }

    def "a target selects the entries whose reply comes from the real server, over its protocol, for its service"() {
        given:
        def e = CtNetlinkCodec.entry(message('02000000' + ORIG + REPLY + ID))

        expect:
        new Conntrack.Target(ip(address), port, protocol, service == null ? null : ip(service), servicePort).selects(e) == selected

        where:
        address        | port | protocol | service      | servicePort || selected
        '198.51.100.1' | 8080 | 6        | '192.0.2.10' | 80          || true
        '198.51.100.1' | 0    | 0        | null         | 0           || true
        '198.51.100.2' | 8080 | 6        | '192.0.2.10' | 80          || false
        '198.51.100.1' | 8081 | 6        | '192.0.2.10' | 80          || false
        '198.51.100.1' | 8080 | 17       | '192.0.2.10' | 80          || false
        '198.51.100.1' | 8080 | 6        | '192.0.2.11' | 80          || false
        '198.51.100.1' | 8080 | 6        | '192.0.2.10' | 443         || false
        '192.0.2.100'  | 0    | 0        | null         | 0           || false
    }

    def "a malformed entry is refused with what is wrong and where"() {
        when:
        CtNetlinkCodec.entry(message(payload, type))

        then:
        def x = thrown(IllegalArgumentException)
        x.message == error

        where:
        type  | payload                                                       || error
        0x100 | '0200'                                                        || 'ctnetlink entry: 2 bytes of payload (expected: >= 4, nfgenmsg)'
        0xa00 | '02000000' + ORIG + REPLY                                     || 'ctnetlink entry: message type 0xa00 (expected: 0x100)'
        0x100 | '02000000' + ORIG                                             || 'ctnetlink entry: no CTA_TUPLE_REPLY'
        0x100 | '02000000' + REPLY                                            || 'ctnetlink entry: no CTA_TUPLE_ORIG'
        0x100 | '02000000' + ORIG + REPLY + '06000c00 12340000'               || 'ctnetlink entry: CTA_ID of 2 bytes (expected: 4)'
        0x100 | '02000000' + ORIG.replace('06000200 9c400000', '05000200 9c000000') + REPLY ||
                'ctnetlink entry: CTA_TUPLE_ORIG port attribute 2 of 1 bytes (expected: 2)'
        0x100 | '02000000' + ORIG + REPLY.replace('05000100 06000000', '05000400 06000000') ||
                'ctnetlink entry: CTA_TUPLE_REPLY CTA_PROTO_NUM missing (expected: 1 byte)'
        0x100 | '02000000' + ORIG + REPLY.replace('08000100 c6336401', '06000100 c6330000') ||
                'ctnetlink entry: CTA_TUPLE_REPLY address attribute 1 of 2 bytes (expected: 4 bytes)'
    }
}
