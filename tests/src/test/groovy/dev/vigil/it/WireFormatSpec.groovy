package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.time.Duration

/**
 * Adverts Vigil puts on the wire, checked by an independent dissector: tshark decodes every
 * captured VRRP packet (v2 with PASS authentication, v3 over IPv4, v3 over IPv6), verifies its
 * checksum and flags nothing as malformed; the IP layer carries TTL / hop limit 255.
 */
@Requires({ NetnsLab.usable() && WireFormatSpec.tsharkPresent() })
class WireFormatSpec extends Specification {

    @Shared NetnsLab lab
    @Shared List<Map<String, String>> packets

    static boolean tsharkPresent() {
        boolean present = ['sh', '-c', 'command -v tshark'].execute().waitFor() == 0
        if (!present) {
            System.err.println('*** SKIPPING WireFormatSpec: tshark is not installed (apt-get install tshark) ***')
            if (Boolean.getBoolean('vigil.requireNetns')) {
                throw new IllegalStateException('vigil.requireNetns is set but tshark is missing')
            }
        }
        present
    }

    static final String CONFIG = '''\
        vrrp_instance V2_PASS {
            interface eth0
            virtual_router_id 21
            priority 200
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass s3cret99
            }
            virtual_ipaddress {
                10.77.0.21/24
                10.77.0.22/24
            }
        }
        vrrp_instance V3_INET {
            interface eth0
            version 3
            virtual_router_id 31
            priority 200
            advert_int 0.1
            virtual_ipaddress {
                10.77.0.31/24
            }
        }
        vrrp_instance V3_INET6 {
            interface eth0
            virtual_router_id 61
            priority 200
            advert_int 0.1
            virtual_ipaddress {
                fd00:77::61/64
                fd00:77::62/64
            }
        }
        '''.stripIndent()

    def setupSpec() {
        lab = new NetnsLab().host('n1', '10.77.0.1/24').host('n2', '10.77.0.2/24')
        def node = new VigilNode(lab, 'n1', CONFIG).start()
        ['V2_PASS', 'V3_INET', 'V3_INET6'].each { node.awaitTransition(it, 'MASTER', Duration.ofSeconds(20)) }
        def pcap = lab.dir.resolve('vrrp.pcap')
        lab.exec('n2', 'tshark', '-q', '-i', 'eth0', '-a', 'duration:3', '-f', 'ip proto 112 or ip6 proto 112',
                 '-w', pcap.toString())
        String fields = NetnsLab.sh('tshark', '-r', pcap.toString(), '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f',
                '-e', 'ip.ttl', '-e', 'ipv6.hlim', '-e', 'vrrp.version', '-e', 'vrrp.virt_rtr_id', '-e', 'vrrp.prio',
                '-e', 'vrrp.addr_count', '-e', 'vrrp.auth_type', '-e', 'vrrp.auth_string', '-e', 'vrrp.checksum.status',
                '-e', '_ws.malformed', '-e', '_ws.expert.severity')
        def names = ['ttl', 'hlim', 'version', 'vrid', 'prio', 'count', 'authType', 'authString', 'checksumStatus',
                     'malformed', 'expert']
        packets = fields.readLines().findAll { it }.collect { line ->
            def cols = line.split('\\|', -1) as List
            [names, cols].transpose().collectEntries()
        }
        node.signal('TERM')
        node.awaitExit(Duration.ofSeconds(10))
    }

    def cleanupSpec() {
        lab?.close()
    }

    def 'tshark decodes every advert without a malformed flag or an expert warning'() {
        expect:
        packets.size() >= 30
        packets.every { it.malformed == '' }
        packets.every { it.expert == '' }
    }

    def 'every checksum verifies (tshark: checksum status good)'() {
        expect: 'status 1 is "Good" in tshark\'s checksum status field'
        packets.every { it.checksumStatus == '1' }
    }

    def 'VRRPv2 with PASS authentication: TTL 255, the password and both addresses'() {
        def v2 = packets.findAll { it.vrid == '21' }

        expect:
        v2.size() >= 2
        v2.every { it.version == '2' && it.ttl == '255' && it.prio == '200' && it.count == '2' }
        v2.every { it.authType == '1' && it.authString == 's3cret99' }
    }

    def 'VRRPv3 over IPv4: TTL 255, 10 adverts a second'() {
        def v3 = packets.findAll { it.vrid == '31' }

        expect:
        v3.size() >= 25
        v3.every { it.version == '3' && it.ttl == '255' && it.prio == '200' && it.count == '1' }
    }

    def 'VRRPv3 over IPv6: hop limit 255'() {
        def v6 = packets.findAll { it.vrid == '61' }

        expect:
        v6.size() >= 25
        v6.every { it.version == '3' && it.hlim == '255' && it.prio == '200' && it.count == '2' }
    }
}
