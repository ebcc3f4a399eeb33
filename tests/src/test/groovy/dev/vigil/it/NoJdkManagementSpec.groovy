package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.security.MessageDigest
import java.time.Duration
import java.util.regex.Pattern

/**
 * Vigil on a Java runtime without the {@code jdk.management} module: the appliance's own runtime
 * (the modules tests/qemu/build-initramfs links for the daemon) less that one, made here by
 * {@code jlink} once and kept in target/. Plugin memory limits need the module (per-thread
 * allocation counters, GC notifications); without it they are off, said in one warning, and the
 * rest runs: {@code vigil check} checks, and a daemon in a network namespace loads the HTTP_GET
 * plugin and its checker takes a real server down and up:
 *
 * <pre>
 *   lb 10.97.0.1 (vigil; real server 10.97.0.1:8080, python3 -m http.server once started)
 * </pre>
 */
@Requires({ NoJdkManagementSpec.usable() })
class NoJdkManagementSpec extends Specification {

    static final Path ROOT = Path.of(System.getProperty('vigil.root', '..')).toAbsolutePath().normalize()
    static final Path JLINK = Path.of(System.getProperty('java.home'), 'bin', 'jlink')
    static final Pattern WARNING = ~/^\S+ WARN plugins: plugin memory limits are off: this Java runtime has no jdk\.management module\b/
    static final String REAL = '[10.97.0.1]:8080 of [10.97.0.100]:tcp:80'

    @Shared Path java
    NetnsLab lab
    VigilNode node

    static boolean usable() {
        if (!Files.isExecutable(JLINK)) {
            System.err.println("*** SKIPPING NoJdkManagementSpec: no jlink at ${JLINK} (a JDK runs the build) ***")
            if (Boolean.getBoolean('vigil.requireNetns')) {
                throw new IllegalStateException("vigil.requireNetns is set but there is no jlink at ${JLINK}")
            }
            return false
        }
        NetnsLab.usable()
    }

    /** The daemon's modules as the appliance links them: tests/qemu/build-initramfs's {@code java_modules=} line. */
    static List<String> applianceModules() {
        String line = Files.readAllLines(ROOT.resolve('tests/qemu/build-initramfs')).find { it.trim().startsWith('java_modules=') }
        assert line: 'no java_modules= line in tests/qemu/build-initramfs'
        line.trim().substring('java_modules='.length()).split(',') as List<String>
    }

    /**
     * The runtime without jdk.management, linked on first use into target/ under a name that
     * changes with the JDK and the module list; linked aside and moved into place whole.
     */
    static Path runtime() {
        List<String> modules = applianceModules()
        assert 'jdk.management' in modules: "the appliance no longer links jdk.management: ${modules}"
        modules.remove('jdk.management')
        String key = MessageDigest.getInstance('SHA-256')
                .digest("${System.getProperty('java.vm.version')} ${modules.join(',')}".getBytes('UTF-8'))
                .encodeHex().toString().take(12)
        Path image = ROOT.resolve("tests/target/jre-no-jdk-management-${key}")
        if (!Files.isExecutable(image.resolve('bin/java'))) {
            Path aside = ROOT.resolve("tests/target/jre-no-jdk-management-${key}.${ProcessHandle.current().pid()}")
            aside.toFile().deleteDir()
            def p = new ProcessBuilder(JLINK.toString(), '--add-modules', modules.join(','), '--no-header-files',
                    '--no-man-pages', '--strip-debug', '--output', aside.toString()).redirectErrorStream(true).start()
            String out = p.inputStream.text
            assert p.waitFor() == 0: "jlink failed: ${out}"
            Files.move(aside, image, StandardCopyOption.ATOMIC_MOVE)
        }
        image.resolve('bin/java')
    }

    def setupSpec() {
        java = runtime()
    }

    def cleanup() {
        if (node != null) {
            System.err.println("--- lb (vigil) log:\n${node.logText()}")
            if (node.process?.alive) {
                node.signal('KILL')
            }
        }
        lab?.close()
    }

    def 'the runtime made here has no jdk.management and the rest of the appliance\'s modules'() {
        when:
        def r = NetnsLab.capture([java.toString(), '--list-modules'])
        List<String> listed = r.out.readLines()*.replaceAll(/@.*/, '')

        then:
        r.exit == 0
        !('jdk.management' in listed)
        listed.containsAll(applianceModules() - 'jdk.management')
    }

    def 'vigil check on it: one warning that plugin memory limits are off, then the file checked against the plugins'() {
        given:
        Path conf = Files.createTempFile('vigil-nojdkm-', '.conf')
        Files.writeString(conf, config())

        when:
        def r = NetnsLab.capture(NetnsLab.vigilCommand(java, 'check', '-f', conf.toString()))

        then:
        r.exit == 0
        r.out.readLines().findAll { WARNING.matcher(it).find() }.size() == 1
        !(r.out + r.err).contains('NoClassDefFoundError')
        r.err.trim() == "${conf}: 0 errors, 0 warnings".toString()

        cleanup:
        Files.deleteIfExists(conf)
    }

    def 'a daemon on it warns once and runs: its HTTP_GET checker takes a real server down, then up when it answers'() {
        given:
        lab = new NetnsLab().host('lb', '10.97.0.1/24')
        Path www = Files.createDirectories(lab.dir.resolve('www'))
        node = new VigilNode(lab, 'lb', config())
        node.java = java.toString()

        when: 'nothing listens on the real server'
        node.start()
        awaitLine(~/ INFO checks: ${Pattern.quote(REAL)}: HTTP_GET down\b/)

        and: 'an HTTP server starts there'
        lab.spawn('lb', lab.dir.resolve('http.log'), ['/usr/bin/python3', '-m', 'http.server', '8080', '--bind', '10.97.0.1',
                                                     '--directory', www.toString()])
        awaitLine(~/ INFO checks: ${Pattern.quote(REAL)}: HTTP_GET up\b/)

        then: 'one warning, before the plugins loaded; no class missing anywhere'
        List<String> lines = node.logText().readLines()
        lines.findAll { WARNING.matcher(it).find() }.size() == 1
        lines.findIndexOf { WARNING.matcher(it).find() } < lines.findIndexOf { it.contains(' INFO plugins: ') }
        !node.logText().contains('NoClassDefFoundError')

        when: 'stopped'
        node.signal('TERM')

        then:
        node.awaitExit(Duration.ofSeconds(15)) == 0
    }

    /** A virtual server whose one real server is checked by HTTP_GET, a failed check at once, a check a second. */
    static String config() {
        '''\
        global_defs {
            router_id lb
            vigil_forwarder nftables
        }
        virtual_server 10.97.0.100 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.97.0.1 8080 {
                HTTP_GET {
                    url {
                        path /
                        status_code 200
                    }
                    connect_timeout 1
                    delay_loop 1
                    retry 0
                }
            }
        }
        '''.stripIndent()
    }

    void awaitLine(Pattern pattern) {
        NetnsLab.waitFor(Duration.ofSeconds(30), "log line matching /${pattern}/\n--- log:\n${-> node.logText()}") {
            node.logText().readLines().any { pattern.matcher(it).find() }
        }
    }
}
