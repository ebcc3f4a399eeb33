package dev.vigil.daemon.forward

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.model.KeepalivedConfig
import dev.vigil.config.model.VirtualServerGroup
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The LVS lines of the notify FIFOs, byte for byte as keepalived writes them (KEEPALIVED.md §4). */
class LvsFifoLinesSpec extends Specification {

    @TempDir
    Path dir

    KeepalivedConfig config(String text) {
        Path f = dir.resolve('k.conf')
        Files.writeString(f, text)
        def r = ConfigLoader.load(f, LoadOptions.defaults())
        assert !r.hasErrors(): r.diagnostics()*.format()
        r.config()
    }

    /** Every virtual server's VS line, then every real server's RS line, as {@code up} says. */
    List<String> lines(String text, boolean up) {
        def c = config(text)
        Map<String, VirtualServerGroup> groups = c.virtualServerGroups().collectEntries { [it.name(), it] }
        def out = c.virtualServers().collect { LvsFifoLines.virtualServer(it, c.virtualServers(), up) }
        c.virtualServers().each { vs ->
            vs.realServers().each { out << LvsFifoLines.realServer(vs, it, c.virtualServers(), groups, up) }
        }
        out
    }

    def 'an address service: [VIP]:proto:port, the real server with its port and the service\'s protocol'() {
        expect:
        lines('''
            virtual_server 192.168.201.15 80 {
                protocol TCP
                real_server 1.2.3.4 80 { }
                real_server 1.2.3.5 { }
            }
            ''', up) == [
                "VS [192.168.201.15]:tcp:80 ${state}\n",
                "RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 ${state}\n",
                "RS [1.2.3.5]:tcp:80 [192.168.201.15]:tcp:80 ${state}\n"]*.toString()

        where:
        up    | state
        true  | 'UP'
        false | 'DOWN'
    }

    def 'IPv6 addresses are written as inet_ntop writes them, in brackets'() {
        expect:
        lines('''
            virtual_server 2001:0db8:0:0:0:0:0:15 53 {
                protocol UDP
                lb_kind TUN
                real_server 2001:db8:1:0:0:0:0:2 5353 { }
                real_server 192.0.2.7 53 { }
            }
            ''', false) == [
                'VS [2001:db8::15]:udp:53 DOWN\n',
                'RS [2001:db8:1::2]:udp:5353 [2001:db8::15]:udp:53 DOWN\n',
                'RS [192.0.2.7]:udp:53 [2001:db8::15]:udp:53 DOWN\n']
    }

    def 'a fwmark service is FWM N, whatever its family, and its real servers have no protocol'() {
        expect:
        lines('''
            virtual_server fwmark 5 {
                real_server 10.0.0.2 80 { }
                real_server 10.0.0.3 { }
            }
            virtual_server fwmark 6 {
                ip_family inet6
                real_server 2001:db8::2 { }
            }
            ''', true) == [
                'VS FWM 5 UP\n',
                'VS FWM 6 UP\n',
                'RS [10.0.0.2]:none:80 FWM 5 UP\n',
                'RS [10.0.0.3]:none:0 FWM 5 UP\n',
                'RS [2001:db8::2]:none:0 FWM 6 UP\n']
    }

    def 'a group\'s virtual servers are [GROUP]:N, N counting the virtual servers of that group in file order'() {
        expect:
        lines('''
            virtual_server_group WEB {
                10.0.0.60-61 80
            }
            virtual_server_group MARKS {
                fwmark 7
            }
            virtual_server group WEB {
                protocol TCP
                real_server 10.0.0.2 80 { }
            }
            virtual_server group MARKS {
                real_server 10.0.0.3 { }
            }
            virtual_server group WEB {
                protocol UDP
                real_server 10.0.0.4 80 { }
            }
            ''', false) == [
                'VS [WEB]:0 DOWN\n',
                'VS [MARKS]:0 DOWN\n',
                'VS [WEB]:1 DOWN\n',
                'RS [10.0.0.2]:tcp:80 [WEB]:0 DOWN\n',
                'RS [10.0.0.3]:none:0 [MARKS]:0 DOWN\n',
                'RS [10.0.0.4]:udp:80 [WEB]:1 DOWN\n']
    }
}
