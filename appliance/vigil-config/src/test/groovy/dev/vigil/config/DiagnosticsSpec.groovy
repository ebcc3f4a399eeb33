package dev.vigil.config

import dev.vigil.config.model.LvsFlushOnStop
import dev.vigil.config.parse.Suggest
import java.nio.file.Path
import spock.lang.Specification
import spock.lang.TempDir

import static dev.vigil.config.ConfigFixture.load
import static dev.vigil.config.ConfigFixture.messages

class DiagnosticsSpec extends Specification {
    @TempDir
    Path dir

    static String instance(String body, String name = 'VI_1') {
        """\
vrrp_instance $name {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1
    }
$body
}
"""
    }

    def "format is file:line:col: severity: message"() {
        given:
        def ref = new SourceRef(Path.of('/etc/k.conf'), 3, 7)

        expect:
        new Diagnostic(Severity.ERROR, ref, 'boom').format() == '/etc/k.conf:3:7: error: boom'
        new Diagnostic(Severity.WARNING, ref, 'hmm').format() == '/etc/k.conf:3:7: warning: hmm'
        new Diagnostic(Severity.ERROR, ref, 'boom').format(Path.of('/etc')) == 'k.conf:3:7: error: boom'
    }

    def "#text gives: #expected"() {
        when:
        def r = load(dir, instance(text))

        then:
        messages(r) == expected
        r.hasErrors() == expected.any { it.startsWith('error') }

        where:
        text                           || expected
        '    priorty 100'              || ['warning: unknown keyword "priorty" in vrrp_instance (did you mean "priority"?)']
        '    virtual_routerid 5'       || ['warning: unknown keyword "virtual_routerid" in vrrp_instance (did you mean "virtual_router_id"?)']
        '    zzzzqqq'                  || ['warning: unknown keyword "zzzzqqq" in vrrp_instance']
        '    priority 0'               || ['error: "priority" value 0 out of range 1..255']
        '    priority 256'             || ['error: "priority" value 256 out of range 1..255']
        '    priority high'            || ['error: "priority" expected an integer, got "high"']
        '    priority'                 || ['error: missing argument for "priority"']
        '    advert_int 0.5'           || ['warning: advert_int 0.5 is not a whole number of seconds for VRRPv2, rounded to 1']
        '    advert_int 0.4'           || ['error: advert_int 0.4 out of range for VRRPv2 (1..255 seconds)']
        '    advert_int 256'           || ['error: advert_int 256 out of range for VRRPv2 (1..255 seconds)']
        '    advert_int x'             || ['error: "advert_int" expected a number, got "x"']
        '    version 3\n    advert_int 41' || ['error: advert_int 41 out of range for VRRPv3 (0.01..40.95 seconds)']
        '    version 3\n    advert_int 0.004' || ['error: advert_int 0.004 out of range for VRRPv3 (0.01..40.95 seconds)']
        '    version 3\n    advert_int 0.015' || ['warning: advert_int 0.015 is not a multiple of 0.01 seconds for VRRPv3, rounded to 0.02']
        '    state master'             || ['error: invalid state "master" (expected MASTER or BACKUP)']
        '    mcast_src_ip 10.0.0.256'  || ['error: invalid IP address "10.0.0.256"']
        '    smtp_alert maybe'         || ['error: "smtp_alert" expected a boolean (true/false/on/off/yes/no), got "maybe"']
        '    track_script {\n        nope\n    }' || ['error: unknown vrrp_script "nope" in track_script']
        '    track_file {\n        nope\n    }'   || ['error: unknown track_file "nope" in track_file']
        '    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }' || ['warning: auth_pass is longer than 8 characters, only "12345678" is used']
        '    authentication {\n        auth_type MD5\n        auth_pass x\n    }' || ['error: authentication has auth_pass but no auth_type', 'error: invalid auth_type "MD5" (expected PASS or AH)']
        '    version 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }' || ['warning: authentication is not supported by VRRPv3 and is ignored']
        '    state MASTER\n    nopreempt' || ['warning: nopreempt does not work with state MASTER; preempting']
        '    virtual_ipaddress_excluded {\n        10.0.0.1/40\n    }' || ['error: invalid prefix length "40" in "10.0.0.1/40" (0..32)']
        '    priority 100 {\n    }'    || ['warning: "priority" does not take a { } block; block ignored']
    }

    def "errors point at the offending word"() {
        when:
        def r = load(dir, instance('    priority  300'))

        then:
        r.diagnostics()[0].ref().line() == 7
        r.diagnostics()[0].ref().col() == 15
    }

    def "virtual_router_id is required and must be 1..255; the instance is dropped"() {
        expect:
        messages(load(dir, 'vrrp_instance A {\n interface eth0\n}\n')) == ['error: vrrp_instance "A" has no virtual_router_id']
        messages(load(dir, 'vrrp_instance A {\n interface eth0\n virtual_router_id 0\n}\n')) ==
                ['error: "virtual_router_id" value 0 out of range 1..255']
        load(dir, 'vrrp_instance A {\n interface eth0\n virtual_router_id 0\n}\n').config().vrrpInstances().isEmpty()
    }

    def "an instance needs an interface unless it is unicast"() {
        expect:
        messages(load(dir, 'vrrp_instance A {\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n')) ==
                ['error: vrrp_instance "A" has no interface']
        messages(load(dir, 'vrrp_instance A {\n virtual_router_id 1\n unicast_peer {\n  10.0.0.2\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n')) == []
    }

    def "mixed families in virtual_ipaddress are an error; the odd address is dropped"() {
        when:
        def r = load(dir, 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  2001:db8::1\n }\n}\n')

        then:
        messages(r) == ['error: virtual_ipaddress mixes address families (2001:db8::1 is IPv6, the first address is IPv4)']
        r.config().vrrpInstances()[0].virtualIpaddresses().size() == 1
    }

    def "duplicate names and VRIDs"() {
        when:
        def r = load(dir, instance('') + instance('', 'VI_1') + instance('', 'VI_2') +
                'vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  2001:db8::1\n }\n}\n')

        then:
        messages(r) == ['error: duplicate vrrp_instance "VI_1" (first defined at keepalived.conf:1)',
                        'error: virtual_router_id 51 on eth0 (IPv4) is already used by vrrp_instance "VI_1"']
        r.config().vrrpInstances()*.name() == ['VI_1', 'VI_2', 'VI_3']
    }

    def "sync group problems"() {
        when:
        def r = load(dir, instance('') + '''\
vrrp_sync_group G {
    group {
        VI_1
        VI_9
    }
}
vrrp_sync_group H {
    group {
        VI_1
    }
}
''')

        then:
        messages(r) == ['warning: vrrp_sync_group "G" has only one member',
                        'error: vrrp_sync_group "G" names unknown vrrp_instance "VI_9"',
                        'warning: vrrp_sync_group "H" has no members',
                        'error: vrrp_instance "VI_1" is already in vrrp_sync_group "G"']
    }

    def "unknown keywords in every block name the nearest keyword"() {
        when:
        def r = load(dir, '''\
global_defs {
    router_idd x
}
vrrp_script s {
    script /bin/true
    intervall 2
}
virtual_server 10.0.0.1 80 {
    lb_algoo rr
    real_server 10.0.0.2 80 {
        wieght 2
        HTTP_GET {
            url {
                paht /
            }
            conect_timeout 3
        }
    }
}
vrrp_instanse X {
}
''')

        then:
        messages(r) == ['warning: unknown keyword "router_idd" in global_defs (did you mean "router_id"?)',
                        'warning: unknown keyword "intervall" in vrrp_script (did you mean "interval"?)',
                        'warning: unknown keyword "lb_algoo" in virtual_server (did you mean "lb_algo"?)',
                        'warning: unknown keyword "wieght" in real_server (did you mean "weight"?)',
                        'error: url has no path',
                        'warning: unknown keyword "paht" in url (did you mean "path"?)',
                        'warning: unknown keyword "conect_timeout" in HTTP_GET (did you mean "connect_timeout"?)',
                        'warning: unknown keyword "vrrp_instanse" in top level (did you mean "vrrp_instance"?)']
    }

    def "LVS errors"() {
        expect:
        messages(load(dir, text)) == expected

        where:
        text || expected
        'virtual_server 10.0.0.x 80 {\n}\n' || ['error: invalid IP address "10.0.0.x"']
        'virtual_server 10.0.0.1 http {\n}\n' || ['error: "virtual_server" expected an integer, got "http"']
        'virtual_server 10.0.0.1 80 {\n lb_kind FOO\n}\n' || ['error: invalid lb_kind "FOO" (expected NAT, DR or TUN)']
        'virtual_server 10.0.0.1 80 {\n protocol ICMP\n}\n' || ['error: invalid protocol "ICMP" (expected TCP, UDP or SCTP)']
        'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n  }\n }\n}\n' || ['error: HTTP_GET has no url']
        'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  MISC_CHECK {\n  }\n }\n}\n' || ['error: MISC_CHECK has no misc_path']
        'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  FILE_CHECK {\n   track_file nope\n  }\n }\n}\n' || ['error: unknown track_file "nope" in FILE_CHECK']
        'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  TCP_CHEK {\n  }\n }\n}\n' || ['warning: unknown checker "TCP_CHEK", kept as a generic checker (did you mean "TCP_CHECK"?)']
        'virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n }\n real_server 10.0.0.2 80 {\n }\n}\n' || ['warning: duplicate real_server 10.0.0.2:80 in virtual_server 10.0.0.1:80']
        'virtual_server group NOPE {\n}\n' || ['error: unknown virtual_server_group "NOPE"']
        'virtual_server_group G {\n fwmark 0\n}\nvirtual_server group G {\n}\n' || ['error: "fwmark" value 0 out of range 1..2147483647']
        'virtual_server_group G {\n fwmark 3 inet7\n}\nvirtual_server group G {\n}\n' || ['error: invalid address family "inet7" (expected inet or inet6)']
        'virtual_server_group G {\n 10.0.0.9-3 80\n}\nvirtual_server group G {\n}\n' || ['error: invalid address range "10.0.0.9-3"']
    }

    def "vigil_forwarder takes ipvs, nftables or auto; anything else is an error at the word"() {
        when:
        def r = load(dir, 'global_defs {\n    vigil_forwarder lvs\n}\n' + instance(''))

        then:
        r.hasErrors()
        r.diagnostics()*.format(dir) == ['keepalived.conf:2:21: error: invalid vigil_forwarder "lvs" (expected ipvs, nftables or auto)']
    }

    def "vigil_plugin_call_memory is a size of at least 1M, kept in bytes; anything else is an error at the word"() {
        when:
        def r = load(dir, "global_defs {\n    vigil_plugin_call_memory ${word}\n}\n" + instance(''))

        then:
        r.diagnostics()*.format(dir) == (error ? ["keepalived.conf:2:30: error: invalid vigil_plugin_call_memory \"${word}\" (expected: a size of at least 1M, in bytes or with a K, M or G suffix, e.g. 64M)".toString()] : [])
        r.config().globalDefs().other()['vigil_plugin_call_memory'] == (error ? null : [bytes.toString()])

        where:
        word       || error | bytes
        '64M'      || false | 64L << 20
        '2G'       || false | 2L << 30
        '4096K'    || false | 4L << 20
        '16MiB'    || false | 16L << 20
        '1048576'  || false | 1L << 20
        '512K'     || true  | 0
        '64X'      || true  | 0
        'lots'     || true  | 0
        '-5M'      || true  | 0
    }

    def "lvs_flush_on_stop takes VS or nothing; another word is a warning at the word, and nothing is flushed"() {
        when:
        def r = load(dir, 'global_defs {\n    lvs_flush_on_stop vs\n}\n' + instance(''))

        then:
        !r.hasErrors()
        r.diagnostics()*.format(dir) == ['keepalived.conf:2:23: warning: unknown lvs_flush_on_stop type "vs" (expected VS, or nothing); ignored: nothing is flushed at stop']
        r.config().globalDefs().lvsFlushOnStop() == LvsFlushOnStop.NONE
    }

    def "an empty configuration is worth a warning"() {
        expect:
        messages(load(dir, '! nothing\n')) == ['warning: no vrrp_instance or virtual_server is defined']
    }

    def "a missing top-level file is an error"() {
        when:
        def r = ConfigLoader.load(dir.resolve('absent.conf'), ConfigFixture.options())

        then:
        r.hasErrors()
        r.diagnostics()[0].message().startsWith('cannot read "')
        r.diagnostics()[0].message().endsWith('absent.conf": no such file')
        r.config().vrrpInstances().isEmpty()
    }

    def "a broken block is skipped while the rest of the file is used"() {
        when:
        def r = load(dir, 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n\n' +
                instance('', 'B'))

        then:
        messages(r) == ['error: unclosed "{" of "vrrp_instance A"', 'error: unclosed "{" of "virtual_ipaddress"']
        r.config().vrrpInstances()*.name() == ['B']
    }

    def "suggestions use edit distance with transpositions"() {
        expect:
        Suggest.distance('priorty', 'priority') == 1
        Suggest.distance('wieght', 'weight') == 1
        Suggest.nearest('intreface', ['interface', 'priority']) == 'interface'
        Suggest.nearest('completely_different', ['interface', 'priority']) == null
    }
}
