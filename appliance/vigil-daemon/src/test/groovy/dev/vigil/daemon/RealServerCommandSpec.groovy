package dev.vigil.daemon

import spock.lang.Specification

class RealServerCommandSpec extends Specification {

    def 'the words become the request: #words'() {
        expect:
        RealServerCommand.form(words.split(' ') as List, protocol) == form

        where:
        words                                | protocol || form
        '10.0.0.1:80 10.0.1.1:8080 down'     | null     || [real: '10.0.1.1:8080', state: 'down', virtual: '10.0.0.1:80']
        'fwmark 7 10.0.1.1 up'               | null     || [real: '10.0.1.1', state: 'up', virtual: 'fwmark 7']
        'group WEB 10.0.1.1 up'              | 'udp'    || [protocol: 'udp', real: '10.0.1.1', state: 'up', virtual: 'group WEB']
    }

    def 'wrong words are refused before the daemon is asked: #words'() {
        when:
        RealServerCommand.form(words.split(' ') as List, null)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == message

        where:
        words                             || message
        '10.0.0.1:80 10.0.1.1 sideways'   || 'state "sideways": expected up or down'
        '10.0.0.1:80 x 10.0.1.1 down'     || 'expected VIRTUAL REAL up|down, got 10.0.0.1:80 x 10.0.1.1 down'
    }

    def 'the command line knows both new commands'() {
        when:
        def cl = Main.commandLine()

        then:
        cl.subcommands.keySet().containsAll(['services', 'real-server'])
        cl.subcommands['run'].commandSpec.findOption('--dont-release-ipvs') != null
    }
}
