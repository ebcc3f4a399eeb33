package dev.vigil.kernel.linux

import dev.vigil.kernel.KernelException
import dev.vigil.kernel.VirtualAddress
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class NetlinkAddressManagerSpec extends Specification {
    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()
    @Shared @AutoCleanup NetlinkAddressManager manager = NetNs.call(hosts.nsA) { new NetlinkAddressManager() }

    private List<String> ipAddr(String family) {
        TwoHosts.sh('ip', '-n', hosts.nsA, '-o', family, 'addr', 'show', 'dev', hosts.ifA).readLines()
    }

    def "an IPv4 address with label and broadcast is added twice and removed twice without error"() {
        given:
        def vip = new VirtualAddress(InetAddress.getByName("10.${hosts.net}.0.100"), 24, hosts.ifA,
                "${hosts.ifA}:vip", InetAddress.getByName("10.${hosts.net}.0.255"), 0)

        when:
        manager.add(vip)
        manager.add(vip)

        then:
        def listed = manager.addresses().find { it.address() == vip.address() }
        listed.ifname() == hosts.ifA
        listed.prefixLength() == 24
        listed.scope() == 0
        listed.secondary()
        listed.label() == "${hosts.ifA}:vip".toString()
        ipAddr('-4').any { it.contains("inet 10.${hosts.net}.0.100/24 brd 10.${hosts.net}.0.255 scope global secondary ${hosts.ifA}:vip") }

        when:
        manager.remove(vip)
        manager.remove(vip)

        then:
        manager.addresses().every { it.address() != vip.address() }
        ipAddr('-4').every { !it.contains("10.${hosts.net}.0.100/") }
    }

    def "an IPv6 address is added without duplicate address detection and removed"() {
        given:
        def vip = new VirtualAddress(InetAddress.getByName('2001:db8::64'), 64, hosts.ifA, null, null, 0)

        when:
        manager.add(vip)
        manager.add(vip)

        then:
        def listed = manager.addresses().find { it.address() == vip.address() }
        listed.prefixLength() == 64
        !listed.secondary()
        ipAddr('-6').any { it.contains('inet6 2001:db8::64/64 scope global nodad') && !it.contains('tentative') }

        when:
        manager.remove(vip)
        manager.remove(vip)

        then:
        manager.addresses().every { it.address() != vip.address() }
        ipAddr('-6').every { !it.contains('2001:db8::64') }
    }

    def "the dump lists the primary address and the link-local address of the interface"() {
        expect:
        manager.primaryIpv4(hosts.ifA).get() == InetAddress.getByName(hosts.ipA)
        manager.linkLocal(hosts.ifA).get() == TwoHosts.linkLocal(hosts.nsA, hosts.ifA)
        manager.addresses().find { it.address() == InetAddress.getByName('127.0.0.1') }.ifname() == 'lo'
    }

    def "an unknown interface is ENODEV from the link lookup"() {
        when:
        manager.add(new VirtualAddress(InetAddress.getByName('10.9.9.9'), 32, 'nosuchif0', null, null, 0))

        then:
        def e = thrown(KernelException)
        e.call() == 'RTM_GETLINK'
        e.errno() == 19
        e.message == 'RTM_GETLINK: No such device: nosuchif0 (errno 19)'
    }

    def "a kernel rejection carries errno and the extended-ACK text"() {
        when: 'prefix length 33 is invalid for IPv4'
        manager.add(new VirtualAddress(InetAddress.getByName('10.9.9.9'), 33, hosts.ifA, null, null, 0))

        then:
        def e = thrown(KernelException)
        e.call() == 'RTM_NEWADDR'
        e.errno() == 22
        e.message == "RTM_NEWADDR: Invalid argument (ipv4: Invalid prefix length): 10.9.9.9/33 dev ${hosts.ifA} (errno 22)"
    }
}
