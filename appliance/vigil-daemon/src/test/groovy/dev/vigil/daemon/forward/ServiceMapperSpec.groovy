package dev.vigil.daemon.forward

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
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

    def servers(String text) {
        Path f = dir.resolve('k.conf')
        Files.writeString(f, text)
        def r = ConfigLoader.load(f, LoadOptions.defaults())
        assert !r.hasErrors(): r.diagnostics()*.format()
        r.config().virtualServers()
    }

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
        def state = new ServiceMapper().map(servers(WEB), [] as Set)
        def vs = state.services().values().first()

        then:
        vs.key() == ServiceKey.of(InetAddress.getByName('10.0.0.50'), 80, Protocol.TCP)
        vs.service().scheduler() == 'wrr'
        vs.destinations().values()*.weight == [3, 1]
        vs.destinations().values()*.method.every { it == ForwardingMethod.NAT }
    }

    def 'a down server is removed, or weighted 0 with inhibit_on_failure; lost quorum brings the sorry server; hysteresis holds it'() {
        given:
        def mapper = new ServiceMapper()
        def cfg = servers(WEB)
        String rs2 = ServiceMapper.realServerName(cfg[0], cfg[0].realServers()[0])
        String rs3 = ServiceMapper.realServerName(cfg[0], cfg[0].realServers()[1])

        expect: 'rs3 down: live weight 3 >= quorum 2 - 1; rs3 kept at weight 0'
        mapper.map(cfg, [rs3] as Set).services().values().first().destinations().values()*.weight == [3, 0]

        and: 'rs2 down: live weight 1 >= 2 - 1 still up; rs2 removed'
        mapper.map(cfg, [rs2] as Set).services().values().first().destinations().values()*.address*.hostAddress == ['10.0.0.3']

        and: 'both down: weight 0 < 1, quorum lost, the sorry server alone'
        mapper.map(cfg, [rs2, rs3] as Set).services().values().first().destinations().values()
                .collect { "${it.address().hostAddress}:${it.port()}" } == ['10.0.0.99:8080']

        and: 'rs3 back: weight 1 < quorum 2 + 1, still sorry server (hysteresis)'
        mapper.map(cfg, [rs2] as Set).services().values().first().destinations().values()*.port == [8080]

        and: 'both back: weight 4 >= 3, real servers again'
        mapper.map(cfg, [] as Set).services().values().first().destinations().values()*.port == [80, 80]
    }

    def 'fwmark services, persistence with granularity, DR per real server'() {
        when:
        def state = new ServiceMapper().map(servers('''
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
            '''), [] as Set)
        def vs = state.services().values().first()

        then:
        vs.key().isFwmark()
        vs.key().fwmark() == 7
        vs.service().persistenceTimeout() == 600
        vs.service().persistencePrefix() == 24
        vs.destinations().values()*.method == [ForwardingMethod.DR, ForwardingMethod.TUN]
    }
}
