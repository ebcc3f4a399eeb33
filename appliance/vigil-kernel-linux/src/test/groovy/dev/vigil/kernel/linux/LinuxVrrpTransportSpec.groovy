package dev.vigil.kernel.linux

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.KernelException
import dev.vigil.kernel.PacketBuffer
import dev.vigil.kernel.ReceivedPacket
import spock.lang.AutoCleanup
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

@Requires(value = { TwoHosts.available() }, reason = TwoHosts.NEEDS)
class LinuxVrrpTransportSpec extends Specification {
    static final InetAddress GROUP4 = InetAddress.getByName('224.0.0.18')
    static final InetAddress GROUP6 = InetAddress.getByName('ff02::12')

    @Shared @AutoCleanup TwoHosts hosts = new TwoHosts().create()
    @Shared @AutoCleanup LinuxVrrpTransport transportA = NetNs.call(hosts.nsA) { new LinuxVrrpTransport() }
    @Shared @AutoCleanup LinuxVrrpTransport transportB = NetNs.call(hosts.nsB) { new LinuxVrrpTransport() }

    List<LinuxVrrpChannel> channels = []
    LinkedBlockingQueue<ReceivedPacket> inboxA = new LinkedBlockingQueue<>()
    LinkedBlockingQueue<ReceivedPacket> inboxB = new LinkedBlockingQueue<>()

    def cleanup() {
        channels*.close()
    }

    /** Opens a channel whose readable callback drains it into {@code inbox} (on the receiver thread). */
    private LinuxVrrpChannel open(String ns, LinuxVrrpTransport t, String ifname, AddressFamily family,
                                  InetAddress source, InetAddress group, Queue<ReceivedPacket> inbox) {
        def ref = new AtomicReference<LinuxVrrpChannel>()
        def buffer = new PacketBuffer()
        def c = NetNs.call(ns) {
            t.open(ifname, family, source, group, {
                while (ref.get() == null) {
                    Thread.onSpinWait()
                }
                while (ref.get().receive(buffer)) {
                    inbox.add(buffer.copy(ifname))
                }
            })
        }
        ref.set(c)
        channels << c
        c
    }

    /** A VRRPv3 advert (RFC 5798 §5.1): VRID 51, priority 100, one address, interval 100 cs. */
    static byte[] advert(byte[] address) {
        def header = [0x31, 51, 100, 1, 0x00, 0x64, 0x12, 0x34] as byte[]
        def out = new byte[header.length + address.length]
        System.arraycopy(header, 0, out, 0, header.length)
        System.arraycopy(address, 0, out, header.length, address.length)
        out
    }

    def "an IPv4 multicast advert from A reaches B with TTL 255, its source, the group and the exact bytes"() {
        given:
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, null, GROUP4, inboxA)
        def b = open(hosts.nsB, transportB, hosts.ifB, AddressFamily.INET, null, GROUP4, inboxB)
        def message = advert(InetAddress.getByName("10.${hosts.net}.0.100").address)

        expect:
        a.source() == InetAddress.getByName(hosts.ipA)
        a.ifname() == hosts.ifA
        a.family() == AddressFamily.INET

        when:
        a.send(GROUP4, message)
        def got = inboxB.poll(2, TimeUnit.SECONDS)

        then:
        got != null
        got.ifname() == hosts.ifB
        got.source() == InetAddress.getByName(hosts.ipA)
        got.destination() == GROUP4
        got.ttl() == 255
        got.payload() == message
        b.packetsReceived() == 1
        b.receiveErrors() == 0

        and: 'multicast loopback is off, so A does not hear itself'
        inboxA.poll(200, TimeUnit.MILLISECONDS) == null
    }

    def "an IPv4 unicast advert reaches the peer's address with TTL 255"() {
        given:
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, InetAddress.getByName(hosts.ipA), null, inboxA)
        open(hosts.nsB, transportB, hosts.ifB, AddressFamily.INET, null, null, inboxB)
        def message = advert([10, hosts.net, 0, 101] as byte[])

        when:
        a.send(InetAddress.getByName(hosts.ipB), message)
        def got = inboxB.poll(2, TimeUnit.SECONDS)

        then:
        got.source() == InetAddress.getByName(hosts.ipA)
        got.destination() == InetAddress.getByName(hosts.ipB)
        got.ttl() == 255
        got.payload() == message
    }

    def "an IPv4 receive socket does not see groups it did not join"() {
        given:
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, null, GROUP4, inboxA)
        open(hosts.nsB, transportB, hosts.ifB, AddressFamily.INET, null, GROUP4, inboxB)

        when:
        a.send(InetAddress.getByName('224.0.0.19'), advert(new byte[4]))
        a.send(GROUP4, advert(new byte[4]))

        then:
        inboxB.poll(2, TimeUnit.SECONDS).destination() == GROUP4
        inboxB.poll(200, TimeUnit.MILLISECONDS) == null
    }

    def "an IPv6 multicast advert reaches B from A's link-local address with hop limit 255 and a kernel checksum"() {
        given:
        def llA = TwoHosts.linkLocal(hosts.nsA, hosts.ifA)
        TwoHosts.linkLocal(hosts.nsB, hosts.ifB)
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET6, null, GROUP6, inboxA)
        def b = open(hosts.nsB, transportB, hosts.ifB, AddressFamily.INET6, null, GROUP6, inboxB)
        def message = advert(InetAddress.getByName('2001:db8::100').address)

        expect:
        a.source() == llA

        when:
        a.send(GROUP6, message)
        def got = inboxB.poll(2, TimeUnit.SECONDS)

        then:
        got.ifname() == hosts.ifB
        got.source() == llA
        got.destination() == GROUP6
        got.ttl() == 255
        got.payload().length == message.length
        got.payload()[0..5] == message[0..5]
        got.payload()[8..-1] == message[8..-1]

        and: 'the kernel replaced the placeholder checksum (RFC 5798 §5.2.8)'
        got.payload()[6..7] != [0x12, 0x34] as byte[]
        b.receiveErrors() == 0
        inboxA.poll(200, TimeUnit.MILLISECONDS) == null
    }

    def "an IPv6 unicast advert to the peer's link-local address arrives with hop limit 255"() {
        given:
        def llA = TwoHosts.linkLocal(hosts.nsA, hosts.ifA)
        def llB = TwoHosts.linkLocal(hosts.nsB, hosts.ifB)
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET6, null, null, inboxA)
        open(hosts.nsB, transportB, hosts.ifB, AddressFamily.INET6, null, null, inboxB)

        when:
        a.send(llB, advert(new byte[16]))
        def got = inboxB.poll(2, TimeUnit.SECONDS)

        then:
        got.source() == llA
        got.destination() == llB
        got.ttl() == 255
    }

    def "binding to an address not on the box is EADDRNOTAVAIL from bind"() {
        when:
        NetNs.call(hosts.nsA) {
            transportA.open(hosts.ifA, AddressFamily.INET, InetAddress.getByName('192.0.2.77'), GROUP4, {})
        }

        then:
        def e = thrown(KernelException)
        e.call() == 'bind'
        e.errno() == 99
        e.message == "bind: Cannot assign requested address: source 192.0.2.77 for VRRP IPv4 send socket on ${hosts.ifA} (errno 99)"
    }

    def "an IPv6 source not on the interface is EADDRNOTAVAIL from bind and leaves no receiver behind"() {
        when:
        NetNs.call(hosts.nsA) {
            transportA.open(hosts.ifA, AddressFamily.INET6, InetAddress.getByName('2001:db8::77'), GROUP6, {})
        }

        then:
        def e = thrown(KernelException)
        e.call() == 'bind'
        e.errno() == 99
        e.message == "bind: Cannot assign requested address: source 2001:db8:0:0:0:0:0:77 for VRRP IPv6 send socket on ${hosts.ifA} (errno 99)"
        Thread.allStackTraces.keySet().every { it.name != "vrrp-rx-${hosts.ifA}-inet6".toString() }
    }

    def "close stops the receiver thread promptly"() {
        given:
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, null, GROUP4, inboxA)
        def name = "vrrp-rx-${hosts.ifA}-inet".toString()

        expect:
        Thread.allStackTraces.keySet().any { it.name == name && it.daemon }

        when:
        long start = System.nanoTime()
        a.close()

        then:
        !a.receiverAlive()
        (System.nanoTime() - start) < 1_000_000_000L

        when:
        a.send(GROUP4, advert(new byte[4]))

        then:
        def e = thrown(KernelException)
        e.message == "sendto: channel closed: ${hosts.ifA} INET".toString()
    }

    def "a failing readable callback is counted; the packets wait in the socket and come with the next call"() {
        given:
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, null, GROUP4, inboxA)
        int calls = 0
        def ref = new AtomicReference<LinuxVrrpChannel>()
        def buffer = new PacketBuffer()
        def b = NetNs.call(hosts.nsB) {
            transportB.open(hosts.ifB, AddressFamily.INET, null, GROUP4, {
                if (calls++ == 0) {
                    throw new IllegalStateException('first call rejected')
                }
                while (ref.get().receive(buffer)) {
                    inboxB.add(buffer.copy(hosts.ifB))
                }
            })
        }
        ref.set(b)
        channels << b

        when:
        a.send(GROUP4, advert([1, 1, 1, 1] as byte[]))
        Thread.sleep(50)
        a.send(GROUP4, advert([2, 2, 2, 2] as byte[]))

        then:
        inboxB.poll(2, TimeUnit.SECONDS).payload() == advert([1, 1, 1, 1] as byte[])
        inboxB.poll(2, TimeUnit.SECONDS).payload() == advert([2, 2, 2, 2] as byte[])
        b.receiveErrors() == 1
        b.packetsReceived() == 2
        b.receiverAlive()
    }

    def "a packet taken late carries its age from the kernel's receive time stamp"() {
        given: 'B is told a packet is queued, but takes it only 150 ms later'
        def a = open(hosts.nsA, transportA, hosts.ifA, AddressFamily.INET, null, GROUP4, inboxA)
        def told = new LinkedBlockingQueue<Long>()
        def b = NetNs.call(hosts.nsB) {
            transportB.open(hosts.ifB, AddressFamily.INET, null, GROUP4, { told.add(System.nanoTime()) })
        }
        channels << b
        def buffer = new PacketBuffer()

        when:
        a.send(GROUP4, advert([3, 3, 3, 3] as byte[]))
        long toldAt = told.poll(2, TimeUnit.SECONDS)
        Thread.sleep(150)
        long takenFrom = System.nanoTime()
        boolean got = b.receive(buffer)
        long takenBy = System.nanoTime()

        then: 'it was stamped before B was told, so its age covers at least the wait, and not much more'
        got
        buffer.copy(hosts.ifB).payload() == advert([3, 3, 3, 3] as byte[])
        buffer.ageNanos() >= takenFrom - toldAt
        buffer.ageNanos() < takenBy - toldAt + 50_000_000L

        and: 'the queue is empty now, which re-arms the callback'
        !b.receive(buffer)
    }

    def "a source of the wrong family is rejected before any socket is opened"() {
        when:
        transportA.open(hosts.ifA, AddressFamily.INET6, InetAddress.getByName(hosts.ipA), null, {})

        then:
        def e = thrown(IllegalArgumentException)
        e.message == "source: ${hosts.ipA} (expected: INET6)".toString()
    }
}
