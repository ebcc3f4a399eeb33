package dev.vigil.vrrp.codec

import spock.lang.Specification

import static dev.vigil.vrrp.codec.ChecksumMode.NO_PSEUDO_HEADER
import static dev.vigil.vrrp.codec.ChecksumMode.PSEUDO_HEADER

class VrrpCodecSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static List<InetAddress> ips(String... s) { s.collect { ip(it) } }

    static byte[] hex(String s) { HexFormat.of().parseHex(s) }

    // Checksums worked by hand as one's complement sums of 16-bit words, e.g. the first row:
    // 2133+6402+0101+0000+c0a8+010a+c0a8+010b+7365+6372+6574+0000+0000 = 0x345e6 -> 0x45e9 -> ~ = 0xba16.
    def 'golden bytes: #name'() {
        expect: 'encoding gives the golden bytes'
        VrrpCodec.encode(advert.withChecksum(0), ip(src), ip(dst), mode) == hex(bytes)

        and: 'decoding the golden bytes gives the advert, checksum included'
        VrrpCodec.decode(hex(bytes), ip(src), ip(dst), mode) == new DecodeResult.Ok(advert)

        where:
        name                         | src          | dst          | mode             | bytes                                                                              | advert
        'v2 PASS, two addresses'     | '192.168.1.2' | '224.0.0.18' | PSEUDO_HEADER    | '213364020101ba16c0a8010ac0a8010b7365637265740000'                                 | VrrpAdvert.v2(51, 100, 1, 'secret'.bytes, ips('192.168.1.10', '192.168.1.11')).withChecksum(0xba16)
        'v2 no auth, owner'          | '10.0.0.2'   | '224.0.0.18' | PSEUDO_HEADER    | '2101ff010003d5f80a0000010000000000000000'                                         | VrrpAdvert.v2(1, 255, 3, null, ips('10.0.0.1')).withChecksum(0xd5f8)
        'v3 IPv4 pseudo-header'      | '10.1.1.254' | '224.0.0.18' | PSEUDO_HEADER    | '310a6e03006452ef0a0101010a0101020a010103'                                         | VrrpAdvert.v3(10, 110, 100, ips('10.1.1.1', '10.1.1.2', '10.1.1.3')).withChecksum(0x52ef)
        'v3 IPv4 unicast peer'       | '10.1.1.254' | '10.1.1.253' | PSEUDO_HEADER    | '310a6e03006427040a0101010a0101020a010103'                                         | VrrpAdvert.v3(10, 110, 100, ips('10.1.1.1', '10.1.1.2', '10.1.1.3')).withChecksum(0x2704)
        'v3 IPv4 checksum as v2'     | '10.1.1.254' | '224.0.0.18' | NO_PSEUDO_HEADER | '310a6e0300643f850a0101010a0101020a010103'                                         | VrrpAdvert.v3(10, 110, 100, ips('10.1.1.1', '10.1.1.2', '10.1.1.3')).withChecksum(0x3f85)
        'v3 IPv4 priority 0'         | '10.1.1.254' | '224.0.0.18' | PSEUDO_HEADER    | '310a00010064d7000a010101'                                                         | VrrpAdvert.v3(10, 0, 100, ips('10.1.1.1')).withChecksum(0xd700)
        'v3 IPv6, two addresses'     | 'fe80::a'    | 'ff02::12'   | PSEUDO_HEADER    | '3107c802000adc68fe80000000000000000000000000000120010db8000000000000000000000010' | VrrpAdvert.v3(7, 200, 10, ips('fe80::1', '2001:db8::10')).withChecksum(0xdc68)
    }

    def 'the checksum mode does not change version 2 or IPv6 checksums'() {
        given:
        def v2 = VrrpAdvert.v2(1, 255, 3, null, ips('10.0.0.1'))
        def v6 = VrrpAdvert.v3(7, 200, 10, ips('fe80::1', '2001:db8::10'))

        expect:
        VrrpCodec.encode(v2, ip('10.0.0.2'), ip('224.0.0.18'), NO_PSEUDO_HEADER) == VrrpCodec.encode(v2, ip('10.0.0.2'), ip('224.0.0.18'), PSEUDO_HEADER)
        VrrpCodec.encode(v6, ip('fe80::a'), ip('ff02::12'), NO_PSEUDO_HEADER) == VrrpCodec.encode(v6, ip('fe80::a'), ip('ff02::12'), PSEUDO_HEADER)
    }

    def 'encodes into a caller buffer at an offset'() {
        given:
        def advert = VrrpAdvert.v3(10, 0, 100, ips('10.1.1.1'))
        byte[] buffer = new byte[20]
        Arrays.fill(buffer, (byte) 0x55)

        when:
        int n = VrrpCodec.encode(advert, ip('10.1.1.254'), ip('224.0.0.18'), PSEUDO_HEADER, buffer, 4)

        then:
        n == 12
        HexFormat.of().formatHex(buffer) == '55555555310a00010064d7000a01010155555555'
    }

    def 'decodes from an offset and length'() {
        given:
        byte[] framed = hex('ffff' + '310a00010064d7000a010101' + 'eeee')

        expect:
        VrrpCodec.decode(framed, 2, 12, ip('10.1.1.254'), ip('224.0.0.18'), PSEUDO_HEADER) ==
                new DecodeResult.Ok(VrrpAdvert.v3(10, 0, 100, ips('10.1.1.1')).withChecksum(0xd700))
    }

    def 'advert interval as a duration'() {
        expect:
        VrrpAdvert.v2(1, 100, 3, null, []).advertIntervalDuration() == java.time.Duration.ofSeconds(3)
        VrrpAdvert.v3(1, 100, 1, []).advertIntervalDuration() == java.time.Duration.ofMillis(10)
        VrrpAdvert.v3(1, 100, 4095, []).advertIntervalNanos() == 40_950_000_000L
    }

    def 'the password is not printed'() {
        expect:
        VrrpAdvert.v2(51, 100, 1, 'secret'.bytes, ips('192.168.1.10')).toString() ==
                'VrrpAdvert[v2 vrid 51 prio 100 int 1s addrs [192.168.1.10] auth 1 csum 0x0000]'
    }

    def 'a password longer than 8 bytes is refused'() {
        when:
        VrrpAdvert.v2(51, 100, 1, '123456789'.bytes, [])

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'password length: 9 (expected: <= 8)'
    }

    def 'decode error #kind: #message'() {
        expect:
        VrrpCodec.decode(hex(bytes), ip(src), ip(dst), PSEUDO_HEADER) == new DecodeResult.Error(kind, message)

        where:
        kind                       | src          | dst          | bytes                                                | message
        DecodeError.TRUNCATED      | '10.1.1.254' | '224.0.0.18' | '310a00010064'                                       | 'truncated advert: 6 bytes (expected: at least 8)'
        DecodeError.TRUNCATED      | '10.1.1.254' | '224.0.0.18' | '310a00020064d7000a010101'                           | 'truncated advert: 12 bytes for 2 IPv4 addresses (expected: 16)'
        DecodeError.TRUNCATED      | 'fe80::a'    | 'ff02::12'   | '3107c802000adc68fe800000000000000000000000000001'   | 'truncated advert: 24 bytes for 2 IPv6 addresses (expected: 40)'
        DecodeError.BAD_LENGTH     | '10.1.1.254' | '224.0.0.18' | '310a00010064d7000a01010100000000'                   | 'bad length: 16 bytes for 1 IPv4 addresses (expected: 12)'
        DecodeError.BAD_LENGTH     | '10.0.0.2'   | '224.0.0.18' | '2101ff010003d5f80a00000100000000000000000000'       | 'bad length: 22 bytes for 1 IPv4 addresses (expected: 20)'
        DecodeError.BAD_VERSION    | '10.1.1.254' | '224.0.0.18' | '410a00010064d7000a010101'                           | 'bad version: 4 (expected: 2 or 3)'
        DecodeError.BAD_VERSION    | 'fe80::a'    | 'ff02::12'   | '2101ff010003d5f80a0000010000000000000000'           | 'bad version: 2 (expected: 3 over IPv6)'
        DecodeError.BAD_TYPE       | '10.1.1.254' | '224.0.0.18' | '320a00010064d6ff0a010101'                           | 'bad type: 2 (expected: 1)'
        DecodeError.BAD_CHECKSUM   | '10.1.1.254' | '224.0.0.18' | '310a00010064d7010a010101'                           | 'bad checksum: 0xd701 (expected: 0xd700)'
        DecodeError.BAD_CHECKSUM   | '10.1.1.254' | '224.0.0.19' | '310a00010064d7000a010101'                           | 'bad checksum: 0xd700 (expected: 0xd6ff)'
        DecodeError.BAD_ADVERT_INT | '10.1.1.254' | '224.0.0.18' | '310a00010000d7640a010101'                           | 'bad advert interval: 0 (expected: > 0)'
    }
}
