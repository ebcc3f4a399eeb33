package dev.vigil.dsl

import dev.vigil.api.NotifierEvent
import spock.lang.AutoCleanup
import spock.lang.Specification

import java.time.Clock
import java.time.Instant
import java.time.ZoneOffset

/** Compile errors and runtime errors name the policy, its revision, the line and the column. */
class LocationSpec extends Specification {

    static final Instant T0 = Instant.parse('2026-11-30T10:00:00Z')

    @AutoCleanup
    PolicyEngine engine = new PolicyEngine(PolicyLimits.DEFAULT, Clock.fixed(T0, ZoneOffset.UTC))

    def 'compile errors are located: #what'() {
        when:
        new PolicyCompiler().compile('web', 2, source)

        then:
        def e = thrown(PolicyCompileException)
        e.message == expected
        e.policy() == 'web'
        e.revision() == 2
        "web r2:${e.line()}:${e.column()}: ${e.problem()}" == expected

        where:
        what                  | source                                                                                     | expected
        'a syntax error'      | "policy('web') {\n    on realServerDown { event ->\n        note('a'\n    }\n}\n"          | 'web r2:4:5: Unexpected input (is a bracket, parenthesis or quote not closed before this?)'
        'a misspelt act'      | "policy('web') {\n    on realServerDown { event ->\n        instance('VI_1').lowerPriorty(5)\n    }\n}\n" | 'web r2:3:9: Cannot find matching method dev.vigil.dsl.PolicyInstance#lowerPriorty(int). Please check if the declared type is correct and if the method exists.'
        'an unknown trigger'  | "policy('web') {\n    on serverDown { event -> note('x') }\n}\n"                          | 'web r2:2:8: Cannot find matching method Policy_web_r2#serverDown(groovy.lang.Closure). Please check if the declared type is correct and if the method exists.'
        'an unknown field'    | "policy('web') {\n    on realServerDown { event ->\n        note(event.realserver)\n    }\n}\n" | "web r2:3:14: No such property: realserver for class: dev.vigil.dsl.PolicyEvent"
        'another name'        | "policy('other') {\n    on realServerDown { event -> note('x') }\n}\n"                       | "web r2:1:8: the file declares policy 'other', but it is stored as 'web'"
        'a second statement'  | "policy('web') {\n    on realServerDown { event -> note('x') }\n}\nnote('y')\n"            | "web r2:4:1: a policy file holds one statement, policy('web') { ... }; this is outside it"
        'no policy block'     | "note('y')\n"                                                                              | "web r2:1:1: a policy file holds one statement, policy('web') { ... }"
        'no handler'          | "policy('web') {\n    description 'nothing'\n}\n"                                          | "web r2:1:1: policy 'web' declares no handler (expected: on TRIGGER { event -> ... } or every N.seconds { ... })"
        'a read outside a handler' | "policy('web') {\n    def i = instance('VI_1')\n    on realServerDown { event -> note('x') }\n}\n" | 'web r2:2:5: instance() is only available inside a handler (on ... { } or every ... { })'
        'a short timer'       | "policy('web') {\n    every 0.seconds { note('x') }\n}\n"                                  | 'web r2:2:5: every: 0 seconds (expected: >= 1 second)'
        'a wrong type'        | "policy('web') {\n    on realServerDown { event ->\n        instance('VI_1').lowerPriority('50')\n    }\n}\n" | 'web r2:3:9: Cannot find matching method dev.vigil.dsl.PolicyInstance#lowerPriority(java.lang.String). Please check if the declared type is correct and if the method exists.'
    }

    def 'runtime errors are located at the line and its statement: #what'() {
        given:
        engine.install(new PolicyCompiler().compile('web', 7, source))
        def world = new SimulatedWorld(T0)
        world.instances.VI_1 = new InstanceView('VI_1', 'MASTER', 100, 100, null)

        when:
        def outcomes = engine.onEvent(new NotifierEvent('real_server.down', 'lb1', T0, [real_server: '10.9.0.11:80']), world)

        then:
        outcomes.size() == 1
        outcomes[0].error() == expected
        outcomes[0].actions().isEmpty()

        where:
        what                   | source | expected
        'an unknown service'   | "policy('web') {\n    on realServerDown { event ->\n        note('before')\n        if (true) {\n            service('10.9.0.99:80').healthyCount()\n        }\n    }\n}\n" | "web r7:5:13: no service matches '10.9.0.99:80'"
        'an unknown instance'  | "policy('web') {\n    on realServerDown { event -> instance('VI_2').handOver() }\n}\n" | "web r7:2:34: no instance named 'VI_2'"
        'an unknown tracker'   | "policy('web') {\n    on realServerDown { event ->\n        tracker('chk_nginx').markDown('x')\n    }\n}\n" | "web r7:3:9: no tracker named 'chk_nginx'"
        'inside a closure'     | "policy('web') {\n    on realServerDown { event ->\n        ['a'].each { String s ->\n            instance(s).resetPriority()\n        }\n    }\n}\n" | "web r7:4:13: no instance named 'a'"
        'a null field'         | "policy('web') {\n    on realServerDown { event ->\n        int n = event.instance.length()\n    }\n}\n" | 'web r7:3:9: NullPointerException: Cannot invoke "String.length()" because the return value of "dev.vigil.dsl.PolicyEvent.getInstance()" is null'
        'a declaring word'     | "policy('web') {\n    on realServerDown { event ->\n        on realServerUp { e -> note('x') }\n    }\n}\n" | 'web r7:3:9: on may only be used in the policy block, not inside a handler'
        'an argument'          | "policy('web') {\n    on realServerDown { event ->\n        instance('VI_1').lowerPriority(300)\n    }\n}\n" | 'web r7:3:9: lowerPriority: 300 (expected: 1..253)'
        'a bad severity'       | "policy('web') {\n    on realServerDown { event ->\n        notify('x', 'loud')\n    }\n}\n" | "web r7:3:9: notify: severity 'loud' (expected: info, warning, critical)"
    }
}
