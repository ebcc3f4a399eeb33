package dev.vigil.it

import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

/** A Vigil daemon running in one of a {@link NetnsLab}'s hosts, started from a keepalived.conf text. */
class VigilNode {

    final NetnsLab lab
    final String host
    final Path config
    final Path log
    Process process
    /** The java that runs the daemon: this JVM's, unless the spec names another (a runtime of its own). */
    String java = Path.of(System.getProperty('java.home'), 'bin', 'java').toString()

    VigilNode(NetnsLab lab, String host, String configText) {
        this.lab = lab
        this.host = host
        this.config = lab.write("${host}.conf", configText)
        this.log = lab.dir.resolve("${host}-${System.nanoTime()}.log")
    }

    VigilNode start() {
        process = lab.spawn(host, log, command())
        this
    }

    /**
     * Starts the daemon as {@code nohup} would: with SIGHUP ignored, a disposition it inherits
     * across exec (the shell execs the JVM, so the process keeps its pid).
     */
    VigilNode startIgnoringHup() {
        process = lab.spawn(host, log, ['sh', '-c', 'trap "" HUP; exec "$@"', 'sh'] + command())
        this
    }

    private List<String> command() {
        // Each node's own policy store, unless its configuration names one: never the host's.
        [java, '-XX:+UseZGC', '-Xmx256m', '--enable-native-access=ALL-UNNAMED',
         "-Dvigil.policyStore=${lab.dir.resolve("${host}-policies.db")}".toString(),
         '-cp', System.getProperty('java.class.path'),
         'dev.vigil.daemon.Main', 'run', '-f', config.toString()]
    }

    long pid() {
        process.pid()
    }

    void signal(String sig) {
        NetnsLab.sh('kill', "-${sig}", pid() as String)
    }

    int awaitExit(Duration timeout) {
        assert process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS): "vigil on ${host} did not exit in ${timeout}"
        process.exitValue()
    }

    String logText() {
        java.nio.file.Files.exists(log) ? java.nio.file.Files.readString(log) : ''
    }

    /** The time of the last logged transition of {@code instance} into {@code state}, or null. */
    Instant transitionedAt(String instance, String state) {
        def matches = logText().readLines().findAll { it =~ /^\S+ \w+ ${instance}: \w+ -> ${state}\b/ }
        matches ? Instant.parse(matches.last().split(' ')[0]) : null
    }

    String state(String instance) {
        def matches = logText().readLines().findAll { it =~ /^\S+ \w+ ${instance}: \w+ -> \w+/ }
        matches ? (matches.last() =~ /-> (\w+)/)[0][1] : null
    }

    Instant awaitTransition(String instance, String state, Duration timeout, Instant after = Instant.EPOCH) {
        Instant at = null
        NetnsLab.waitFor(timeout, "${host} ${instance} -> ${state}\n--- ${host} log:\n${-> logText()}") {
            at = transitionedAt(instance, state)
            at != null && !at.isBefore(after)
        }
        at
    }
}
