package dev.vigil.kernel.linux.ipvs

import static dev.vigil.kernel.linux.TwoHosts.sh
import java.util.concurrent.ThreadLocalRandom
import java.util.concurrent.TimeUnit

/**
 * Network namespaces and the processes running in them, for the IPVS specs that run in the qemu
 * guest of tests/qemu. Every namespace is named {@code vg-<id>-<role>}; {@link #close()} stops the
 * processes and deletes the namespaces (and with them their links).
 */
class GuestLab implements AutoCloseable {
    final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff))
    final List<String> namespaces = []
    final List<Process> processes = []

    /** A new namespace for {@code role} with lo up and IPv6 duplicate address detection off. */
    String namespace(String role) {
        String ns = "vg-${id}-${role}"
        sh('ip', 'netns', 'add', ns)
        namespaces << ns
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        sysctl(ns, 'net.ipv6.conf.all.accept_dad', '0')
        sysctl(ns, 'net.ipv6.conf.default.accept_dad', '0')
        ns
    }

    /** Runs {@code command} inside {@code ns}. */
    static String exec(String ns, String... command) {
        sh(*(['ip', 'netns', 'exec', ns] + command.toList()))
    }

    /** Runs a bash script inside {@code ns} (one process for many commands: spawning is slow under emulation). */
    static String bash(String ns, String script) {
        exec(ns, 'bash', '-euc', script)
    }

    static void sysctl(String ns, String key, String value) {
        exec(ns, 'sysctl', '-qw', "${key}=${value}")
    }

    /** Starts {@code command} inside {@code ns}; {@link #close()} stops it. */
    Process spawn(String ns, String... command) {
        def p = new ProcessBuilder(['ip', 'netns', 'exec', ns] + command.toList())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        processes << p
        p
    }

    /** Joins namespaces {@code a} and {@code b} with a veth pair named {@code ifA}/{@code ifB}, both up. */
    static void veth(String a, String ifA, String b, String ifB) {
        sh('ip', '-n', a, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b)
        sh('ip', '-n', a, 'link', 'set', ifA, 'up')
        sh('ip', '-n', b, 'link', 'set', ifB, 'up')
    }

    @Override
    void close() {
        processes.each { it.destroy() }
        processes.each { if (!it.waitFor(5, TimeUnit.SECONDS)) { it.destroyForcibly() } }
        namespaces.reverse().each { new ProcessBuilder('ip', 'netns', 'del', it).start().waitFor() }
    }
}
