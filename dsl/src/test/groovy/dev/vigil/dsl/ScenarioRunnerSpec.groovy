package dev.vigil.dsl

import spock.lang.Specification

/** {@code vigil policy test}: located errors for broken scenarios and policies, and its exit status. */
class ScenarioRunnerSpec extends Specification {

    static final String POLICY = '''policy('web-capacity') {
    on realServerDown { event ->
        if (service('10.9.0.50:80').healthyCount() < 2) {
            instance('VI_1').lowerPriority(50)
        }
    }
}
'''
    static final String STATE = '{"state": {"time": "2026-11-30T10:00:00Z", "instances": {"VI_1": {"state": "MASTER", "priority": 100}}, ' +
            '"services": {"10.9.0.50:80": {"realServers": {"10.9.0.11:80": {}, "10.9.0.12:80": {}}}}}}'

    static List run(String policy, String scenario) {
        def bytes = new ByteArrayOutputStream()
        def out = new PrintStream(bytes, true, 'UTF-8')
        int status = ScenarioRunner.run('web.groovy', policy, 'scenario.jsonl', new StringReader(scenario), out, out)
        [status, bytes.toString('UTF-8')]
    }

    def 'a scenario runs and prints each action with its time and trigger'() {
        expect:
        run(POLICY, """${STATE}
# the first real server fails
{"type": "real_server.down", "details": {"virtual_server": "10.9.0.50:80", "real_server": "10.9.0.11:80"}}

{"type": "real_server.down", "time": "2026-11-30T10:05:00Z", "details": {"virtual_server": "10.9.0.50:80", "real_server": "10.9.0.12:80"}}
""") == [0, '2026-11-30T10:00:01Z real_server.down web-capacity r0: priority VI_1 offset -50\n' +
                '2026-11-30T10:05:00Z real_server.down web-capacity r0: priority VI_1 offset -50\n']
    }

    def 'a bad scenario line is located: #what'() {
        expect:
        run(POLICY, "${STATE}\n${line}\n") == [1, "scenario.jsonl:2:${column}: ${message}\n"]

        where:
        what               | line                                                                          | column | message
        'not JSON'         | '{"type": "real_server.down"'                                                 | 28     | 'not JSON: expecting \'}\' or \',\' but got current char \'"\' with an int value of 34'
        'not an object'    | '[1, 2]'                                                                      | 1      | 'expected a JSON object'
        'no kind'          | '{"foo": 1}'                                                                  | 1      | 'expected a state, an event ("type") or an "advance" line'
        'an unknown type'  | '{"type": "real_server.gone"}'                                                | 1      | "unknown event type 'real_server.gone' (expected one of: daemon.reload, daemon.start, daemon.stop, policy.action, quorum.down, quorum.up, real_server.down, real_server.up, tracker, vrrp.group, vrrp.instance)"
        'a bad time'       | '{"type": "real_server.down", "time": "yesterday"}'                           | 1      | "time 'yesterday' (expected: an ISO-8601 UTC time such as 2026-11-30T10:00:00Z)"
        'time going back'  | '{"type": "real_server.down", "time": "2026-11-30T09:00:00Z"}'                | 1      | 'time 2026-11-30T09:00:00Z is before the scenario\'s time 2026-11-30T10:00:00Z'
        'a bad advance'    | '{"advance": "soon"}'                                                         | 1      | "advance 'soon' (expected: a duration such as 500ms, 10s, 5m, 1h)"
        'an unknown field' | '{"type": "real_server.down", "detail": {}}'                                  | 1      | 'unknown field "detail" (expected: type, time, node, details)'
        'nested details'   | '{"type": "real_server.down", "details": {"a": {"b": 1}}}'                    | 1      | 'detail "a" must be a text or a number'
        'unknown server'   | '{"type": "real_server.down", "details": {"virtual_server": "10.9.0.50:80", "real_server": "10.9.0.99:80"}}' | 1      | "service 10.9.0.50:80/tcp has no real server '10.9.0.99:80' in the state"
        'unknown service'  | '{"type": "real_server.down", "details": {"virtual_server": "10.9.0.51:80", "real_server": "10.9.0.11:80"}}' | 1      | "no service matches '10.9.0.51:80' in the state"
        'a bad state'      | '{"state": {"instances": {"VI_1": {"state": "PRIMARY"}}}}'                    | 1      | "instance VI_1: state 'PRIMARY' (expected: INIT, BACKUP, MASTER, FAULT)"
        'a bad priority'   | '{"state": {"instances": {"VI_1": {"priority": 300}}}}'                       | 1      | 'instance VI_1 priority: 300 (expected: 1..255)'
        'a bad service'    | '{"state": {"services": {"web": {}}}}'                                        | 1      | "service 'web' (expected: ADDRESS:PORT[/PROTO], fwmark N or group NAME)"
    }

    def 'a policy that does not compile is located and exits 1'() {
        expect:
        run("policy('web-capacity') {\n    on realServerDown { event -> System.exit(1) }\n}\n", STATE) ==
                [1, 'web.groovy: web-capacity r0:2:34: policy sandbox: java.lang.System#exit is not allowed\n']
    }

    def 'a run that fails is printed located, and the status is 1'() {
        expect:
        run("policy('web-capacity') {\n    on realServerDown { event ->\n        instance('VI_9').handOver()\n    }\n}\n",
                "${STATE}\n{\"type\": \"real_server.down\", \"details\": {\"virtual_server\": \"10.9.0.50:80\", \"real_server\": \"10.9.0.11:80\"}}\n") ==
                [1, "2026-11-30T10:00:01Z real_server.down error: web-capacity r0:3:9: no instance named 'VI_9'\n"]
    }

    def 'advance runs the timers that fall due, in order'() {
        expect:
        run("policy('t') {\n    every 10.seconds { note(now.toString()) }\n}\n", "${STATE}\n{\"advance\": \"25s\"}\n{\"advance\": \"500ms\"}\n{\"advance\": \"5s\"}\n") ==
                [0, '2026-11-30T10:00:10Z every 10s t r0: note: 2026-11-30T10:00:10Z\n' +
                        '2026-11-30T10:00:20Z every 10s t r0: note: 2026-11-30T10:00:20Z\n' +
                        '2026-11-30T10:00:30Z every 10s t r0: note: 2026-11-30T10:00:30Z\n']
    }

    def 'the simulated world follows the events and the policy\'s own actions'() {
        given:
        def policy = '''policy('w') {
    on instanceChange { event ->
        def vi = instance('VI_1')
        note("${vi.state} ${vi.priority} ${tracker('chk').state} ${service('10.9.0.50:80').realServer('10.9.0.11:80').weight}")
        if (event.to == 'MASTER') {
            vi.lowerPriority(250); tracker('chk').markDown('x'); service('10.9.0.50:80').realServer('10.9.0.11:80').weight(5)
        } else {
            vi.resetPriority(); tracker('chk').clear(); service('10.9.0.50:80').realServer('10.9.0.11:80').restoreWeight()
        }
    }
}
'''
        def state = '{"state": {"time": "2026-11-30T10:00:00Z", "instances": {"VI_1": {"state": "BACKUP", "priority": 100}}, ' +
                '"services": {"10.9.0.50:80": {"realServers": {"10.9.0.11:80": {"weight": 3}}}}, "trackers": {"chk": {"state": "UP"}}}}'

        when:
        def (status, out) = run(policy, state + '''
{"type": "vrrp.instance", "details": {"instance": "VI_1", "from": "BACKUP", "to": "MASTER"}}
{"type": "vrrp.instance", "details": {"instance": "VI_1", "from": "MASTER", "to": "BACKUP"}}
{"type": "vrrp.instance", "details": {"instance": "VI_1", "from": "BACKUP", "to": "FAULT"}}
''')

        then:
        status == 0
        out.readLines().findAll { it.contains('note:') }*.replaceFirst(/^.*note: /, '') == ['MASTER 100 UP 3', 'BACKUP 1 DOWN 5', 'FAULT 100 UP 3']
    }
}
