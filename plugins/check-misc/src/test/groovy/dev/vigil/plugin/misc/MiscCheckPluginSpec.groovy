package dev.vigil.plugin.misc

import dev.vigil.plugin.testkit.CheckPluginSpecification
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions

/**
 * The MISC_CHECK plugin as the daemon runs it: the zip this build made, loaded by the real host
 * from a temporary plugins directory, its probes run by the real engine, each running a real
 * shell script.
 */
class MiscCheckPluginSpec extends CheckPluginSpecification {

    /** An executable shell script in the temporary directory; {@code DIR} in its text is that directory. */
    Path script(String name, String body) {
        Path p = dir.resolve(name)
        Files.writeString(p, '#!/bin/sh\n' + body.stripIndent().replace('DIR', dir.toString()))
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString('rwxr-xr-x'))
        p
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

    /** The configuration load of a MISC_CHECK block with {@code lines}: the diagnostics, formatted. */
    List<String> diagnostics(String lines) {
        diagnosticsOf(keepalivedConf(block('MISC_CHECK', lines)))
    }

    /** Starts the engine on the MISC_CHECK block {@code checker} of real server 127.0.0.1:80. */
    void run(String checker) {
        start(keepalivedConf(block('MISC_CHECK', checker)))
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
        details[0] ==~ /.*dyn\.sh exit status 7 in \d+ ms \(misc_dynamic\)/

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
