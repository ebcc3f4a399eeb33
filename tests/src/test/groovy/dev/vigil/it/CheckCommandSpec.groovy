package dev.vigil.it

import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code vigil check -f FILE} run as a command over every configuration from the seed how-tos
 * and every deliberately broken file: it prints exactly the located diagnostics in the file's
 * {@code .expected} companion and exits 1 when one of them is an error, 0 otherwise. Where the
 * command says more than the parser alone, because it checks the checker blocks against the
 * installed plugins (this build's, in its default plugins directory), a {@code .check.expected}
 * companion holds what it prints.
 */
class CheckCommandSpec extends Specification {

    static final Path CONFIGS = Path.of(System.getProperty('vigil.root', '..'), 'tests', 'configs').toAbsolutePath().normalize()

    static List<String> configFiles() {
        ['seeds', 'broken'].collectMany { dir ->
            Files.list(CONFIGS.resolve(dir)).withCloseable { s ->
                s.filter { it.toString().endsWith('.conf') }.map { "${dir}/${it.fileName}".toString() }.sorted().toList()
            }
        }
    }

    static Map vigil(String... args) {
        NetnsLab.capture(NetnsLab.vigilCommand(args), CONFIGS.toFile())
    }

    /** The command's expected output: {@code .check.expected} when there is one, else the parser's {@code .expected}. */
    static Path expectedFile(String file) {
        Path check = CONFIGS.resolve(file.replace('.conf', '.check.expected'))
        Files.exists(check) ? check : CONFIGS.resolve(file.replace('.conf', '.expected'))
    }

    def 'vigil check #file prints its expected diagnostics and exits #expectedExit'() {
        given:
        List<String> expected = Files.readAllLines(expectedFile(file)).findAll { it }

        when:
        def r = vigil('check', '-f', file)

        then:
        r.out.readLines().findAll { it } == expected
        r.exit == expectedExit
        r.err.trim().startsWith("${file}: ")

        where:
        file << configFiles()
        expectedExit = Files.readAllLines(expectedFile(file)).any { it.contains(': error: ') } ? 1 : 0
    }

    def 'the seeds and the broken files cover both outcomes'() {
        expect:
        configFiles().count { it.startsWith('seeds/') } >= 15
        configFiles().count { it.startsWith('broken/') } >= 15
    }

    def 'a missing file is a located error and exit 1'() {
        when:
        def r = vigil('check', '-f', 'no/such.conf')

        then:
        r.exit == 1
        r.out.readLines().size() == 1
        r.out.startsWith('no/such.conf')
        r.out.contains(': error: ')
    }

    def 'vigil --help lists the commands'() {
        when:
        def r = vigil('--help')

        then:
        r.exit == 0
        r.out.contains('run')
        r.out.contains('check')
    }
}
