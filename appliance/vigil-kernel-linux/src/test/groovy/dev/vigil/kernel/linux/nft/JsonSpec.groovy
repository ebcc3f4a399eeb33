package dev.vigil.kernel.linux.nft

import spock.lang.Specification

class JsonSpec extends Specification {
    def "parses what nft prints"() {
        when:
        def v = Json.parse('{"nftables": [{"rule": {"handle": 12, "comment": "a \\"q\\" \\u0041", "expr": [true, false, null, -3, 1.5]}}]}')

        then:
        v == [nftables: [[rule: [handle: 12L, comment: 'a "q" A', expr: [true, false, null, -3L, 1.5d]]]]]
    }

    def "writes and reads back the same value"() {
        given:
        def value = [add: [rule: [family: 'ip', comment: 'tab\there "x" \\ \u0001', expr: [[counter: 'c'], 42, [], [:]]]]]

        expect:
        Json.parse(Json.write(value)) == value
        Json.write([a: [1, 'b']]) == '{"a":[1,"b"]}'
    }

    def "malformed text is refused"() {
        when:
        Json.parse(text)

        then:
        thrown(IllegalArgumentException)

        where:
        text << ['{', '[1,]x', '{"a" 1}', '"open', 'nope', '{} {}']
    }
}
