package dev.vigil.config

import dev.vigil.config.model.Authentication
import dev.vigil.config.model.DnsCheck
import dev.vigil.config.model.FileCheck
import dev.vigil.config.model.ForwarderBackend
import dev.vigil.config.model.GenericCheck
import dev.vigil.config.model.HttpCheck
import dev.vigil.config.model.LvsFlushOnStop
import dev.vigil.config.model.LvsMethod
import dev.vigil.config.model.MiscCheck
import dev.vigil.config.model.SmtpCheck
import dev.vigil.config.model.TcpCheck
import dev.vigil.config.model.UdpCheck
import dev.vigil.config.model.VrrpInstance
import java.time.Duration
import spock.lang.Specification
import spock.lang.TempDir
import java.nio.file.Path

import static dev.vigil.config.ConfigFixture.load

class ModelDefaultsSpec extends Specification {
    @TempDir
    Path dir

    static final String MIN = '''\
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            virtual_ipaddress {
                10.0.0.10
            }
        }
        '''

    def "global_defs defaults"() {
        when:
        def g = load(dir, MIN).config().globalDefs()

        then:
        g.routerId() == 'test-host'
        g.notificationEmailFrom() == 'keepalived@test-host'
        g.smtpServer() == null
        g.smtpServerPort() == 25
        g.smtpConnectTimeout() == Duration.ofSeconds(30)
        g.vrrpMcastGroup4().hostAddress == '224.0.0.18'
        g.vrrpMcastGroup6().hostAddress == 'ff02:0:0:0:0:0:0:12'
        g.defaultInterface() == 'eth0'
        g.vrrpVersion() == 2
        !g.vrrpStrict()
        g.vrrpGarpMasterRepeat() == 5
        g.vrrpGarpMasterDelay() == Duration.ofSeconds(5)
        g.vrrpGarpMasterRefresh() == Duration.ZERO
        g.vrrpGarpMasterRefreshRepeat() == 1
        g.vrrpGarpLowerPrioRepeat() == 5
        g.vrrpGarpLowerPrioDelay() == Duration.ofSeconds(5)
        g.vrrpGarpInterval() == Duration.ZERO
        g.vrrpGnaInterval() == Duration.ZERO
        g.vrrpDownTimerAdverts() == 3
        !g.vrrpLowerPrioNoAdvert()
        !g.vrrpHigherPrioSendAdvert()
        g.scriptUser() == null
        !g.enableScriptSecurity()
        g.notifyFifo() == null
        g.vrrpStartupDelay() == Duration.ZERO
        !g.lvsFlush()
        g.lvsFlushOnStop() == LvsFlushOnStop.NONE
        g.vigilForwarder() == ForwarderBackend.AUTO
    }

    def "global_defs values are read"() {
        when:
        def r = load(dir, '''\
            global_defs {
                router_id lb1
                notification_email {
                    a@example.com
                    "Ops <ops@example.com>"
                }
                notification_email_from lb@example.com
                smtp_server 192.0.2.1 2525
                smtp_connect_timeout 10
                vrrp_mcast_group4 224.0.0.99
                vrrp_version 3
                vrrp_strict
                vrrp_garp_master_repeat 3
                vrrp_garp_master_delay 2
                vrrp_garp_interval 0.001
                vrrp_gna_interval 0.000250
                script_user nobody:nogroup
                enable_script_security
                notify_fifo /run/k.fifo root
                notify_fifo_script /bin/reader
                vrrp_startup_delay 5.5
                default_interface ens3
                lvs_flush
                lvs_flush_on_stop VS
                vigil_forwarder nftables
                max_auto_priority 10
            }
            ''' + MIN)
        def g = r.config().globalDefs()

        then:
        r.diagnostics().isEmpty()
        g.routerId() == 'lb1'
        g.notificationEmail() == ['a@example.com', 'Ops <ops@example.com>']
        g.notificationEmailFrom() == 'lb@example.com'
        g.smtpServer() == '192.0.2.1'
        g.smtpServerPort() == 2525
        g.smtpConnectTimeout() == Duration.ofSeconds(10)
        g.vrrpMcastGroup4().hostAddress == '224.0.0.99'
        g.vrrpVersion() == 3
        g.vrrpStrict()
        g.vrrpLowerPrioNoAdvert()
        g.vrrpGarpMasterRepeat() == 3
        g.vrrpGarpLowerPrioRepeat() == 3
        g.vrrpGarpLowerPrioDelay() == Duration.ofSeconds(2)
        g.vrrpGarpInterval() == Duration.ofMillis(1)
        g.vrrpGnaInterval() == Duration.ofNanos(250_000)
        g.scriptUser() == 'nobody'
        g.scriptGroup() == 'nogroup'
        g.enableScriptSecurity()
        g.notifyFifo().path() == '/run/k.fifo'
        g.notifyFifo().user() == 'root'
        g.notifyFifo().script() == '/bin/reader'
        g.vrrpStartupDelay() == Duration.ofMillis(5500)
        g.defaultInterface() == 'ens3'
        g.lvsFlush()
        g.lvsFlushOnStop() == LvsFlushOnStop.VS
        g.vigilForwarder() == ForwarderBackend.NFTABLES
        g.other() == [max_auto_priority: ['10']]
    }

    def "lvs_flush_on_stop alone is a full flush"() {
        when:
        def r = load(dir, 'global_defs {\n    lvs_flush_on_stop\n}\n' + MIN)

        then:
        r.diagnostics().isEmpty()
        r.config().globalDefs().lvsFlushOnStop() == LvsFlushOnStop.FULL
    }

    def "vrrp_instance defaults"() {
        when:
        VrrpInstance vi = load(dir, MIN).config().vrrpInstances()[0]

        then:
        vi.name() == 'VI_1'
        vi.initialState() == VrrpInstance.State.BACKUP
        vi.interfaceName() == 'eth0'
        vi.virtualRouterId() == 51
        vi.priority() == 100
        vi.advertInterval() == Duration.ofSeconds(1)
        vi.version() == 2
        vi.authentication() == Authentication.NONE
        vi.virtualIpaddresses()[0].address().hostAddress == '10.0.0.10'
        vi.virtualIpaddresses()[0].prefixLength() == 32
        vi.virtualIpaddresses()[0].dev() == null
        vi.preempt()
        vi.preemptDelay() == Duration.ZERO
        vi.accept()
        vi.garpMasterDelay() == Duration.ofSeconds(5)
        vi.garpMasterRepeat() == 5
        vi.garpMasterRefresh() == Duration.ZERO
        vi.garpMasterRefreshRepeat() == 1
        vi.garpLowerPrioDelay() == Duration.ofSeconds(5)
        vi.garpLowerPrioRepeat() == 5
        !vi.smtpAlert()
        !vi.useVmac()
        vi.downTimerAdverts() == 3
        !vi.lowerPrioNoAdvert()
        !vi.higherPrioSendAdvert()
        !vi.strict()
        !vi.isUnicast()
        vi.ref().line() == 1
    }

    def "state MASTER without priority means 255; priority 255 means MASTER"() {
        when:
        def c = load(dir, '''\
            vrrp_instance A {
                state MASTER
                interface eth0
                virtual_router_id 1
            }
            vrrp_instance B {
                interface eth0
                virtual_router_id 2
                priority 255
            }
            vrrp_instance C {
                state MASTER
                interface eth0
                virtual_router_id 3
                priority 150
            }
            ''').config()

        then:
        c.instance('A').get().priority() == 255
        c.instance('B').get().initialState() == VrrpInstance.State.MASTER
        c.instance('C').get().priority() == 150
        c.instance('C').get().initialState() == VrrpInstance.State.MASTER
    }

    def "version follows the global vrrp_version, 3 for IPv6, or the instance's own"() {
        when:
        def c = load(dir, '''\
            global_defs {
                vrrp_version 3
                vrrp_garp_master_repeat 2
                smtp_alert_vrrp true
            }
            vrrp_instance V4 {
                interface eth0
                virtual_router_id 1
                advert_int 0.25
                virtual_ipaddress {
                    10.0.0.1/24 brd + dev eth1 label eth1:vip scope global
                }
            }
            vrrp_instance V6 {
                interface eth0
                virtual_router_id 1
                version 2
                virtual_ipaddress {
                    fe80::1/64
                }
            }
            vrrp_instance V6B {
                interface eth0
                virtual_router_id 2
                garp_master_repeat 7
                virtual_ipaddress {
                    2001:db8::1
                }
            }
            ''').config()
        def v4 = c.instance('V4').get()
        def vip = v4.virtualIpaddresses()[0]

        then:
        v4.version() == 3
        v4.advertInterval() == Duration.ofMillis(250)
        v4.garpMasterRepeat() == 2
        v4.smtpAlert()
        vip.prefixLength() == 24
        vip.broadcast().hostAddress == '10.0.0.255'
        vip.dev() == 'eth1'
        vip.label() == 'eth1:vip'
        vip.scope() == 'global'
        c.instance('V6').get().version() == 2
        c.instance('V6B').get().version() == 3
        c.instance('V6B').get().garpMasterRepeat() == 7
        c.instance('V6B').get().virtualIpaddresses()[0].prefixLength() == 128
    }

    def "instance keywords are read"() {
        when:
        def r = load(dir, '''\
            vrrp_script chk { 
                script "/bin/check arg"
            }
            track_file tf {
                file /run/tf
            }
            vrrp_instance VI {
                state BACKUP
                interface eth0
                virtual_router_id 9
                priority 90
                nopreempt
                preempt_delay 30
                no_accept
                authentication {
                    auth_type AH
                    auth_pass pw
                }
                unicast_src_ip 192.0.2.1
                unicast_peer {
                    192.0.2.2 min_ttl 250 max_ttl 255
                    192.0.2.3
                }
                virtual_ipaddress_excluded {
                    2001:db8::5/64
                }
                virtual_routes {
                    10.1.0.0/16 via 192.0.2.254
                }
                track_interface {
                    eth1 weight -20
                    eth2
                }
                track_script {
                    chk weight 10 reverse
                }
                track_file {
                    tf weight 5
                }
                notify /bin/notify
                notify_master "/bin/n master" root
                notify_backup /bin/n backup
                notify_fault /bin/n fault
                notify_stop /bin/n stop
                smtp_alert
                use_vmac
                dont_track_primary
                down_timer_adverts 5
                lower_prio_no_advert
                higher_prio_send_advert true
                garp_master_refresh 60
                promote_secondaries
            }
            ''')
        def vi = r.config().vrrpInstances()[0]

        then:
        r.diagnostics()*.message() == ['vrrp_instance "VI" has no virtual_ipaddress']
        !vi.preempt()
        vi.preemptDelay() == Duration.ofSeconds(30)
        !vi.accept()
        vi.authentication().type() == Authentication.Type.AH
        vi.authentication().password() == 'pw'
        vi.unicastSrcIp().hostAddress == '192.0.2.1'
        vi.unicastPeers()*.address()*.hostAddress == ['192.0.2.2', '192.0.2.3']
        vi.unicastPeers()[0].minTtl() == 250
        vi.unicastPeers()[0].maxTtl() == 255
        vi.unicastPeers()[1].minTtl() == null
        vi.virtualIpaddresses().isEmpty()
        vi.virtualIpaddressExcluded()[0].isIpv6()
        vi.virtualRoutes()[0].words() == ['10.1.0.0/16', 'via', '192.0.2.254']
        vi.trackInterfaces().collect { [it.name(), it.weight()] } == [['eth1', -20], ['eth2', 0]]
        vi.trackScripts()[0].name() == 'chk'
        vi.trackScripts()[0].weight() == 10
        vi.trackScripts()[0].reverse()
        vi.trackFiles()[0].weight() == 5
        vi.notifyScript() == '/bin/notify'
        vi.notifyMaster() == '/bin/n master'
        vi.notifyBackup() == '/bin/n backup'
        vi.notifyFault() == '/bin/n fault'
        vi.notifyStop() == '/bin/n stop'
        vi.smtpAlert()
        vi.useVmac()
        vi.vmacName() == 'vrrp.9'
        vi.dontTrackPrimary()
        vi.downTimerAdverts() == 5
        vi.lowerPrioNoAdvert()
        vi.higherPrioSendAdvert()
        vi.garpMasterRefresh() == Duration.ofSeconds(60)
        vi.other() == [promote_secondaries: []]
        vi.isUnicast()
    }

    def "vrrp_script, track_file and sync group defaults and values"() {
        when:
        def r = load(dir, '''\
            vrrp_script a {
                script /bin/a
            }
            vrrp_script b {
                script "/bin/b x"
                interval 2
                timeout 1.5
                weight -30 reverse
                rise 3
                fall 4
                user nobody nogroup
                init_fail
            }
            track_file f {
                file /run/f
            }
            vrrp_instance I1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    10.0.0.1
                }
            }
            vrrp_instance I2 {
                interface eth0
                virtual_router_id 2
                virtual_ipaddress {
                    10.0.0.2
                }
            }
            vrrp_sync_group G {
                group {
                    I1 I2
                }
                notify_master /bin/gm
                track_script {
                    b
                }
            }
            ''')
        def c = r.config()
        def a = c.script('a').get()
        def b = c.script('b').get()

        then:
        r.diagnostics().isEmpty()
        a.interval() == Duration.ofSeconds(1)
        a.timeout() == Duration.ofSeconds(1)
        a.weight() == 0
        !a.reverse()
        a.rise() == 1
        a.fall() == 1
        a.user() == null
        !a.initFail()
        b.script() == '/bin/b x'
        b.interval() == Duration.ofSeconds(2)
        b.timeout() == Duration.ofMillis(1500)
        b.weight() == -30
        b.reverse()
        b.rise() == 3
        b.fall() == 4
        b.user() == 'nobody'
        b.group() == 'nogroup'
        b.initFail()
        c.trackFiles()[0].weight() == 1
        c.trackFiles()[0].file() == '/run/f'
        c.syncGroups()[0].members() == ['I1', 'I2']
        c.syncGroups()[0].notifyMaster() == '/bin/gm'
        c.syncGroups()[0].trackScripts()*.name() == ['b']
    }

    def "virtual_server, real_server and checker defaults"() {
        when:
        def r = load(dir, '''\
            virtual_server 192.0.2.10 80 {
                real_server 192.0.2.21 8080 {
                    HTTP_GET {
                        url {
                            path /health
                        }
                    }
                    TCP_CHECK {
                    }
                    DNS_CHECK {
                    }
                    MISC_CHECK {
                        misc_path "/bin/check x"
                    }
                    SMTP_CHECK {
                    }
                    UDP_CHECK {
                    }
                }
                real_server 192.0.2.22 {
                    TCP_CHECK {
                    }
                }
            }
            ''')
        def vs = r.config().virtualServers()[0]
        def rs = vs.realServers()[0]
        HttpCheck http = rs.checkers()[0]
        TcpCheck tcp = rs.checkers()[1]
        DnsCheck dns = rs.checkers()[2]
        MiscCheck misc = rs.checkers()[3]
        SmtpCheck smtp = rs.checkers()[4]
        UdpCheck udp = rs.checkers()[5]

        then:
        r.diagnostics().isEmpty()
        vs.lbAlgo() == 'wlc'
        vs.lvsMethod() == LvsMethod.NAT
        vs.protocol() == 'TCP'
        vs.persistenceTimeout() == null
        vs.quorum() == 1
        vs.hysteresis() == 0
        vs.delayLoop() == Duration.ofSeconds(60)
        !vs.alpha()
        !vs.omega()
        !vs.inhibitOnFailure()
        rs.weight() == 1
        rs.port() == 8080
        vs.realServers()[1].port() == 80
        rs.lvsMethod() == LvsMethod.NAT
        http.common().connectIp().hostAddress == '192.0.2.21'
        http.common().connectPort() == 8080
        http.common().connectTimeout() == Duration.ofSeconds(5)
        http.common().retry() == 1
        http.common().delayBeforeRetry() == Duration.ofSeconds(3)
        http.common().delayLoop() == Duration.ofSeconds(60)
        http.common().warmup() == Duration.ofSeconds(60)
        http.httpProtocol() == '1.0'
        !http.ssl()
        http.urls()[0].path() == '/health'
        http.urls()[0].statusCodes()*.from() == [200]
        http.urls()[0].statusCodes()*.to() == [299]
        http.keyword() == 'HTTP_GET'
        http.raw().children()[0].name() == 'url'
        tcp.common().retry() == 1
        tcp.common().delayBeforeRetry() == Duration.ofSeconds(1)
        dns.type() == 'SOA'
        dns.name() == '.'
        dns.common().retry() == 3
        dns.common().delayBeforeRetry() == Duration.ofSeconds(60)
        misc.path() == '/bin/check x'
        misc.timeout() == Duration.ofSeconds(60)
        misc.common().retry() == 0
        !misc.dynamic()
        smtp.heloName() == 'smtpchecker.keepalived.org'
        udp.minReplyLength() == 0
        udp.maxReplyLength() == 255
        !udp.requireReply()
    }

    def "virtual_server values flow down to real servers and checkers"() {
        when:
        def r = load(dir, '''\
            track_file tf {
                file /run/tf
            }
            virtual_server_group G {
                192.0.2.1-10 80
                198.51.100.0/24
                fwmark 7 inet6
            }
            virtual_server fwmark 5 {
                lb_kind TUN type gue port 6080 nocsum
                persistence_timeout
                delay_loop 10
                connect_timeout 2
                retry 4
                alpha
                inhibit_on_failure
                sorry_server 192.0.2.99 8080
                quorum 2
                hysteresis 1
                quorum_up /bin/up
                ops
                real_server 192.0.2.30 80 {
                    weight 0
                    lvs_method DR
                    notify_up "/bin/rs up"
                    uthreshold 100
                    SSL_GET {
                        url {
                            path /
                            digest 9B3A0C85A887A256D6939DA88AABD8CD
                            status_code 200 300-302
                        }
                        connect_port 443
                        enable_sni
                    }
                    FILE_CHECK {
                        track_file tf
                        weight 2 reverse
                    }
                    MY_PLUGIN_CHECK {
                        foo bar
                        retry 9
                    }
                }
            }
            virtual_server group G {
                lb_algo rr
                persistence_timeout 600
                protocol UDP
            }
            ''')
        def c = r.config()
        def vs = c.virtualServers()[0]
        def rs = vs.realServers()[0]
        HttpCheck ssl = rs.checkers()[0]
        FileCheck file = rs.checkers()[1]
        GenericCheck plugin = rs.checkers()[2]

        then:
        r.diagnostics()*.format() == ["${dir.resolve('keepalived.conf').toAbsolutePath()}:40:9: warning: unknown checker \"MY_PLUGIN_CHECK\", kept as a generic checker".toString()]
        c.virtualServerGroups()[0].entries()[0].end().hostAddress == '192.0.2.10'
        c.virtualServerGroups()[0].entries()[0].port() == 80
        c.virtualServerGroups()[0].entries()[1].prefixLength() == 24
        c.virtualServerGroups()[0].entries()[2].fwmark() == 7
        vs.fwmark() == 5
        vs.key() == 'fwmark 5'
        vs.lvsMethod() == new LvsMethod(LvsMethod.Kind.TUN, 'gue', 6080, 'nocsum')
        vs.persistenceTimeout() == Duration.ofSeconds(360)
        vs.sorryServer().toString() == '192.0.2.99:8080'
        vs.quorum() == 2
        vs.hysteresis() == 1
        vs.quorumUp() == '/bin/up'
        vs.flags() == ['ops'] as Set
        vs.alpha()
        rs.weight() == 0
        rs.lvsMethod().kind() == LvsMethod.Kind.DR
        rs.inhibitOnFailure()
        rs.notifyUp() == '/bin/rs up'
        rs.uthreshold() == 100
        rs.alpha()
        ssl.ssl()
        ssl.enableSni()
        ssl.common().connectPort() == 443
        ssl.common().connectTimeout() == Duration.ofSeconds(2)
        ssl.common().retry() == 4
        ssl.common().delayLoop() == Duration.ofSeconds(10)
        ssl.common().warmup() == Duration.ofSeconds(10)
        ssl.common().alpha()
        ssl.urls()[0].digest() == '9b3a0c85a887a256d6939da88aabd8cd'
        ssl.urls()[0].statusCodes().collect { [it.from(), it.to()] } == [[200, 200], [300, 302]]
        file.trackFile() == 'tf'
        file.weight() == 2
        file.reverse()
        plugin.keyword() == 'MY_PLUGIN_CHECK'
        plugin.common().retry() == 9
        plugin.raw().children()[0].argTexts() == ['bar']
        plugin.raw().children()[0].ref().line() == 41
        c.virtualServers()[1].group() == 'G'
        c.virtualServers()[1].persistenceTimeout() == Duration.ofSeconds(600)
        c.virtualServers()[1].protocol() == 'UDP'
        c.virtualServers()[1].lbAlgo() == 'rr'
    }

    def "static addresses take default_interface; source files are listed"() {
        when:
        def r = load(dir, '''\
            global_defs {
                default_interface ens5
            }
            static_ipaddress {
                192.0.2.5/24 dev lo
                192.0.2.6/24
            }
            static_routes {
                192.0.2.0/24 via 10.0.0.1
            }
            ''' + MIN)
        def c = r.config()

        then:
        c.staticIpaddresses()*.dev() == ['lo', 'ens5']
        c.staticRoutes()[0].words() == ['192.0.2.0/24', 'via', '10.0.0.1']
        c.sourceFiles() == [dir.resolve('keepalived.conf').toAbsolutePath()]
    }
}
