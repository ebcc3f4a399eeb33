package dev.vigil.daemon.forward

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.model.KeepalivedConfig
import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.ServiceKey
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class ServiceMapperSpec extends Specification {

    @TempDir
    Path dir

    KeepalivedConfig config(String text) {
        Path f = dir.resolve('k.conf')
        Files.writeString(f, text)
        def r = ConfigLoader.load(f, LoadOptions.defaults())
        assert !r.hasErrors(): r.diagnostics()*.format()
        r.config()
    }

    ServiceMapper.Result map(ServiceMapper mapper, KeepalivedConfig c, Collection<String> down = []) {
        mapper.map(c.virtualServers(), c.virtualServerGroups(), down as Set)
    }

    static InetAddress ip(String s) { InetAddress.getByName(s) }

    static final String WEB = '''
        virtual_server 10.0.0.50 80 {
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            quorum 2
            hysteresis 1
            sorry_server 10.0.0.99 8080
            real_server 10.0.0.2 80 { weight 3 }
            real_server 10.0.0.3 80 {
                weight 1
                inhibit_on_failure
            }
        }
        '''

    def 'every live real server is a destination with its weight and method'() {
        when:
        def r = map(new ServiceMapper(), config(WEB))
        def vs = r.desired().services().values().first()

        then:
        vs.key() == ServiceKey.of(ip('10.0.0.50'), 80, Protocol.TCP)
        vs.service().scheduler() == 'wrr'
        vs.destinations().values()*.weight == [3, 1]
        vs.destinations().values()*.method.every { it == ForwardingMethod.NAT }
        r.problems().isEmpty()
        r.quorum() == ['[10.0.0.50]:tcp:80': true]
    }

    def 'names follow keepalived: [vip]:proto:port, FWM n, group G:proto; real servers are named within their virtual server'() {
        given:
        def c = config('''
            virtual_server_group G {
                10.0.0.60 80
            }
            virtual_server 10.0.0.50 80 {
                protocol UDP
                real_server 10.0.0.2 8080 { }
            }
            virtual_server fwmark 7 {
                real_server 10.0.0.3 { }
            }
            virtual_server group G {
                real_server 10.0.0.4 80 { }
            }
            ''')

        expect:
        c.virtualServers().collect { ServiceMapper.virtualName(it) } == ['[10.0.0.50]:udp:80', 'FWM 7', 'group G:tcp']
        c.virtualServers().collect { ServiceMapper.realServerName(it, it.realServers()[0]) } ==
                ['[10.0.0.2]:8080 of [10.0.0.50]:udp:80', '[10.0.0.3]:0 of FWM 7', '[10.0.0.4]:80 of group G:tcp']
    }

    def 'a down server is removed, or weighted 0 with inhibit_on_failure; lost quorum brings the sorry server; hysteresis holds it'() {
        given:
        def mapper = new ServiceMapper()
        def c = config(WEB)
        def vs = c.virtualServers()[0]
        String rs2 = ServiceMapper.realServerName(vs, vs.realServers()[0])
        String rs3 = ServiceMapper.realServerName(vs, vs.realServers()[1])
        def dests = { ServiceMapper.Result r -> r.desired().services().values().first().destinations().values()
                .collect { "${it.address().hostAddress}:${it.port()}/${it.weight()}".toString() } }

        expect: 'all up: live weight 4 >= quorum 2 + hysteresis 1, so the service starts with its quorum'
        dests(map(mapper, c)) == ['10.0.0.2:80/3', '10.0.0.3:80/1']

        and: 'rs3 down: live weight 3 >= 2 - 1; rs3 kept at weight 0'
        dests(map(mapper, c, [rs3])) == ['10.0.0.2:80/3', '10.0.0.3:80/0']

        and: 'rs2 down: live weight 1 >= 2 - 1 still up; rs2 removed'
        dests(map(mapper, c, [rs2])) == ['10.0.0.3:80/1']

        when: 'both down: weight 0, the quorum is lost'
        def lost = map(mapper, c, [rs2, rs3])

        then: 'the sorry server replaces the live servers; the inhibited one stays at weight 0 (keepalived keeps it)'
        dests(lost) == ['10.0.0.3:80/0', '10.0.0.99:8080/1']
        lost.quorumChanges()*.up == [false]
        !lost.quorumChanges()[0].initial()
        lost.quorumChanges()[0].liveWeight() == 0

        expect: 'rs3 back: weight 1 < quorum 2 + 1, still the sorry server (hysteresis)'
        dests(map(mapper, c, [rs2])) == ['10.0.0.99:8080/1']
        map(mapper, c, [rs2]).quorumChanges().isEmpty()

        when: 'both back: weight 4 >= 3'
        def back = map(mapper, c)

        then: 'real servers again, and the quorum gain is reported'
        dests(back) == ['10.0.0.2:80/3', '10.0.0.3:80/1']
        back.quorumChanges().collect { [it.up(), it.initial()] } == [[true, false]]
    }

    def 'a service that starts below quorum + hysteresis starts without its quorum'() {
        given:
        def mapper = new ServiceMapper()
        def c = config(WEB)
        def vs = c.virtualServers()[0]

        when: 'only rs3 (weight 1) is up at the first mapping: 1 < 2 + 1'
        def r = map(mapper, c, [ServiceMapper.realServerName(vs, vs.realServers()[0])])

        then:
        r.quorum()['[10.0.0.50]:tcp:80'] == false
        r.quorumChanges().collect { [it.up(), it.initial()] } == [[false, true]]
        r.desired().services().values().first().destinations().keySet()*.port == [8080]
    }

    def 'sorry_server_inhibit keeps the sorry server at weight 0 while the quorum holds'() {
        when:
        def r = map(new ServiceMapper(), config('''
            virtual_server 10.0.0.50 80 {
                lb_algo rr
                sorry_server 10.0.0.99
                sorry_server_inhibit
                real_server 10.0.0.2 80 { }
            }
            '''))

        then:
        r.desired().services().values().first().destinations().values()
                .collect { "${it.address().hostAddress}:${it.port()}/${it.weight()}".toString() } == ['10.0.0.2:80/1', '10.0.0.99:80/0']
    }

    def 'without a sorry server a lost quorum keeps what is alive'() {
        given:
        def c = config('''
            virtual_server 10.0.0.50 80 {
                quorum 3
                real_server 10.0.0.2 80 { weight 2 }
                real_server 10.0.0.3 80 { weight 2 }
            }
            ''')
        def vs = c.virtualServers()[0]

        when:
        def r = map(new ServiceMapper(), c, [ServiceMapper.realServerName(vs, vs.realServers()[0])])

        then:
        !r.quorum().values().first()
        r.desired().services().values().first().destinations().keySet()*.address*.hostAddress == ['10.0.0.3']
    }

    def 'fwmark services, persistence with granularity, DR per real server'() {
        when:
        def state = map(new ServiceMapper(), config('''
            virtual_server fwmark 7 {
                lb_algo sh
                lb_kind DR
                persistence_timeout 600
                persistence_granularity 255.255.255.0
                real_server 10.0.0.2 80 { weight 1 }
                real_server 10.0.0.3 80 {
                    weight 2
                    lb_kind TUN
                }
            }
            ''')).desired()
        def vs = state.services().values().first()

        then:
        vs.key().isFwmark()
        vs.key().fwmark() == 7
        vs.key().family() == AddressFamily.INET
        vs.service().persistenceTimeout() == 600
        vs.service().persistencePrefix() == 24
        vs.destinations().values()*.method == [ForwardingMethod.DR, ForwardingMethod.TUN]
    }

    def 'a virtual_server group becomes one service per address, range address and fwmark of the group, sharing the real servers'() {
        given:
        def c = config('''
            virtual_server_group WEB {
                10.0.0.1 80
                10.0.0.10-12 8080
                10.0.1.4/30 443
                fwmark 9
                fwmark 10 inet6
            }
            virtual_server group WEB {
                lb_algo rr
                real_server 10.0.2.1 { weight 2 }
                real_server 10.0.2.2 { }
            }
            ''')

        when:
        def r = map(new ServiceMapper(), c)
        def keys = r.desired().services().keySet()

        then:
        keys.findAll { !it.isFwmark() }.collect { "${it.address().hostAddress}:${it.port()}".toString() } as Set == [
                '10.0.0.1:80', '10.0.0.10:8080', '10.0.0.11:8080', '10.0.0.12:8080',
                '10.0.1.4:443', '10.0.1.5:443', '10.0.1.6:443', '10.0.1.7:443'] as Set
        keys.findAll { it.isFwmark() }.collect { [it.fwmark(), it.family()] } as Set ==
                [[9, AddressFamily.INET], [10, AddressFamily.INET6]] as Set
        r.problems() == ['10.0.2.1:0', '10.0.2.2:0'].collect {
            "real server ${it} of virtual_server group WEB:tcp at k.conf:9 is not IPv6 like service fwmark 10 inet6 (only TUN may cross families); left out of it".toString()
        }
        r.desired().services()[ServiceKey.fwmark(10, AddressFamily.INET6)].destinations().isEmpty()

        and: 'every IPv4 member has both real servers, on the client\'s port (0)'
        r.desired().services().values().findAll { it.key().family() == AddressFamily.INET }.every {
            it.destinations().values().collect { d -> "${d.address().hostAddress}:${d.port()}/${d.weight()}".toString() } ==
                    ['10.0.2.1:0/2', '10.0.2.2:0/1']
        }

        and: 'one quorum for the whole group'
        r.quorum() == ['group WEB:tcp': true]
    }

    def 'a group member another virtual server already defines is reported and left to the first'() {
        when:
        def r = map(new ServiceMapper(), config('''
            virtual_server_group G {
                10.0.0.1-2 80
            }
            virtual_server 10.0.0.2 80 {
                real_server 10.0.1.1 80 { }
            }
            virtual_server group G {
                real_server 10.0.1.2 80 { }
            }
            '''))

        then:
        r.desired().services().size() == 2
        r.desired().services()[ServiceKey.of(ip('10.0.0.2'), 80, Protocol.TCP)].destinations().keySet()*.address*.hostAddress == ['10.0.1.1']
        r.problems() == ['service TCP 10.0.0.2:80 of virtual_server group G:tcp at k.conf:8 is already defined by [10.0.0.2]:tcp:80; ignored']
    }

    def 'a group entry larger than the limit is reported and skipped'() {
        when:
        def r = map(new ServiceMapper(), config('''
            virtual_server_group BIG {
                10.0.0.0/8 80
                10.1.0.1 80
            }
            virtual_server group BIG {
                real_server 10.2.0.1 80 { }
            }
            '''))

        then:
        r.desired().services().keySet()*.address*.hostAddress == ['10.1.0.1']
        r.problems() == ['virtual_server_group BIG entry at k.conf:3 covers more than 65536 addresses; ignored']
    }

    def 'alpha on the real server, its virtual server or a checker makes it start down'() {
        given:
        def c = config('''
            virtual_server 10.0.0.50 80 {
                real_server 10.0.0.1 80 { }
                real_server 10.0.0.2 80 {
                    alpha
                }
                real_server 10.0.0.3 80 {
                    TCP_CHECK {
                        alpha
                    }
                }
            }
            virtual_server 10.0.0.51 80 {
                alpha
                real_server 10.0.0.4 80 { }
            }
            ''')

        expect:
        c.virtualServers().collectMany { it.realServers() }.collect { ServiceMapper.startsDown(it) } == [false, true, true, true]
    }
}
