package dev.vigil.kernel.linux

import dev.vigil.kernel.VirtualAddress
import spock.lang.Requires
import spock.lang.Specification

import java.nio.ByteBuffer
import java.nio.ByteOrder

@Requires(value = { ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN }, reason = 'byte fixtures are for little-endian hosts (x86_64)')
class NetlinkCodecSpec extends Specification {

    static byte[] hex(String s) {
        s = s.replaceAll(/\s+/, '')
        (0..<s.length() / 2).collect { Integer.parseInt(s.substring(it * 2, it * 2 + 2), 16) as byte } as byte[]
    }

    static byte[] cat(Object... parts) {
        def out = new ByteArrayOutputStream()
        parts.each { out.write(it instanceof String ? (it as String).bytes : it as byte[]) }
        out.toByteArray()
    }

    static ByteBuffer direct(byte[] bytes) {
        def b = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder())
        b.put(bytes).flip()
        b
    }

    def "a request encodes header, family header, padded attributes and a back-patched nested attribute"() {
        when:
        def bytes = new Netlink.Builder(18, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
                .u8(0).u8(0).u16(0).u32(7).u32(0).u32(0)
                .attributeString(3, 'eth0')
                .beginNested(18).attributeU32(1, 0x01020304).attribute(2, [0xaa] as byte[]).endNested()
                .build(0x11223344)

        then:
        bytes == hex('''
            40000000 1200 0500 44332211 00000000
            00 00 0000 07000000 00000000 00000000
            0900 0300 65746830 00 000000
            1400 1280  0800 0100 04030201  0500 0200 aa 000000''')
    }

    def "an unclosed nested attribute is refused"() {
        when:
        new Netlink.Builder(16, 1).beginNested(1).build(1)

        then:
        def e = thrown(IllegalStateException)
        e.message == '1 nested attribute(s) not closed'
    }

    def "a multi-part receive buffer splits into messages that own their bytes"() {
        given:
        def first = new Netlink.Builder(16, Netlink.NLM_F_MULTI).u32(1).attributeString(3, 'lbA').build(9)
        def second = new Netlink.Builder(16, Netlink.NLM_F_MULTI).u32(2).attributeString(3, 'lbB').build(9)
        def done = new Netlink.Builder(Netlink.NLMSG_DONE, Netlink.NLM_F_MULTI).u32(0).build(9)
        def buffer = direct(cat(first, second, done))

        when:
        def messages = Netlink.parse(buffer, buffer.limit())
        buffer.put(0, new byte[buffer.limit()])

        then:
        messages*.type() == [16, 16, Netlink.NLMSG_DONE]
        messages*.seq() == [9, 9, 9]
        messages[0].attributes(4).string(3) == 'lbA'
        messages[1].attributes(4).string(3) == 'lbB'
        messages[1].body().getInt(0) == 2
    }

    def "a message whose length runs past the data is rejected with where and what was expected"() {
        given:
        def bytes = new Netlink.Builder(16, 0).u32(1).build(1)
        ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).putInt(0, 64)

        when:
        Netlink.parse(direct(bytes), bytes.length)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'netlink message at 0: length 64 (expected: 16..20)'
    }

    def "an attribute longer than its message is rejected"() {
        when:
        Netlink.Attributes.parse(hex('0c00 0100 01020304'), 0, 8)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'netlink attribute at 0: length 12 (expected: 4..8)'
    }

    def "an error reply yields errno, the extended-ACK text and the request's sequence number"() {
        given: 'EADDRNOTAVAIL, capped echo, NLMSGERR_ATTR_MSG "ipv4: Address not found"'
        def payload = cat(hex('9dffffff 2c000000 1500 0500 07000000 00000000'),
                hex('1c00 0100'), 'ipv4: Address not found\0')
        def buffer = Netlink.Builder.newInstance(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED | Netlink.NLM_F_ACK_TLVS)
                .bytes(payload).build(7)

        when:
        def reply = Netlink.ErrorReply.of(Netlink.parse(direct(buffer), buffer.length)[0])

        then:
        reply == new Netlink.ErrorReply(99, 'ipv4: Address not found', 7)
        NetlinkSocket.failure('RTM_DELADDR', reply, '10.0.0.9/32 dev eth0').message ==
                'RTM_DELADDR: Cannot assign requested address (ipv4: Address not found): 10.0.0.9/32 dev eth0 (errno 99)'
    }

    def "an acknowledgement is errno 0 without text"() {
        given:
        def bytes = new Netlink.Builder(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED)
                .bytes(hex('00000000 14000000 1400 0500 03000000 00000000')).build(3)

        expect:
        Netlink.ErrorReply.of(Netlink.parse(direct(bytes), bytes.length)[0]) == new Netlink.ErrorReply(0, null, 3)
    }

    def "RTM_NEWADDR for IPv4 carries local, address, label and broadcast"() {
        given:
        def vip = new VirtualAddress(InetAddress.getByName('10.1.2.3'), 24, 'eth0', 'eth0:v',
                InetAddress.getByName('10.1.2.255'), 0)

        expect:
        RtNetlink.addressRequest(true, vip, 5).build(1) == hex('''
            3c000000 1400 0506 01000000 00000000
            02 18 00 00 05000000
            0800 0200 0a010203
            0800 0100 0a010203
            0b00 0300 657468303a7600 00
            0800 0400 0a0102ff''')
    }

    def "RTM_NEWADDR for IPv6 sets IFA_F_NODAD; RTM_DELADDR carries the address only"() {
        given:
        def vip = new VirtualAddress(InetAddress.getByName('2001:db8::1'), 64, 'eth0', null, null, 0)
        def a = InetAddress.getByName('2001:db8::1').address

        expect:
        RtNetlink.addressRequest(true, vip, 2).build(1) == cat(hex('48000000 1400 0506 01000000 00000000'),
                hex('0a 40 02 00 02000000'), hex('1400 0200'), a, hex('1400 0100'), a, hex('0800 0800 02000000'))
        RtNetlink.addressRequest(false, vip, 2).build(1) == cat(hex('40000000 1500 0500 01000000 00000000'),
                hex('0a 40 00 00 02000000'), hex('1400 0200'), a, hex('1400 0100'), a)
    }

    def "RTM_NEWLINK decodes to up only with IFF_UP and IFF_RUNNING; RTM_DELLINK is never up"() {
        given:
        def hw = hex('020000aabbcc')
        def message = { int type, int flags ->
            def bytes = new Netlink.Builder(type, 0).u8(0).u8(0).u16(1).u32(4).u32(flags).u32(0)
                    .attribute(1, hw).attributeString(3, 'vk0').build(0)
            Netlink.parse(direct(bytes), bytes.length)[0]
        }

        expect:
        RtNetlink.decodeLink(message(16, 0x1 | 0x40 | 0x1000)).with { [it.name(), it.index(), it.up(), it.mac() as List] } ==
                ['vk0', 4, true, hw as List]
        !RtNetlink.decodeLink(message(16, 0x1)).up()
        !RtNetlink.decodeLink(message(16, 0x40)).up()
        !RtNetlink.decodeLink(message(17, 0x1 | 0x40)).up()
    }

    def "RTM_NEWADDR decodes IFA_LOCAL, prefix, scope, secondary flag, label and interface name"() {
        given:
        def bytes = new Netlink.Builder(20, 0).u8(2).u8(24).u8(0x80 | 0x01).u8(0).u32(3)
                .attribute(1, hex('0a000064')).attribute(2, hex('0a000064')).attributeString(3, 'vk0:vip')
                .build(0)

        when:
        def a = RtNetlink.decodeAddress(Netlink.parse(direct(bytes), bytes.length)[0], [3: 'vk0'])

        then:
        a.ifname() == 'vk0'
        a.ifindex() == 3
        a.address() == InetAddress.getByName('10.0.0.100')
        a.prefixLength() == 24
        a.scope() == 0
        a.secondary()
        a.label() == 'vk0:vip'
    }

    def "a gratuitous ARP frame is a broadcast request with sender = target = the VIP (RFC 5227 §3)"() {
        expect:
        PacketNeighbourAdvertiser.arpFrame(hex('020000aabbcc'), (Inet4Address) InetAddress.getByName('10.0.0.100')) ==
                hex('ffffffffffff 020000aabbcc 0806 0001 0800 06 04 0001 020000aabbcc 0a000064 000000000000 0a000064')
    }

    def "an unsolicited neighbour advert has Override set, Solicited clear and the target link-layer option"() {
        expect:
        PacketNeighbourAdvertiser.neighbourAdvert(hex('020000aabbcc'), (Inet6Address) InetAddress.getByName('2001:db8::1')) ==
                hex('88 00 0000 20000000 20010db8000000000000000000000001 02 01 020000aabbcc')
    }
}
