package dev.vigil.kernel.linux

import dev.vigil.kernel.LinkInfo
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class NetlinkLinkMonitorSpec extends Specification {
    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()
    @AutoCleanup NetlinkLinkMonitor monitor = NetNs.call(hosts.nsA) { new NetlinkLinkMonitor() }
    LinkedBlockingQueue<LinkInfo> events = new LinkedBlockingQueue<>()

    private int ifindex(String ns, String ifname) {
        TwoHosts.sh('ip', '-n', ns, '-o', 'link', 'show', 'dev', ifname).split(':')[0] as int
    }

    /** The first event for {@code ifname} with the given state, waiting at most five seconds in all. */
    private LinkInfo awaitEvent(String ifname, boolean up) {
        long deadline = System.nanoTime() + 5_000_000_000L
        while (true) {
            long left = deadline - System.nanoTime()
            def e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null
            if (e == null || (e.name() == ifname && e.up() == up)) {
                return e
            }
        }
    }

    def "the link dump names every interface with its index, state and MAC"() {
        when:
        def links = monitor.links()

        then:
        links*.name() as Set == ['lo', hosts.ifA] as Set
        def a = links.find { it.name() == hosts.ifA }
        a.index() == ifindex(hosts.nsA, hosts.ifA)
        a.up()
        a.mac() == TwoHosts.mac(hosts.nsA, hosts.ifA)
        def lo = links.find { it.name() == 'lo' }
        lo.index() == 1
        lo.up()
    }

    def "link down and up in the namespace are delivered within a second"() {
        given:
        monitor.subscribe { events.add(it) }

        when:
        TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'set', hosts.ifA, 'down')
        def down = awaitEvent(hosts.ifA, false)

        then:
        down != null
        down.index() == ifindex(hosts.nsA, hosts.ifA)
        down.mac() == TwoHosts.mac(hosts.nsA, hosts.ifA)
        Thread.allStackTraces.keySet().any { it.name == 'netlink-link-monitor' && it.daemon }

        when:
        TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'set', hosts.ifA, 'up')

        then:
        awaitEvent(hosts.ifA, true) != null
        monitor.errors() == 0
    }

    def "losing carrier (peer down) is reported as not up although the link stays administratively up"() {
        given:
        monitor.subscribe { events.add(it) }

        when:
        TwoHosts.sh('ip', '-n', hosts.nsB, 'link', 'set', hosts.ifB, 'down')
        def lost = awaitEvent(hosts.ifA, false)

        then:
        lost != null
        TwoHosts.sh('ip', '-n', hosts.nsA, '-o', 'link', 'show', 'dev', hosts.ifA).contains(',UP')
        !monitor.links().find { it.name() == hosts.ifA }.up()

        when:
        TwoHosts.sh('ip', '-n', hosts.nsB, 'link', 'set', hosts.ifB, 'up')

        then:
        awaitEvent(hosts.ifA, true) != null
    }

    def "a link deleted in the namespace is delivered as not up"() {
        given:
        TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'add', 'vkextra0', 'type', 'veth', 'peer', 'name', 'vkextra1')
        monitor.subscribe { events.add(it) }

        when:
        TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'del', 'vkextra0')
        def gone = awaitEvent('vkextra0', false)

        then:
        gone != null
        monitor.links().every { !it.name().startsWith('vkextra') }
    }

    def "lost notifications (ENOBUFS) trigger a re-dump that delivers every current link"() {
        given: 'a monitor socket with the smallest receive buffer and nobody reading it yet'
        NativeSocket socket = monitor.@events.@socket
        socket.setInt(Sys.SOL_SOCKET, Sys.SO_RCVBUF, 'SO_RCVBUF', 0)
        (0..<10).each {
            TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'add', "vkflood${it}", 'type', 'veth', 'peer', 'name', "vkpeer${it}")
        }
        (0..<10).each { TwoHosts.sh('ip', '-n', hosts.nsA, 'link', 'del', "vkflood${it}") }

        when:
        monitor.subscribe { events.add(it) }
        def current = awaitEvent(hosts.ifA, true)

        then:
        current != null
        monitor.resyncs() == 1
        monitor.errors() == 0
    }

    def "close ends the monitor thread and later subscriptions are refused"() {
        given:
        monitor.subscribe { events.add(it) }

        when:
        monitor.close()

        then:
        Thread.allStackTraces.keySet().every { it.name != 'netlink-link-monitor' || !it.alive }

        when:
        monitor.subscribe { }

        then:
        def e = thrown(dev.vigil.kernel.KernelException)
        e.message == 'subscribe: link monitor is closed'
    }
}
