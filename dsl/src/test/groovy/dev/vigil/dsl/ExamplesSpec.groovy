package dev.vigil.dsl

import spock.lang.Specification

/**
 * Every example in {@code dsl/examples} (one per construct of the language, plus the scenarios
 * operators script today) runs through {@link ScenarioRunner} as {@code vigil policy test} would,
 * and prints exactly its {@code .expected} file. Examples named {@code error-*} show a broken policy
 * and exit 1; the others exit 0.
 */
class ExamplesSpec extends Specification {

    static final File DIR = new File(System.getProperty('vigil.examples', 'examples'))

    static List<String> examples() {
        (DIR.listFiles() ?: new File[0]).findAll { it.name.endsWith('.groovy') }*.name*.replaceFirst(/\.groovy$/, '').sort()
    }

    def 'the examples are there, and each has a scenario and an expected output'() {
        expect:
        examples().size() >= 20
        examples().findAll { !new File(DIR, "${it}.jsonl").file } == []
        examples().findAll { !new File(DIR, "${it}.expected").file } == []
    }

    def 'example #name prints what it is expected to'() {
        given:
        File policy = new File(DIR, "${name}.groovy")
        File scenario = new File(DIR, "${name}.jsonl")
        def bytes = new ByteArrayOutputStream()
        def out = new PrintStream(bytes, true, 'UTF-8')

        when:
        int status = scenario.withReader('UTF-8') { ScenarioRunner.run(policy.name, policy.getText('UTF-8'), scenario.name, it, out, out) }

        then:
        bytes.toString('UTF-8') == new File(DIR, "${name}.expected").getText('UTF-8')
        status == (name.startsWith('error-') ? 1 : 0)

        where:
        name << examples()
    }
}
