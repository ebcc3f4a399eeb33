package dev.vigil.daemon.track

import spock.lang.Specification

class ScriptCommandSpec extends Specification {

    def "splits #line"() {
        expect:
        ScriptCommand.split(line) == words

        where:
        line                                  || words
        "/bin/chk"                            || ["/bin/chk"]
        "  /bin/chk  a   b "                  || ["/bin/chk", "a", "b"]
        "/bin/chk 'two words' x"              || ["/bin/chk", "two words", "x"]
        '/bin/chk "two  words" x'             || ["/bin/chk", "two  words", "x"]
        '/bin/chk a\\ b'                      || ["/bin/chk", "a b"]
        '/bin/chk "say \\"hi\\""'             || ["/bin/chk", 'say "hi"']
        "/bin/chk 'a\\b'"                     || ["/bin/chk", "a\\b"]
        "/bin/chk ''"                         || ["/bin/chk", ""]
        "/bin/chk pre'quoted part'post"       || ["/bin/chk", "prequoted partpost"]
    }

    def "rejects #line"() {
        when:
        ScriptCommand.split(line)

        then:
        thrown(IllegalArgumentException)

        where:
        line << ["", "   ", "/bin/chk 'open", '/bin/chk "open']
    }

    def "appends arguments after the configured ones"() {
        expect:
        ScriptCommand.parse("/x a", "u", null).withArgs(["INSTANCE", "VI_1"]).argv() == ["/x", "a", "INSTANCE", "VI_1"]
    }
}
