package dev.vigil.kernel.linux

import dev.vigil.kernel.KernelException
import spock.lang.Requires
import spock.lang.Specification

/**
 * The options set on real sockets of this kernel, read back with {@code getsockopt}. Setting a
 * mark needs {@code CAP_NET_ADMIN}: those features run as root only, and say so when skipped.
 */
class LinuxSocketOptionsSpec extends Specification {

    static boolean root() {
        boolean isRoot = 'id -u'.execute().text.trim() == '0'
        if (!isRoot) {
            System.err.println('*** SKIPPING SO_MARK in LinuxSocketOptionsSpec: it needs root (CAP_NET_ADMIN) ***')
        }
        isRoot
    }

    def options = LinuxSocketOptions.INSTANCE

    def 'receiveErrors sets IP_RECVERR on an IPv4 socket, and IPV6_RECVERR too on an IPv6 one'() {
        given:
        def socket = NativeSocket.open(family, Sys.SOCK_DGRAM, 0, 'test UDP socket')

        expect:
        LinuxSocketOptions.domain(socket.fd()) == family
        LinuxSocketOptions.get(socket.fd(), Sys.IPPROTO_IP, Sys.IP_RECVERR, 'IP_RECVERR') == 0

        when:
        options.receiveErrors(socket.fd())

        then:
        LinuxSocketOptions.get(socket.fd(), Sys.IPPROTO_IP, Sys.IP_RECVERR, 'IP_RECVERR') == 1
        family != Sys.AF_INET6 || LinuxSocketOptions.get(socket.fd(), Sys.IPPROTO_IPV6, Sys.IPV6_RECVERR, 'IPV6_RECVERR') == 1

        cleanup:
        socket?.close()

        where:
        family << [Sys.AF_INET, Sys.AF_INET6]
    }

    @Requires({ LinuxSocketOptionsSpec.root() })
    def 'setMark sets SO_MARK, all 32 bits of it'() {
        given:
        def socket = NativeSocket.open(Sys.AF_INET, Sys.SOCK_DGRAM, 0, 'test UDP socket')

        when:
        options.setMark(socket.fd(), mark)

        then:
        LinuxSocketOptions.get(socket.fd(), Sys.SOL_SOCKET, Sys.SO_MARK, 'SO_MARK') == mark

        cleanup:
        socket?.close()

        where:
        mark << [1, 0x1234, -2]
    }

    def 'bindToDevice names the option and the interface when there is no such interface'() {
        given:
        def socket = NativeSocket.open(Sys.AF_INET, Sys.SOCK_DGRAM, 0, 'test UDP socket')

        when:
        options.bindToDevice(socket.fd(), 'vsk-none0')

        then:
        def e = thrown(KernelException)
        e.call() == 'setsockopt'
        e.errno() == Sys.ENODEV
        e.message == "setsockopt: No such device: SO_BINDTODEVICE vsk-none0 on descriptor ${socket.fd()} (errno 19)".toString()

        cleanup:
        socket?.close()
    }

    def 'a name longer than IFNAMSIZ allows is refused before the kernel is asked'() {
        given:
        def socket = NativeSocket.open(Sys.AF_INET, Sys.SOCK_DGRAM, 0, 'test UDP socket')

        when:
        options.bindToDevice(socket.fd(), 'a-name-too-long-for-linux')

        then:
        def e = thrown(KernelException)
        e.errno() == 0
        e.message == 'setsockopt: SO_BINDTODEVICE "a-name-too-long-for-linux": not an interface name (1-15 characters)'

        cleanup:
        socket?.close()
    }

    def 'an option on a descriptor that is not open fails with EBADF'() {
        when:
        options.setMark(-1, 1)

        then:
        def e = thrown(KernelException)
        e.errno() == 9
        e.message == 'setsockopt: Bad file descriptor: SO_MARK 1 on descriptor -1 (errno 9)'
    }
}
