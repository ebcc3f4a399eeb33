package dev.vigil.config

import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Specification

/** Loads every configuration under tests/configs/{seeds,broken} and compares with its .expected file. */
class GoldenConfigSpec extends Specification {
    static final Path BASE = Path.of(System.getProperty('basedir', System.getProperty('user.dir')))
            .resolve('../../tests/configs').toAbsolutePath().normalize()

    static List<Path> configs() {
        ['seeds', 'broken'].collectMany { dir ->
            Files.list(BASE.resolve(dir)).withCloseable { s -> s.filter { it.toString().endsWith('.conf') }.sorted().toList() }
        }
    }

    def "the golden directories hold seed and broken configurations"() {
        expect:
        configs().count { it.parent.fileName.toString() == 'seeds' } >= 19
        configs().count { it.parent.fileName.toString() == 'broken' } >= 20
    }

    def "#name gives exactly the expected diagnostics"() {
        given:
        Path expected = conf.resolveSibling(conf.fileName.toString().replaceAll(/\.conf$/, '.expected'))

        when:
        LoadResult r = ConfigLoader.load(conf, new LoadOptions('test', [:], 'test-host', '', new Random(1)))

        then:
        Files.exists(expected)
        r.diagnostics().collect { it.format(BASE) } == Files.readAllLines(expected).findAll { !it.isEmpty() }

        where:
        conf << configs()
        name = BASE.relativize(conf).toString()
    }

    def "every broken configuration reports at least one problem"() {
        expect:
        configs().findAll { it.parent.fileName.toString() == 'broken' }.every {
            !ConfigLoader.load(it, new LoadOptions('test', [:], 'test-host', '', new Random(1))).diagnostics().isEmpty()
        }
    }

    def "the seed LVS-DR example builds its instances and virtual servers"() {
        when:
        def r = ConfigLoader.load(BASE.resolve('seeds/004-1-lvs-dr.conf'), ConfigFixture.options())
        def c = r.config()

        then:
        !r.hasErrors()
        c.vrrpInstances()*.name() == ['VI_PRI_CONNECT', 'VI_PRI_AUTH']
        c.syncGroups()[0].members() == ['VI_PRI_CONNECT', 'VI_PRI_AUTH']
        c.virtualServers()*.key() == ['10.65.32.28:80', '10.65.32.28:443', '10.65.32.29:80', '10.65.32.29:443']
        c.virtualServers()[0].lvsMethod().kind().name() == 'DR'
        c.virtualServers()[0].realServers()*.weight() == [100, 100]
        c.virtualServers()[0].realServers()[0].checkers()[0].common().retry() == 3
        c.vrrpInstances()[0].virtualIpaddresses()[0].prefixLength() == 23
        c.vrrpInstances()[0].virtualIpaddresses()[0].dev() == 'bond0'
        !c.vrrpInstances()[0].preempt()
    }

    def "the seed unicast example keeps its peer and tracked script"() {
        when:
        def r = ConfigLoader.load(BASE.resolve('seeds/003-1-haproxy-unicast.conf'), ConfigFixture.options())
        def vi = r.config().vrrpInstances()[0]

        then:
        r.diagnostics().isEmpty()
        vi.unicastPeers()*.address()*.hostAddress == ['172.16.0.3']
        vi.unicastSrcIp().hostAddress == '172.16.0.2'
        vi.trackScripts()*.name() == ['chk_haproxy']
        r.config().script('chk_haproxy').get().script() == 'killall -0 haproxy'
        r.config().globalDefs().other().containsKey('vrrp_skip_check_adv_addr') || r.config().globalDefs().vrrpSkipCheckAdvAddr()
    }
}
