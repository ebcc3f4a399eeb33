package dev.vigil.it

import dev.vigil.daemon.plugin.TestPlugins
import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * A checker plugin that runs away with memory in a daemon that is VRRP MASTER with a 256 MiB heap,
 * against keepalived as BACKUP, forwarding a virtual server on nftables:
 *
 * <pre>
 *   peer 10.94.0.3 (keepalived BACKUP, tcpdump) --br0-- 10.94.0.1 lb (Vigil MASTER, VIP 10.94.0.100)
 *                                                         10.94.1.1 --br1-- r1 10.94.1.11:80 (TCP_CHECK, a real listener)
 *                                                                      `--- r2 10.94.1.12:80 (HOG_CHECK)
 * </pre>
 *
 * On a trigger, the hog's run() allocates 1 MiB a millisecond and keeps it, ignoring interrupts,
 * until its own thread runs out of heap. The sentry fails the call at its 64 MiB budget and the
 * plugin is disabled and unloaded; meanwhile the heap fills. Through the episode Vigil's adverts
 * go on (no gap above 3 x advert_int on the peer's wire) and keepalived never becomes MASTER;
 * afterwards the TCP_CHECK still takes r1 down and up, and {@code vigil status} answers.
 */
class PluginMemoryHogSpec extends Specification {

    static final String VIP = '10.94.0.100'
    static final String R1 = '[10.94.1.11]:80 of [10.94.0.100]:tcp:80'
    static final String R2 = '[10.94.1.12]:80 of [10.94.0.100]:tcp:80'

    NetnsLab lab
    VigilNode node
    KeepalivedNode peer
    Path work

    def cleanup() {
        if (node != null) {
            System.err.println("--- lb (vigil) log:\n${node.logText()}")
        }
        if (peer != null) {
            System.err.println("--- peer (keepalived) log:\n${peer.logText()}")
        }
        lab?.close()
        work?.toFile()?.deleteDir()
    }

    static boolean usable() {
        NetnsLab.usable() && KeepalivedNode.present()
    }

    /** The hog's source: passes until {@code trigger} exists, then allocates and keeps memory without end. */
    static String hogSource(Path trigger) {
        """\
        package t.hog;

        import dev.vigil.api.*;
        import java.nio.file.*;
        import java.util.*;
        import java.util.concurrent.*;

        @org.pf4j.Extension
        public class Hog implements HealthChecker {
            public Set<String> keywords() {
                return Set.of("HOG_CHECK");
            }

            public List<ConfigProblem> validate(ConfigBlock block) {
                return List.of();
            }

            public Probe create(CheckContext ctx) {
                return () -> {
                    if (Files.exists(Path.of("${trigger}"))) {
                        List<byte[]> keep = new ArrayList<>();
                        while (true) {
                            keep.add(new byte[1 << 20]);
                            try {
                                Thread.sleep(1);
                            } catch (InterruptedException ignored) {
                                // a runaway plugin does not listen
                            }
                        }
                    }
                    return CompletableFuture.completedFuture(CheckResult.of(CheckResult.Status.L4OK, "not yet"));
                };
            }
        }
        """.stripIndent()
    }

    /** Compiles the hog against this class path (PF4J's processor writes extensions.idx) and zips it as plugin {@code hog} 1.0.0. */
    static Path zipHog(Path pluginsDir, Path trigger) {
        TestPlugins.zip(pluginsDir, 'hog', ['t.hog.Hog': hogSource(trigger)], ['plugin.version': '1.0.0'])
    }

    static String vigilConfig(Path pluginsDir) {
        """\
        global_defs {
            router_id lb
            vigil_forwarder nftables
            vigil_plugins_dir ${pluginsDir}
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 94
            version 2
            priority 200
            advert_int 1
            virtual_ipaddress {
                ${VIP}
            }
        }
        virtual_server ${VIP} 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.94.1.11 80 {
                TCP_CHECK {
                    connect_timeout 1
                    delay_loop 1
                }
            }
            real_server 10.94.1.12 80 {
                HOG_CHECK {
                    connect_timeout 1
                    delay_loop 1
                }
            }
        }
        """.stripIndent()
    }

    static String keepalivedConfig() {
        """\
        global_defs {
            router_id peer
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 94
            version 2
            priority 100
            advert_int 1
            virtual_ipaddress {
                ${VIP}/24
            }
        }
        """.stripIndent()
    }

    Map status() {
        def r = lab.vigil('lb', 'status')
        assert r.exit == 0: "vigil status failed: ${r}"
        new JsonSlurper().parseText(r.out as String) as Map
    }

    /**
     * {@code vigil status} once the API answers again: within a few seconds after the episode (an
     * exhausted heap may have ended the API's listener thread, which the daemon starts again).
     */
    Map statusAfterEpisode() {
        def r = null
        NetnsLab.waitFor(Duration.ofSeconds(45), 'vigil status to answer after the episode') {
            r = lab.vigil('lb', 'status')
            r.exit == 0
        }
        new JsonSlurper().parseText(r.out as String) as Map
    }

    /** The time stamp of the first log line of the daemon after {@code after} that contains {@code fragment}. */
    Instant awaitLog(String fragment, Instant after, Duration timeout = Duration.ofSeconds(30)) {
        Instant found = null
        NetnsLab.waitFor(timeout, "log line '${fragment}'") {
            String line = node.logText().readLines().find { it.contains(fragment) && Instant.parse(it.split(' ')[0]) >= after }
            found = line ? Instant.parse(line.split(' ')[0]) : null
            found != null
        }
        found
    }

    Process listener() {
        lab.spawn('r1', lab.dir.resolve('r1-http.log'), ['/usr/bin/python3', '-m', 'http.server', '--bind', '10.94.1.11', '80'])
    }

    @Requires({ PluginMemoryHogSpec.usable() })
    def 'a plugin filling the heap is disabled while VRRP adverts, the forwarder and the other checks go on'() {
        given: 'the built-in plugins and the hog'
        work = Files.createTempDirectory('vigil-hog-')
        Path plugins = Files.createDirectories(work.resolve('plugins'))
        Path builtIn = Path.of(System.getenv('VIGIL_PLUGINS_DIR') ?: 'unset')
        assert Files.isDirectory(builtIn): "no built-in plugins in ${builtIn}"
        Files.list(builtIn).withCloseable { s ->
            s.filter { it.fileName.toString().endsWith('.zip') }.forEach { Files.copy(it, plugins.resolve(it.fileName)) }
        }
        Path trigger = work.resolve('TRIGGER')
        zipHog(plugins, trigger)

        and: 'the lab: Vigil MASTER first, then keepalived BACKUP with tcpdump on its wire'
        lab = new NetnsLab()
                .host('lb', '10.94.0.1/24')
                .host('peer', '10.94.0.3/24')
                .attach('lb', 'eth1', '10.94.1.1/24', 'br1')
                .host('r1', '10.94.1.11/24', 'br1')
                .host('r2', '10.94.1.12/24', 'br1')
        lab.exec('lb', 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        ['r1', 'r2'].each { lab.exec(it, 'ip', 'route', 'add', 'default', 'via', '10.94.1.1') }
        Process r1 = listener()
        node = new VigilNode(lab, 'lb', vigilConfig(plugins)).start()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30))
        Path capture = lab.dir.resolve('peer-vrrp.txt')
        Process tcpdump = lab.spawn('peer', capture, ['tcpdump', '-i', 'eth0', '-n', '-l', '-tt', 'ip proto 112'])
        peer = new KeepalivedNode(lab, 'peer', keepalivedConfig()).start()
        NetnsLab.waitFor(Duration.ofSeconds(15), 'both checkers passing') {
            status().checks?.realServers?.values()?.every { it.checkers[0].passes >= 2 && it.state == 'UP' }
        }
        Thread.sleep(3000)

        when: 'the hog is let loose'
        Instant loose = Instant.now()
        Files.writeString(trigger, 'go')
        Instant disabledAt = awaitLog('plugin hog DISABLED: run() allocated', loose)
        // The runaway thread goes on until the heap is exhausted in it; give the episode time to play out.
        Thread.sleep(8000)
        Map afterEpisode = statusAfterEpisode()

        then: 'the hog is disabled for its memory, until restart, unloaded, and its target carries the reason'
        String reason = afterEpisode.checks.plugins.hog.reason
        reason ==~ /run\(\) allocated \d+ MiB in one call \(limit 64 MiB\)/
        afterEpisode.checks.plugins.hog.disabled
        afterEpisode.checks.plugins.hog.disabledUntilRestart
        afterEpisode.checks.plugins.hog.unloaded
        afterEpisode.checks.plugins.hog.memoryViolations == 1
        afterEpisode.checks.realServers[R2].checkers[0].lastResult == "PLUGINERR plugin hog: ${reason}".toString()
        afterEpisode.checks.realServers[R2].checkers[0].disabled
        lab.vigil('lb', 'plugins').out.readLines().any { it ==~ /hog\s+1\.0\.0\s+Test\s+DISABLED\s+HOG_CHECK/ }

        when: "r1's listener stops, then starts again"
        Instant stoppedAt = Instant.now()
        r1.destroy()
        r1.waitFor()
        awaitLog("checks: ${R1}: TCP_CHECK down", stoppedAt)
        awaitLog('forwarder: applied 1 real server removed (real server state)', stoppedAt)
        Instant restartedAt = Instant.now()
        r1 = listener()
        awaitLog("checks: ${R1}: TCP_CHECK up", restartedAt)
        awaitLog('forwarder: applied 1 real server added (real server state)', restartedAt)
        Map end = status()
        Thread.sleep(1500)
        tcpdump.destroy()
        tcpdump.waitFor()

        and: "the adverts on the peer's wire, from a second before the hog was let loose to now"
        List<String> lines = Files.readAllLines(capture).findAll { it =~ /^\d+\.\d+ IP / }
        List<BigDecimal> fromLb = lines.findAll { it.contains(' IP 10.94.0.1 > ') }.collect { new BigDecimal(it.split(' ')[0]) }
                .findAll { it >= loose.epochSecond - 1 }
        List<String> fromPeer = lines.findAll { it.contains(' IP 10.94.0.3 > ') }
        BigDecimal maxGap = fromLb.size() < 2 ? 999 : (1..<fromLb.size()).collect { fromLb[it] - fromLb[it - 1] }.max()
        println "hog episode: disabled ${Duration.between(loose, disabledAt).toMillis()} ms after the trigger (${reason}); " +
                "${fromLb.size()} adverts from lb over ${fromLb ? fromLb.last() - fromLb.first() : 0} s, largest gap ${maxGap} s; " +
                "heap after the episode ${afterEpisode.checks.pluginMemory}; at the end ${end.checks.pluginMemory}; " +
                "hog ${afterEpisode.checks.plugins.hog}"

        then: 'Vigil advertised all along, never more than 3 x advert_int apart; keepalived stayed BACKUP and silent'
        fromLb.size() >= 10
        maxGap < 3.0
        fromPeer.isEmpty()
        peer.transitionedAt('VI_1', 'MASTER') == null
        node.state('VI_1') == 'MASTER'

        and: 'the TCP_CHECK went on checking, and the status answers'
        end.checks.realServers[R1].state == 'UP'
        end.checks.realServers[R1].checkers[0].pluginErrors == 0
        end.checks.plugins.hog.disabled
        lab.vigil('lb', 'services').out.contains('10.94.1.11:80')
    }
}
