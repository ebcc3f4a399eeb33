package dev.vigil.kernel.linux

import dev.vigil.kernel.KernelException
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Paths

@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class NetNsSpec extends Specification {
    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()

    /** The network namespace of the calling thread, as {@code net:[inode]}. */
    static String threadNamespace() {
        Files.readSymbolicLink(Paths.get('/proc/thread-self/ns/net')).toString()
    }

    /** The network namespace {@code ip netns} calls {@code name}, as {@code net:[inode]}. */
    static String namespace(String name) {
        "net:[${Files.getAttribute(Paths.get("/var/run/netns/${name}"), 'unix:ino')}]".toString()
    }

    def "code runs inside the named namespace and sockets made there keep working from other threads"() {
        when:
        def manager = NetNs.call(hosts.nsB) { new NetlinkAddressManager() }

        then: 'the socket sees B from the test thread, which itself is not in B'
        manager.primaryIpv4(hosts.ifB).get() == InetAddress.getByName(hosts.ipB)
        threadNamespace() != namespace(hosts.nsB)

        cleanup:
        manager?.close()
    }

    def "the result and the thread name come back; the calling thread's namespace is unchanged"() {
        expect:
        NetNs.call(hosts.nsA) { Thread.currentThread().name } == "netns-${hosts.nsA}".toString()
        NetNs.call(hosts.nsA) { threadNamespace() } == namespace(hosts.nsA)
        threadNamespace() != namespace(hosts.nsA)
    }

    def "an exception thrown by the task reaches the caller unchanged"() {
        when:
        NetNs.call(hosts.nsA) { throw new IllegalStateException('inside') }

        then:
        def e = thrown(IllegalStateException)
        e.message == 'inside'
    }

    def "an unknown namespace is ENOENT from open"() {
        when:
        NetNs.call('vk-no-such-ns') { 1 }

        then:
        def e = thrown(KernelException)
        e.call() == 'open'
        e.errno() == 2
        e.message == 'open: No such file or directory: /var/run/netns/vk-no-such-ns (errno 2)'
    }
}
