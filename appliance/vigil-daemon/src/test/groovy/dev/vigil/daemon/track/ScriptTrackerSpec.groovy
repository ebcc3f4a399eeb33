package dev.vigil.daemon.track

import dev.vigil.config.model.VrrpScript
import dev.vigil.daemon.track.ScriptProcess.Outcome
import java.time.Duration
import spock.lang.Specification

/** rise/fall counting of one vrrp_script, driven with results rather than processes. */
class ScriptTrackerSpec extends Specification {

    RecordingLog log = new RecordingLog()
    List<String> changes = []

    ScriptTracker tracker(int rise, int fall, boolean initFail = false) {
        def s = new VrrpScript("chk", "/bin/true", Duration.ofSeconds(1), Duration.ofSeconds(1), 0, false, rise, fall,
                null, null, initFail, null)
        new ScriptTracker(s, ScriptCommand.parse("/bin/true", null, null), null, log, { changes << it.status().name() })
    }

    static final Outcome OK = new Outcome.Exited(0)
    static final Outcome BAD = new Outcome.Exited(1)

    def "init: one success is OK, failures count towards fall"() {
        when:
        def t = tracker(3, 2)
        t.record(BAD)

        then:
        t.status() == ScriptTracker.Status.INIT
        changes.isEmpty()

        when:
        t.record(OK)

        then: "one success suffices despite rise 3"
        t.status() == ScriptTracker.Status.OK
        changes == ["OK"]
        log.lines == ["INFO chk: INIT -> OK (exit 0)"]
    }

    def "init with fall reached is FAILED"() {
        when:
        def t = tracker(1, 2)
        t.record(BAD)
        t.record(BAD)

        then:
        t.status() == ScriptTracker.Status.FAILED
        log.lines == ["WARN chk: INIT -> FAILED (exit 1, fall 2/2)"]
    }

    def "OK needs fall consecutive failures; a success in between resets the count"() {
        given:
        def t = tracker(3, 3)
        t.record(OK)

        when:
        [BAD, BAD, OK, BAD, BAD].each { t.record(it) }

        then:
        t.status() == ScriptTracker.Status.OK

        when:
        t.record(new Outcome.TimedOut(Duration.ofMillis(1500)))

        then:
        t.status() == ScriptTracker.Status.FAILED
        log.lines.last() == "WARN chk: OK -> FAILED (timed out after 1.5s, fall 3/3)"
        changes == ["OK", "FAILED"]
    }

    def "FAILED needs rise consecutive successes"() {
        given:
        def t = tracker(3, 1)
        t.record(OK)
        t.record(BAD)

        when:
        [OK, OK, BAD, OK, OK].each { t.record(it) }

        then:
        t.status() == ScriptTracker.Status.FAILED

        when:
        t.record(OK)

        then:
        t.status() == ScriptTracker.Status.OK
        log.lines.last() == "INFO chk: FAILED -> OK (exit 0, rise 3/3)"
        t.runs() == 8
        t.failures() == 2
    }

    def "init_fail starts FAILED and needs rise successes"() {
        when:
        def t = tracker(2, 1, true)

        then:
        t.status() == ScriptTracker.Status.FAILED

        when:
        t.record(OK)

        then:
        t.status() == ScriptTracker.Status.FAILED

        when:
        t.record(OK)

        then:
        t.status() == ScriptTracker.Status.OK
    }

    def "a script that cannot start is a failure with its reason"() {
        given:
        def t = tracker(1, 1)

        when:
        t.record(ScriptProcess.run(ScriptCommand.parse("/nonexistent/chk.sh", null, null), Duration.ofSeconds(1)))

        then:
        t.status() == ScriptTracker.Status.FAILED
        log.lines == ["WARN chk: INIT -> FAILED (cannot start: /nonexistent/chk.sh: no such file, fall 1/1)"]
    }
}
