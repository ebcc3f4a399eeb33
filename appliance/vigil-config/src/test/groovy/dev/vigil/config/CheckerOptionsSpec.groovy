package dev.vigil.config

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

import static dev.vigil.config.ConfigFixture.load
import static dev.vigil.config.ConfigFixture.messages

/** Vigil's own checker options, rise and fall, and global_defs vigil_plugins_dir. */
class CheckerOptionsSpec extends Specification {
    @TempDir
    Path dir

    static String rs(String checker) {
        """\
        virtual_server 10.0.0.1 80 {
            delay_loop 7
            real_server 10.0.0.2 80 {
                TCP_CHECK {
        ${checker}
                }
            }
        }
        """
    }

    def 'rise and fall default to 1 (keepalived: one result changes the state) and are read per checker'() {
        when:
        def defaults = load(dir, rs('')).config().virtualServers()[0].realServers()[0].checkers()[0].common()
        def set = load(dir, rs('            rise 3\n            fall 2\n            retry 0')).config()
                .virtualServers()[0].realServers()[0].checkers()[0].common()

        then:
        defaults.rise() == 1
        defaults.fall() == 1
        defaults.delayLoop() == Duration.ofSeconds(7)
        set.rise() == 3
        set.fall() == 2
        set.retry() == 0
    }

    def 'a rise of 0 is a located error'() {
        when:
        def r = load(dir, rs('            rise 0'))

        then:
        r.errors()*.format().size() == 1
        r.errors()[0].ref().line() == 5
        messages(r).any { it.startsWith('error: ') && it.contains('rise') }
    }

    def 'vigil_plugins_dir is kept as an absolute directory, relative to the file that names it'() {
        given:
        Files.createDirectories(dir.resolve('plugins.d'))

        when:
        def r = load(dir, 'global_defs {\n    vigil_plugins_dir plugins.d\n}\n')

        then:
        !r.hasErrors()
        r.config().globalDefs().other()['vigil_plugins_dir'] == [dir.resolve('plugins.d').toString()]
    }

    def 'a vigil_plugins_dir that is not a directory is an error at its argument'() {
        when:
        def r = load(dir, 'global_defs {\n    vigil_plugins_dir missing\n}\n')

        then:
        r.errors()*.format() == ["${dir.resolve('keepalived.conf')}:2:23: error: vigil_plugins_dir missing: no such directory (${dir.resolve('missing')})".toString()]
        !r.config().globalDefs().other().containsKey('vigil_plugins_dir')
    }
}
