package dev.vigil.vrrp.codec

import spock.lang.Specification

import static dev.vigil.vrrp.codec.ChecksumMode.PSEUDO_HEADER

class ReceiveValidatorSpec extends Specification {

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static final InetAddress SRC = ip('192.168.1.2')
    static final InetAddress GROUP = ip('224.0.0.18')
    static final List<InetAddress> VIPS = [ip('192.168.1.10'), ip('192.168.1.11')]

    static ReceiveValidator v2Validator(Map overrides = [:]) {
        new ReceiveValidator(new ReceiveValidator.Expectations(2, 51, 1, VrrpAdvert.padPassword('secret'.bytes), 1,
                VIPS, PSEUDO_HEADER, overrides.containsKey('group') ? overrides.group : GROUP,
                overrides.strict ?: false))
    }

    static ReceiveValidator v3Validator() {
        new ReceiveValidator(new ReceiveValidator.Expectations(3, 51, 0, null, 100, VIPS, PSEUDO_HEADER, GROUP, false))
    }

    static byte[] v2Bytes(Map args = [:]) {
        def advert = VrrpAdvert.v2(args.vrid ?: 51, args.prio ?: 100, args.interval ?: 1,
                args.containsKey('password') ? args.password : 'secret'.bytes, args.vips ?: VIPS)
        VrrpCodec.encode(advert, SRC, args.dst ?: GROUP, PSEUDO_HEADER)
    }

    def 'a matching version 2 advert passes'() {
        when:
        def result = v2Validator().validate(v2Bytes(), SRC, GROUP, 255)

        then:
        result instanceof DecodeResult.Ok
        (result as DecodeResult.Ok).advert().priority() == 100
        v2Validator().addressesMatch((result as DecodeResult.Ok).advert())
    }

    def 'a version 3 advert with another interval passes (the backup adopts it, RFC 5798 §6.4.2)'() {
        given:
        byte[] bytes = VrrpCodec.encode(VrrpAdvert.v3(51, 100, 25, VIPS), SRC, GROUP, PSEUDO_HEADER)

        expect:
        (v3Validator().validate(bytes, SRC, GROUP, 255) as DecodeResult.Ok).advert().advertInterval() == 25
    }

    def 'BAD_TTL: a multicast advert must arrive with TTL 255 (RFC 5798 §7.1)'() {
        expect:
        v2Validator().validate(v2Bytes(), SRC, GROUP, 64) ==
                new DecodeResult.Error(DecodeError.BAD_TTL, 'bad ttl: 64 (expected: 255)')
    }

    def 'a unicast advert is not TTL checked'() {
        expect:
        v2Validator(group: null).validate(v2Bytes(dst: ip('192.168.1.3')), SRC, ip('192.168.1.3'), 63) instanceof DecodeResult.Ok
    }

    def 'MODE_MISMATCH: #dst at #group'() {
        expect:
        v2Validator(group: group == null ? null : ip(group)).validate(v2Bytes(dst: ip(dst)), SRC, ip(dst), 255) ==
                new DecodeResult.Error(DecodeError.MODE_MISMATCH, message)

        where:
        group        | dst           | message
        null         | '224.0.0.18'  | 'multicast advert to 224.0.0.18 (expected: unicast)'
        '224.0.0.18' | '192.168.1.3' | 'advert to 192.168.1.3 (expected: multicast to 224.0.0.18)'
    }

    def 'decode errors pass through'() {
        given:
        byte[] bytes = v2Bytes()
        bytes[7] ^= 1

        expect:
        (v2Validator().validate(bytes, SRC, GROUP, 255) as DecodeResult.Error).kind() == DecodeError.BAD_CHECKSUM
    }

    def 'BAD_VERSION: a version 3 advert reaches a version 2 instance'() {
        given:
        byte[] bytes = VrrpCodec.encode(VrrpAdvert.v3(51, 100, 100, VIPS), SRC, GROUP, PSEUDO_HEADER)

        expect:
        v2Validator().validate(bytes, SRC, GROUP, 255) ==
                new DecodeResult.Error(DecodeError.BAD_VERSION, 'bad version: 3 (expected: 2)')
    }

    def 'VRID_MISMATCH'() {
        expect:
        v2Validator().validate(v2Bytes(vrid: 52), SRC, GROUP, 255) ==
                new DecodeResult.Error(DecodeError.VRID_MISMATCH, 'vrid mismatch: 52 (expected: 51)')
    }

    def 'AUTH_MISMATCH: #what (RFC 3768 §7.1)'() {
        expect:
        v2Validator().validate(v2Bytes(password: password), SRC, GROUP, 255) ==
                new DecodeResult.Error(DecodeError.AUTH_MISMATCH, message)

        where:
        what              | password         | message
        'no auth'         | null             | 'auth type mismatch: 0 (expected: 1)'
        'wrong password'  | 'secreT'.bytes   | 'auth password mismatch'
        'longer password' | 'secret1'.bytes  | 'auth password mismatch'
    }

    def 'AUTH_MISMATCH: IP AH is not supported'() {
        given:
        def advert = new VrrpAdvert(2, 1, 51, 100, VIPS, 1, 2, new byte[8], 0)
        def validator = new ReceiveValidator(new ReceiveValidator.Expectations(2, 51, 2, null, 1, VIPS, PSEUDO_HEADER, GROUP, false))

        expect:
        validator.validate(VrrpCodec.encode(advert, SRC, GROUP, PSEUDO_HEADER), SRC, GROUP, 255) ==
                new DecodeResult.Error(DecodeError.AUTH_MISMATCH, 'auth type 2 (IP AH) is not supported')
    }

    def 'BAD_ADVERT_INT: a version 2 interval must match (RFC 3768 §7.1)'() {
        expect:
        v2Validator().validate(v2Bytes(interval: 2), SRC, GROUP, 255) ==
                new DecodeResult.Error(DecodeError.BAD_ADVERT_INT, 'bad advert interval: 2 s (expected: 1 s)')
    }

    def 'an address list mismatch is reported but accepted by default'() {
        given:
        def validator = v2Validator()
        def result = validator.validate(v2Bytes(vips: [ip('192.168.1.10')]), SRC, GROUP, 255) as DecodeResult.Ok

        expect:
        !validator.addressesMatch(result.advert())
        validator.addressMismatchMessage(result.advert()) ==
                'address list mismatch: [192.168.1.10] (expected: [192.168.1.10, 192.168.1.11])'
    }

    def 'the address order does not matter'() {
        given:
        def validator = v2Validator()
        def result = validator.validate(v2Bytes(vips: VIPS.reverse()), SRC, GROUP, 255) as DecodeResult.Ok

        expect:
        validator.addressesMatch(result.advert())
    }

    def 'ADDRESS_MISMATCH: strict check drops unless the sender is the owner (RFC 3768 §7.1)'() {
        given:
        def validator = v2Validator(strict: true)

        expect:
        validator.validate(v2Bytes(vips: [ip('192.168.1.10')]), SRC, GROUP, 255) == new DecodeResult.Error(
                DecodeError.ADDRESS_MISMATCH, 'address list mismatch: [192.168.1.10] (expected: [192.168.1.10, 192.168.1.11])')
        validator.validate(v2Bytes(prio: 255, vips: [ip('192.168.1.10')]), SRC, GROUP, 255) instanceof DecodeResult.Ok
    }

    def 'check agrees with validate: #what'() {
        given:
        def out = new ReceiveValidator.Checked()
        def full = validator.validate(bytes, src, dst, ttl)

        when:
        boolean ok = validator.check(bytes, src, dst, ttl, out)

        then:
        ok == (full instanceof DecodeResult.Ok)
        if (full instanceof DecodeResult.Ok) {
            def a = (full as DecodeResult.Ok).advert()
            assert out.error() == null
            assert out.priority() == a.priority()
            assert out.advertIntervalNanos() == a.advertIntervalNanos()
            assert out.addressesMatch() == validator.addressesMatch(a)
        } else {
            def e = full as DecodeResult.Error
            assert out.error() == e.kind()
            assert out.message() == e.message()
        }

        where:
        what                  | validator                        | bytes                                                      | src | dst                | ttl
        'valid v2'            | v2Validator()                    | v2Bytes(prio: 200)                                         | SRC | GROUP              | 255
        'other addresses'     | v2Validator()                    | v2Bytes(vips: [ip('192.168.1.99')])                        | SRC | GROUP              | 255
        'strict addresses'    | v2Validator(strict: true)        | v2Bytes(vips: [ip('192.168.1.99')])                        | SRC | GROUP              | 255
        'bad ttl'             | v2Validator()                    | v2Bytes()                                                  | SRC | GROUP              | 64
        'wrong password'      | v2Validator()                    | v2Bytes(password: 'other'.bytes)                           | SRC | GROUP              | 255
        'no password'         | v2Validator()                    | v2Bytes(password: null)                                    | SRC | GROUP              | 255
        'other interval'      | v2Validator()                    | v2Bytes(interval: 3)                                       | SRC | GROUP              | 255
        'other vrid'          | v2Validator()                    | v2Bytes(vrid: 52)                                          | SRC | GROUP              | 255
        'bad checksum'        | v2Validator()                    | corrupt(v2Bytes(), 6)                                      | SRC | GROUP              | 255
        'truncated'           | v2Validator()                    | Arrays.copyOf(v2Bytes(), 10)                               | SRC | GROUP              | 255
        'unicast to group'    | v2Validator(group: null)         | v2Bytes()                                                  | SRC | GROUP              | 255
        'valid v3'            | v3Validator()                    | VrrpCodec.encode(VrrpAdvert.v3(51, 90, 25, VIPS), SRC, GROUP, PSEUDO_HEADER) | SRC | GROUP | 255
        'v3 wrong pseudo'     | v3Validator()                    | VrrpCodec.encode(VrrpAdvert.v3(51, 90, 25, VIPS), SRC, ip('224.0.0.19'), PSEUDO_HEADER) | SRC | GROUP | 255
        'v3 from other src'   | v3Validator()                    | VrrpCodec.encode(VrrpAdvert.v3(51, 90, 25, VIPS), ip('192.168.1.7'), GROUP, PSEUDO_HEADER) | SRC | GROUP | 255
    }

    def 'check caches the address sums per source without mixing sources up'() {
        given:
        def validator = v3Validator()
        def out = new ReceiveValidator.Checked()
        def other = ip('192.168.1.7')
        byte[] fromSrc = VrrpCodec.encode(VrrpAdvert.v3(51, 90, 25, VIPS), SRC, GROUP, PSEUDO_HEADER)
        byte[] fromOther = VrrpCodec.encode(VrrpAdvert.v3(51, 80, 25, VIPS), other, GROUP, PSEUDO_HEADER)

        expect:
        validator.check(fromSrc, SRC, GROUP, 255, out) && out.priority() == 90
        validator.check(fromOther, other, GROUP, 255, out) && out.priority() == 80
        !validator.check(fromSrc, other, GROUP, 255, out) && out.error() == DecodeError.BAD_CHECKSUM
        validator.check(fromSrc, SRC, GROUP, 255, out)
    }

    static byte[] corrupt(byte[] b, int at) {
        b[at] ^= 0x55
        b
    }
}
