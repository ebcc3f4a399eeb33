package dev.vigil.it

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * A keepalived daemon (Debian's 2.2.7, VRRP subsystem only) running in the foreground in one of a
 * {@link NetnsLab}'s hosts, started from a keepalived.conf text. Its console log has one-second
 * time stamps, so a watcher thread stamps every line with the instant it appeared in the log file
 * (polled every 5 ms); transition times are those stamps.
 */
class KeepalivedNode {

    static final String BINARY = System.getProperty('vigil.keepalived', '/usr/sbin/keepalived')

    final NetnsLab lab
    final String host
    final Path config
    final Path log
    final Path runDir
    Process process
    private final List<Map.Entry<Instant, String>> lines = new CopyOnWriteArrayList<>()
    private Thread watcher

    /** keepalived present and executable: the requirement of every interop spec. */
    static boolean present() {
        boolean ok = Files.isExecutable(Path.of(BINARY))
        if (!ok) {
            System.err.println("*** SKIPPING keepalived interop spec: ${BINARY} is missing (apt-get install keepalived) ***")
            if (Boolean.getBoolean('vigil.requireNetns')) {
                throw new IllegalStateException("vigil.requireNetns is set but ${BINARY} is missing")
            }
        }
        ok
    }

    KeepalivedNode(NetnsLab lab, String host, String configText) {
        this.lab = lab
        this.host = host
        long stamp = System.nanoTime()
        this.config = lab.write("${host}-keepalived-${stamp}.conf", configText)
        this.log = lab.dir.resolve("${host}-keepalived-${stamp}.log")
        this.runDir = Files.createDirectories(lab.dir.resolve("${host}-keepalived-${stamp}.run"))
    }

    KeepalivedNode start() {
        Files.writeString(log, '')
        // -n: no fork (the process is ours to signal); -l -D: detailed log on the console;
        // -P: VRRP only; -R: no respawn, so a killed VRRP child stays dead;
        // distinct pid files so that several daemons can share a machine.
        process = lab.spawn(host, log, [BINARY, '-n', '-l', '-D', '-P', '-R', '-f', config.toString(),
                                        '-p', runDir.resolve('k.pid').toString(),
                                        '-r', runDir.resolve('v.pid').toString(),
                                        '-c', runDir.resolve('c.pid').toString()])
        watcher = Thread.startDaemon("keepalived-log-${host}") { watch() }
        this
    }

    private void watch() {
        long read = 0
        StringBuilder partial = new StringBuilder()
        while (true) {
            try {
                byte[] all = Files.readAllBytes(log)
                if (all.length > read) {
                    Instant seen = Instant.now()
                    partial.append(new String(all, (int) read, (int) (all.length - read), 'UTF-8'))
                    read = all.length
                    int nl
                    while ((nl = partial.indexOf('\n')) >= 0) {
                        lines << Map.entry(seen, partial.substring(0, nl))
                        partial.delete(0, nl + 1)
                    }
                }
                if (process != null && !process.alive && all.length == read) {
                    return
                }
                Thread.sleep(5)
            } catch (InterruptedException ignored) {
                return
            }
        }
    }

    long pid() {
        process.pid()
    }

    /** The VRRP child's pid, from its pid file (null before it wrote it). */
    Long vrrpPid() {
        Path f = runDir.resolve('v.pid')
        Files.exists(f) && Files.readString(f).trim() ? Files.readString(f).trim() as long : null
    }

    /**
     * Sends a signal. SIGKILL goes to the VRRP child first: a parent killed alone has its child
     * stop gracefully (priority 0), which is not a crash.
     */
    void signal(String sig) {
        if (sig == 'KILL' && vrrpPid() != null) {
            ['kill', '-KILL', vrrpPid() as String].execute().waitFor()
        }
        NetnsLab.sh('kill', "-${sig}", pid() as String)
    }

    int awaitExit(Duration timeout) {
        assert process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS): "keepalived on ${host} did not exit in ${timeout}"
        process.exitValue()
    }

    String logText() {
        Files.exists(log) ? Files.readString(log) : ''
    }

    /** The instant the last "(instance) Entering STATE STATE" line appeared, or null. */
    Instant transitionedAt(String instance, String state) {
        def hit = lines.findAll { it.value.contains("(${instance}) Entering ${state} STATE") }
        hit ? hit.last().key : null
    }

    /** The state the log last reported for {@code instance}, or null. */
    String state(String instance) {
        def hit = lines.findAll { it.value =~ /\(${instance}\) Entering \w+ STATE/ }
        hit ? (hit.last().value =~ /Entering (\w+) STATE/)[0][1] : null
    }

    Instant awaitTransition(String instance, String state, Duration timeout, Instant after = Instant.EPOCH) {
        Instant at = null
        NetnsLab.waitFor(timeout, "keepalived on ${host} ${instance} -> ${state}\n--- ${host} keepalived log:\n${-> logText()}") {
            at = transitionedAt(instance, state)
            at != null && !at.isBefore(after)
        }
        at
    }
}
