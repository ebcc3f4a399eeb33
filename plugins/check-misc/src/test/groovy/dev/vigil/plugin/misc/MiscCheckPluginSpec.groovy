package dev.vigil.plugin.misc

import dev.vigil.api.CheckResult
import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.daemon.Log
import dev.vigil.daemon.check.CheckEngine
import dev.vigil.daemon.check.CheckIo
import dev.vigil.daemon.check.CheckSpec
import dev.vigil.daemon.check.ProbeFactory
import dev.vigil.daemon.check.ProbeLauncher
import dev.vigil.daemon.plugin.CheckPlan
import dev.vigil.daemon.plugin.CheckerValidation
import dev.vigil.daemon.plugin.PluginHost
import dev.vigil.daemon.plugin.PluginProbes
import dev.vigil.daemon.track.EventLog
import dev.vigil.vrrp.runtime.ExecutorScheduler
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * The MISC_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host
 * from a temporary plugins directory, its probes run by the real engine, each running a real
 * shell script.
 */
class MiscCheckPluginSpec extends Specification {

    @TempDir
    Path dir

    PluginHost host
    CheckIo io
    ExecutorScheduler scheduler
    CheckEngine engine
    /** Probe results ({@code L7OK}, {@code PROCERR}, ...) and the real server's changes ({@code UP}, {@code DOWN}), in the engine's order. */
    final List<String> events = new CopyOnWriteArrayList<>()
    final List<String> details = new CopyOnWriteArrayList<>()
    /** The weight each result carried, -1 for none. */
    final List<Integer> weights = new CopyOnWriteArrayList<>()

    def setup() {
        Path zip = Path.of(System.getProperty('vigil.pluginZip'))
        assert Files.exists(zip): "the build did not make ${zip}"
        Path plugins = Files.createDirectories(dir.resolve('plugins'))
        Files.copy(zip, plugins.resolve(zip.fileName))
        host = PluginHost.open(plugins)
        io = CheckIo.open(1)
        scheduler = new ExecutorScheduler('test-checks')
    }

    def cleanup() {
        engine?.close()?.get(5, TimeUnit.SECONDS)
        scheduler?.close()
        io?.close()
        host?.close()
    }

    /** An executable shell script in the temporary directory; {@code DIR} in its text is that directory. */
    Path script(String name, String body) {
        Path p = dir.resolve(name)
        Files.writeString(p, '#!/bin/sh\n' + body.stripIndent().replace('DIR', dir.toString()))
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString('rwxr-xr-x'))
        p
    }

    /** The configuration load of a MISC_CHECK block with {@code lines}: the diagnostics, formatted. */
    List<String> diagnostics(String lines) {
        Path conf = dir.resolve('keepalived.conf')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server 127.0.0.1 80 {\n        MISC_CHECK {\n'
                + lines.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n') + '\n        }\n    }\n}\n')
        CheckerValidation.apply(ConfigLoader.load(conf, LoadOptions.defaults()), host).diagnostics()*.format()
    }

    /** Starts the engine on the MISC_CHECK block {@code checker} of real server 127.0.0.1:80. */
    void run(String checker) {
        Path conf = dir.resolve('keepalived.conf')
        String body = checker.readLines()*.trim().findAll { it }.collect { '            ' + it }.join('\n')
        Files.writeString(conf, 'virtual_server 10.9.9.9 80 {\n    real_server 127.0.0.1 80 {\n        MISC_CHECK {\n'
                + body + '\n        }\n    }\n}\n')
        def loaded = CheckerValidation.apply(ConfigLoader.load(conf, LoadOptions.defaults()), host)
        assert !loaded.hasErrors(): loaded.diagnostics()*.format()
        CheckPlan plan = CheckPlan.of(loaded.config(), host)
        assert plan.specs().size() == 1
        ProbeFactory real = new PluginProbes(host, io)
        ProbeFactory recording = { CheckSpec s ->
            ProbeLauncher l = real.create(s)
            new ProbeLauncher() {
                @Override
                void launch(CompletableFuture<CheckResult> result) {
                    def inner = new CompletableFuture<CheckResult>()
                    inner.whenComplete { CheckResult r, Throwable e ->
                        weights << (r != null && r.weight().present ? r.weight().asInt : -1)
                        details << (e != null ? e.message : r.detail())
                        events << (e != null ? 'ERROR' : r.status().name())
                        if (e != null) {
                            result.completeExceptionally(e)
                        } else {
                            result.complete(r)
                        }
                    }
                    l.launch(inner)
                }

                @Override
                void close() {
                    l.close()
                }
            }
        } as ProbeFactory
        engine = new CheckEngine(scheduler, recording,
                { String name, boolean up, String reason -> events << (up ? 'UP' : 'DOWN') } as CheckEngine.StateSink,
                { Log.Level level, String subject, String message -> } as EventLog, new SplittableRandom(1), CheckEngine.Limits.DEFAULT)
        engine.configure(plan.specs(), plan.realServers())
    }

    void await(String what, long seconds = 15, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}: ${events} ${details}"
            Thread.sleep(10)
        }
    }

    /** How many results {@code status} came in a row right before the last {@code change}, and the result before them. */
    List<Object> runBefore(String change, String status) {
        List<String> results = events.subList(0, events.lastIndexOf(change)).findAll { !(it in ['UP', 'DOWN']) }
        int n = 0
        int i = results.size() - 1
        while (i >= 0 && results[i] == status) {
            n++
            i--
        }
        [n, i >= 0 ? results[i] : null]
    }

    /** Whether process {@code pid} is gone (or a zombie nobody has reaped yet: it runs no more). */
    static boolean gone(long pid) {
        Path stat = Path.of("/proc/${pid}/stat")
        if (!Files.exists(stat)) {
            return true
        }
        try {
            String s = Files.readString(stat)
            return s.substring(s.lastIndexOf(')') + 2).startsWith('Z')
        } catch (IOException ignored) {
            return true
        }
    }

    def 'the zip this build made loads as plugin check-misc, providing MISC_CHECK'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['MISC_CHECK'] as Set
        host.plugins()[0].id() == 'check-misc'
        host.plugins()[0].state() == 'STARTED'
    }

    def 'bad values are reported where they are written'() {
        expect:
        diagnostics('misc_path "/bin/true \'unterminated"').any { it.contains('keepalived.conf:4:23') && it.contains("misc_path: unterminated ' at character 11") }
        diagnostics('misc_path /bin/true\nmisc_timeout soon').any { it.contains('keepalived.conf:5:26') && it.contains('misc_timeout') }
        diagnostics('misc_path /bin/true\nmisc_timeout 3').every { !it.contains('error') }
    }

    def 'misc_path is split like shell words, without expansions'() {
        expect:
        MiscChecker.split(text) == words

        where:
        text                                        || words
        '/bin/check -p 80'                          || ['/bin/check', '-p', '80']
        "/bin/sh -c 'exit 3'"                       || ['/bin/sh', '-c', 'exit 3']
        '/bin/echo "a \\"b\\"" c\\ d $HOME'         || ['/bin/echo', 'a "b"', 'c d', '$HOME']
        '  /x\t\ty  '                               || ['/x', 'y']
    }

    def 'a script that starts failing takes the real server down after fall failures; passing again brings it up after rise'() {
        given: 'a script that fails while a flag file exists'
        Path flag = dir.resolve('down')
        Path check = script('check.sh', '''\
            [ -e DIR/down ] && exit 1
            exit 0
            ''')

        when:
        run("""\
            misc_path "${check} --port 80"
            misc_timeout 5
            delay_loop 0.2
            retry 0
            warmup 0
            fall 2
            rise 3""")
        await('three passes') { events.count('L7OK') >= 3 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /.*check\.sh exit status 0 in \d+ ms/
        weights[0] == -1

        when: 'the script fails'
        Files.createFile(flag)
        await('the real server down') { events.contains('DOWN') }

        then: 'two failures in a row right after a pass'
        runBefore('DOWN', 'PROCERR') == [2, 'L7OK']
        details[events.indexOf('PROCERR')].endsWith('check.sh exit status 1 (expected: 0)')

        when: 'it passes again'
        Files.delete(flag)
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [3, 'PROCERR']
    }

    def 'a script past misc_timeout fails the probe, and it and its children are killed, one ignoring SIGTERM'() {
        given:
        Path slow = script('slow.sh', '''\
            echo $$ > DIR/script.pid
            ( trap '' TERM; exec sleep 300 ) &
            echo $! > DIR/child.pid
            sleep 300
            ''')

        when:
        run("""\
            misc_path ${slow}
            misc_timeout 0.5
            delay_loop 30
            warmup 0""")
        await('the timeout') { events.contains('DOWN') }
        long script = Long.parseLong(Files.readString(dir.resolve('script.pid')).trim())
        long child = Long.parseLong(Files.readString(dir.resolve('child.pid')).trim())

        then:
        events[0..1] == ['PROCERR', 'DOWN']
        details[0].endsWith('slow.sh still running after 500 ms (misc_timeout): process group killed')

        and: 'the script and its child, which ignores SIGTERM, are really gone (SIGKILL a second after SIGTERM)'
        await('both processes gone', 5) { gone(script) && gone(child) }
    }

    def 'misc_timeout, not connect_timeout, bounds the script: a 1.5 s script within misc_timeout 4 passes'() {
        given:
        Path slowish = script('slowish.sh', 'sleep 1.5\nexit 0\n')

        when:
        run("""\
            misc_path ${slowish}
            misc_timeout 4
            connect_timeout 0.2
            delay_loop 30
            warmup 0""")
        await('the result') { events.size() >= 1 }

        then:
        events == ['L7OK']
    }

    def 'misc_dynamic: exit 2-255 passes with weight status-2, 1 fails, 0 passes keeping the weight'() {
        given: 'a script exiting with the status written in a file'
        Path code = dir.resolve('code')
        Files.writeString(code, '7')
        Path check = script('dyn.sh', 'exit $(cat DIR/code)\n')

        when:
        run("""\
            misc_path ${check}
            misc_dynamic
            misc_timeout 5
            delay_loop 0.2
            retry 0
            warmup 0""")
        // The probe callback adds its weight and detail before its event: waiting for the event sees all three.
        await('a result') { events.size() >= 1 }

        then:
        events[0] == 'L7OK'
        weights[0] == 5
        details[0] ==~ /.*dyn\.sh exit status 7 in \d+ ms: weight 5 \(misc_dynamic\)/

        when:
        Files.writeString(code, '255')
        await('weight 253') { weights.contains(253) }
        Files.writeString(code, '1')
        await('a failure') { events.contains('DOWN') }
        Files.writeString(code, '0')
        await('up again') { events.contains('UP') }

        then:
        !events.contains('ERROR')
        details.find { it.contains('exit status 1') }.endsWith('(expected: 0 or 2-255)')
        weights[events.findAll { !(it in ['UP', 'DOWN']) }.lastIndexOf('L7OK')] == -1
    }

    /** Whether this process is root, as runuser(1) must be; says loudly when not, and fails when vigil.requireNetns demands every privileged spec. */
    static boolean rootOrSkip() {
        if (new com.sun.security.auth.module.UnixSystem().uid == 0) {
            return true
        }
        System.err.println('*** SKIPPING the MISC_CHECK user spec: runuser switches users only as root ***')
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException('vigil.requireNetns is set but the MISC_CHECK user spec needs root')
        }
        false
    }

    @Requires({ MiscCheckPluginSpec.rootOrSkip() })
    def 'user runs the script as that user'() {
        given:
        assert new File('/etc/passwd').text.contains('nobody:'): 'this spec needs the user nobody'
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString('rwxr-xr-x'))
        Path who = script('who.sh', '[ "$(id -u)" = "$(id -u nobody)" ] && exit 0\nexit 1\n')

        when:
        run("""\
            misc_path ${who}
            user nobody
            misc_timeout 5
            delay_loop 30
            warmup 0""")
        await('the result') { events.size() >= 1 }

        then:
        events == ['L7OK']
    }
}
