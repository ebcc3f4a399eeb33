package dev.vigil.it

import dev.vigil.plugin.testkit.MailServers

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

/**
 * A small lab of network namespaces: one namespace holds a bridge, every host namespace is joined
 * to it by a veth pair whose host end is called {@code eth0}. Everything it creates is removed by
 * {@link #close()}, even after a failure.
 */
class NetnsLab implements Closeable {

    final String id = Long.toHexString(System.nanoTime() & 0xffffffL)
    final String bridgeNs = "vg${id}-br"
    final Map<String, String> hosts = [:]           // short name -> namespace
    final Map<String, String> addresses = [:]       // short name -> address/prefix
    final Path dir = Files.createTempDirectory("vigil-lab-")
    private final List<Process> processes = []

    /** Root and a working `ip netns`: the requirement of every spec that uses a lab. */
    static String unavailableReason() {
        if (['id', '-u'].execute().text.trim() != '0') {
            return 'network-namespace specs need root (CAP_NET_ADMIN, CAP_NET_RAW)'
        }
        def p = ['ip', 'netns', 'list'].execute()
        p.waitFor()
        p.exitValue() == 0 ? null : "`ip netns` does not work here: ${p.err.text}"
    }

    /** Fails loudly when the lab cannot run and the build requires it (bin/test as root sets this). */
    static boolean usable() {
        String reason = unavailableReason()
        if (reason == null) {
            return true
        }
        System.err.println("*** SKIPPING network-namespace spec: ${reason} ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${reason}")
        }
        false
    }

    NetnsLab() {
        sh('ip', 'netns', 'add', bridgeNs)
        sh('ip', '-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge')
        sh('ip', '-n', bridgeNs, 'link', 'set', 'br0', 'up')
        sh('ip', '-n', bridgeNs, 'link', 'set', 'lo', 'up')
    }

    /** Adds a host namespace with eth0 = {@code cidr} on bridge {@code segment} (br0 unless told). */
    NetnsLab host(String name, String cidr, String segment = 'br0') {
        String ns = "vg${id}-${name}"
        bridge(segment)
        String outer = "${name}-${id}".take(15)
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', "t${id}${name}".take(15))
        sh('ip', 'link', 'set', outer, 'netns', bridgeNs)
        sh('ip', 'link', 'set', "t${id}${name}".take(15), 'netns', ns, 'name', 'eth0')
        sh('ip', '-n', bridgeNs, 'link', 'set', outer, 'master', segment, 'up')
        sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0')
        sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0')
        sh('ip', '-n', ns, 'addr', 'add', cidr, 'dev', 'eth0')
        sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        hosts[name] = ns
        addresses[name] = cidr
        // Every address change of the host, time-stamped, for failure reports.
        spawn(name, dir.resolve("${name}-addresses.log"), ['ip', '-ts', 'monitor', 'address'])
        this
    }

    /**
     * Adds an interface {@code ifname} = {@code cidr} to an existing host, joined to bridge
     * {@code segment} (created on first use) in the bridge namespace: a second L2 segment, e.g. for
     * real servers behind a director.
     */
    NetnsLab attach(String host, String ifname, String cidr, String segment) {
        String ns = ns(host)
        bridge(segment)
        String outer = "${host}${ifname}".take(9) + id
        String temp = "u${id}${host}${ifname}".take(15)
        sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', temp)
        sh('ip', 'link', 'set', outer, 'netns', bridgeNs)
        sh('ip', 'link', 'set', temp, 'netns', ns, 'name', ifname)
        sh('ip', '-n', bridgeNs, 'link', 'set', outer, 'master', segment, 'up')
        sh('ip', '-n', ns, 'addr', 'add', cidr, 'dev', ifname)
        sh('ip', '-n', ns, 'link', 'set', ifname, 'up')
        this
    }

    private void bridge(String segment) {
        if (!sh('ip', '-n', bridgeNs, '-o', 'link', 'show').contains(": ${segment}:")) {
            sh('ip', '-n', bridgeNs, 'link', 'add', segment, 'type', 'bridge')
            sh('ip', '-n', bridgeNs, 'link', 'set', segment, 'up')
        }
    }

    String ns(String host) {
        hosts[host] ?: { throw new IllegalArgumentException("no host ${host}") }()
    }

    /** The command line {@code vigil ARGS} run as this JVM runs: its java, its class path. */
    static List<String> vigilCommand(String... args) {
        vigilCommand(Path.of(System.getProperty('java.home'), 'bin', 'java'), args)
    }

    /** The command line {@code vigil ARGS} run by {@code java} (another Java runtime) with this JVM's class path. */
    static List<String> vigilCommand(Path java, String... args) {
        [java.toString(), '-cp', System.getProperty('java.class.path'), 'dev.vigil.daemon.Main'] + (args as List<String>)
    }

    /** Runs {@code vigil ARGS} in {@code host}'s namespace, where its daemon's API listens on the loopback. */
    Map vigil(String host, String... args) {
        capture(['ip', 'netns', 'exec', ns(host)] + vigilCommand(args))
    }

    /** Runs a command in a host namespace; returns stdout; throws on a non-zero exit. */
    String exec(String host, String... cmd) {
        sh(['ip', 'netns', 'exec', ns(host)] + (cmd as List))
    }

    /** Runs a command in a host namespace; returns the exit code. */
    int run(String host, String... cmd) {
        def p = new ProcessBuilder(['ip', 'netns', 'exec', ns(host)] + (cmd as List)).redirectErrorStream(true).start()
        p.inputStream.text
        p.waitFor()
    }

    boolean hasAddress(String host, String address) {
        exec(host, 'ip', '-o', 'addr', 'show').readLines().any { it.contains(" ${address}/") }
    }

    String mac(String host) {
        (exec(host, 'cat', '/sys/class/net/eth0/address')).trim()
    }

    /** Cuts the host's cable: its veth end in the bridge namespace goes down. */
    void cutLink(String host) {
        sh('ip', '-n', bridgeNs, 'link', 'set', "${host}-${id}".take(15), 'down')
    }

    void restoreLink(String host) {
        sh('ip', '-n', bridgeNs, 'link', 'set', "${host}-${id}".take(15), 'up')
    }

    /** Starts a background process in a host namespace, output to {@code logFile}. */
    Process spawn(String host, Path logFile, List<String> cmd) {
        def pb = new ProcessBuilder(['ip', 'netns', 'exec', ns(host)] + cmd)
        pb.redirectErrorStream(true)
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        Process p = pb.start()
        processes << p
        p
    }

    /**
     * {@code host} as a place for the mail servers of {@link MailServers}: started in its namespace
     * (and killed by {@link #close()} with everything else there), a listener found by {@code ss} there.
     */
    MailServers.Place place(String host) {
        NetnsLab lab = this
        new MailServers.Place() {
            @Override
            Process spawn(List<String> command, Path log) {
                lab.spawn(host, log, command)
            }

            @Override
            boolean listening(String address, int port) {
                !lab.exec(host, 'ss', '-Hltn', "sport = :${port}".toString()).trim().isEmpty()
            }
        }
    }

    Path write(String name, String text) {
        Path f = dir.resolve(name)
        Files.writeString(f, text)
        f
    }

    /** The host's address changes as `ip -ts monitor address` saw them. */
    String addressLog(String host) {
        Path f = dir.resolve("${host}-addresses.log")
        Files.exists(f) ? Files.readString(f) : ''
    }

    static void waitFor(Duration timeout, String what, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos()
        while (!condition()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after ${timeout.toMillis()} ms waiting for ${what}")
            }
            Thread.sleep(20)
        }
    }

    @Override
    void close() {
        processes.each { p ->
            if (p.alive) {
                p.destroyForcibly()
                p.waitFor(5, TimeUnit.SECONDS)
            }
        }
        (hosts.values() + [bridgeNs]).each { ns ->
            new ProcessBuilder('ip', 'netns', 'pids', ns).start().with { pr ->
                pr.inputStream.text.readLines().each { pid -> ['kill', '-9', pid.trim()].execute().waitFor() }
                pr.waitFor()
            }
            ['ip', 'netns', 'del', ns].execute().waitFor()
        }
    }

    static String sh(List<String> cmd) {
        def p = new ProcessBuilder(cmd).redirectErrorStream(false).start()
        def out = new StringBuilder(), err = new StringBuilder()
        // Readers are joined before the output is used: a finished process may still have unread output.
        Thread outReader = Thread.start { out << p.inputStream.text }
        Thread errReader = Thread.start { err << p.errorStream.text }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            throw new IllegalStateException("timed out: ${cmd.join(' ')}")
        }
        outReader.join(10_000)
        errReader.join(10_000)
        if (p.exitValue() != 0) {
            throw new IllegalStateException("failed (${p.exitValue()}): ${cmd.join(' ')}: ${err}")
        }
        out.toString()
    }

    /** Runs a command to completion: [exit: int, out: String, err: String], all output read. */
    static Map capture(List<String> cmd, File dir = null, long timeoutSeconds = 60) {
        def pb = new ProcessBuilder(cmd)
        if (dir != null) {
            pb.directory(dir)
        }
        Process p = pb.start()
        def out = new StringBuilder(), err = new StringBuilder()
        Thread outReader = Thread.start { out << p.inputStream.text }
        Thread errReader = Thread.start { err << p.errorStream.text }
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            throw new IllegalStateException("timed out after ${timeoutSeconds} s: ${cmd.join(' ')}")
        }
        outReader.join(10_000)
        errReader.join(10_000)
        [exit: p.exitValue(), out: out.toString(), err: err.toString()]
    }

    static String sh(String... cmd) {
        sh(cmd as List)
    }

    static Instant now() {
        Instant.now()
    }
}
