package dev.vigil.kernel.linux

import java.util.concurrent.ThreadLocalRandom

/**
 * Two network namespaces joined by a veth pair: {@code nsA}/{@code ifA} holds 10.N.0.1/24,
 * {@code nsB}/{@code ifB} holds 10.N.0.2/24. IPv6 duplicate address detection is off so the
 * link-local addresses are usable at once. {@link #close()} deletes both namespaces (and with
 * them the veth pair).
 */
class TwoHosts implements AutoCloseable {
    static final String NEEDS = 'needs root (CAP_NET_ADMIN + CAP_NET_RAW) and iproute2 `ip` to create network namespaces'

    final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff))
    final String nsA = "vk-${id}-a"
    final String nsB = "vk-${id}-b"
    final String ifA = "vk${id}a"
    final String ifB = "vk${id}b"
    final int net = ThreadLocalRandom.current().nextInt(1, 250)
    final String ipA = "10.${net}.0.1"
    final String ipB = "10.${net}.0.2"

    /** Whether this process can create namespaces. */
    static boolean available() {
        def uid = new File('/proc/self/status').readLines().find { it.startsWith('Uid:') }?.split(/\s+/)?.getAt(1)
        uid == '0' && ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].any { new File(it).canExecute() }
    }

    /** Runs a command; fails with its output unless it exits 0. */
    static String sh(String... command) {
        def p = new ProcessBuilder(command).redirectErrorStream(true).start()
        def out = p.inputStream.text
        int rc = p.waitFor()
        if (rc != 0) {
            throw new IllegalStateException("${command.join(' ')} exited ${rc}: ${out}")
        }
        out
    }

    /** Builds the namespaces and link; on any failure removes what was made and rethrows. */
    TwoHosts create() {
        try {
            build()
        } catch (Throwable e) {
            close()
            throw e
        }
        this
    }

    private void build() {
        sh('ip', 'netns', 'add', nsA)
        sh('ip', 'netns', 'add', nsB)
        [nsA, nsB].each { ns ->
            sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0')
            sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0')
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        }
        sh('ip', '-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB)
        sh('ip', 'netns', 'exec', nsA, 'sysctl', '-qw', "net.ipv6.conf.${ifA}.accept_dad=0")
        sh('ip', 'netns', 'exec', nsB, 'sysctl', '-qw', "net.ipv6.conf.${ifB}.accept_dad=0")
        sh('ip', '-n', nsA, 'addr', 'add', "${ipA}/24", 'dev', ifA)
        sh('ip', '-n', nsB, 'addr', 'add', "${ipB}/24", 'dev', ifB)
        sh('ip', '-n', nsA, 'link', 'set', ifA, 'up')
        sh('ip', '-n', nsB, 'link', 'set', ifB, 'up')
    }

    /** The link-local address the kernel gave {@code ifname} in {@code ns}, waiting up to 2 s. */
    static InetAddress linkLocal(String ns, String ifname) {
        long deadline = System.nanoTime() + 2_000_000_000L
        while (true) {
            def line = sh('ip', '-n', ns, '-o', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'link')
                    .readLines().find { it.contains('inet6 fe80') && !it.contains('tentative') }
            if (line) {
                return InetAddress.getByName((line =~ /inet6 (\S+)\//)[0][1] as String)
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no usable link-local address on ${ifname} in ${ns}")
            }
            Thread.sleep(50)
        }
    }

    /** The MAC address of {@code ifname} in {@code ns}. */
    static byte[] mac(String ns, String ifname) {
        def text = sh('ip', '-n', ns, '-o', 'link', 'show', 'dev', ifname)
        def hex = (text =~ /link\/ether (\S+)/)[0][1] as String
        hex.split(':').collect { Integer.parseInt(it, 16) as byte } as byte[]
    }

    @Override
    void close() {
        [nsA, nsB].each { ns ->
            def p = new ProcessBuilder('ip', 'netns', 'del', ns).redirectErrorStream(true).start()
            def out = p.inputStream.text
            if (p.waitFor() != 0 && !out.contains('No such file')) {
                System.err.println("ip netns del ${ns} failed: ${out}")
            }
        }
    }
}
