package dev.vigil.daemon.track

import static dev.vigil.daemon.track.TrackSupport.*

import dev.vigil.kernel.LinkMonitor
import dev.vigil.kernel.linux.NetNs
import dev.vigil.kernel.linux.NetlinkLinkMonitor
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir
import spock.util.concurrent.PollingConditions

/** Trackers with real scripts and files: weights, faults, timeouts, pushes only on change. */
class TrackerManagerSpec extends Specification {

    @TempDir
    Path dir
    RecordingSink sink = new RecordingSink()
    RecordingLog log = new RecordingLog()
    @AutoCleanup
    TrackerManager manager
    PollingConditions within5s = new PollingConditions(timeout: 5, delay: 0.05)

    TrackerManager start(String conf, LinkMonitor links = null) {
        manager = new TrackerManager(config(dir, conf), links, sink, log)
        manager.start()
        manager
    }

    def "weights: positive while OK, negative while failed, reverse negates, weight 0 is a fault"() {
        given:
        def conf = """
vrrp_script ok { script /bin/true
    interval 0.2 }
vrrp_script bad { script /bin/false
    interval 0.2
    weight -15 }
${instance("VI_PLUS", 1, "track_script { ok weight 10 }")}
${instance("VI_MINUS", 2, "track_script { bad }")}
${instance("VI_REV", 3, "track_script { ok weight 10 reverse }")}
${instance("VI_REVNEG", 4, "track_script { bad weight -5 reverse }")}
${instance("VI_ZERO", 5, "track_script { bad weight 0 }")}
${instance("VI_OKNEG", 6, "track_script { ok weight -7 }")}
${instance("VI_SUM", 7, "track_script {\n ok weight 10\n bad weight -15\n}")}
"""
        when:
        start(conf)

        then: "the first push happens at start, before any script ran"
        sink.of("VI_PLUS").first() == [0, [] as Set]
        sink.of("VI_ZERO").first() == [0, [] as Set]

        and:
        within5s.eventually {
            assert sink.last("VI_PLUS") == [10, [] as Set]
            assert sink.last("VI_MINUS") == [-15, [] as Set]
            assert sink.last("VI_REV") == [-10, [] as Set]
            assert sink.last("VI_REVNEG") == [5, [] as Set]
            assert sink.last("VI_ZERO") == [0, ["script bad"] as Set]
            assert sink.last("VI_SUM") == [-5, [] as Set]
        }

        when: "several more probes give the same results"
        Thread.sleep(700)

        then: "nothing is pushed again"
        sink.of("VI_PLUS").size() == 2
        sink.of("VI_ZERO").size() == 2
        sink.of("VI_OKNEG") == [[0, [] as Set]]
        manager.scripts().find { it.name() == "ok" }.runs() >= 4
        manager.current()["VI_MINUS"] == new Tracking(-15, [] as Set)
    }

    def "rise and fall with a script whose result changes"() {
        given:
        Path rc = dir.resolve("rc")
        Files.writeString(rc, "0")
        def chk = script(dir, "chk.sh", "exit \$(cat $rc)")
        start("""
vrrp_script chk { script $chk
    interval 0.2
    weight -20
    rise 3
    fall 2 }
${instance("VI_1", 1, "track_script { chk }")}
""")

        expect:
        within5s.eventually { assert manager.scripts()[0].status() == "OK" }

        when:
        long before = manager.scripts()[0].runs()
        Files.writeString(rc, "1")

        then:
        within5s.eventually { assert sink.last("VI_1") == [-20, [] as Set] }
        manager.scripts()[0].runs() - before >= 2
        log.matching("chk: OK -> FAILED (exit 1, fall 2/2)").size() == 1

        when:
        before = manager.scripts()[0].runs()
        Files.writeString(rc, "0")

        then:
        within5s.eventually { assert sink.last("VI_1") == [0, [] as Set] }
        manager.scripts()[0].runs() - before >= 3
        log.matching("chk: FAILED -> OK (exit 0, rise 3/3)").size() == 1
        sink.of("VI_1") == [[0, [] as Set], [-20, [] as Set], [0, [] as Set]]
    }

    def "a script that hangs is killed with its children at the timeout and counted failed"() {
        given:
        def hang = script(dir, "hang.sh", """echo \$\$ > $dir/pid
sleep 60 &
echo \$! > $dir/child
wait""")
        start("""
vrrp_script hang { script $hang
    interval 10
    timeout 0.5 }
${instance("VI_1", 1, "track_script { hang }")}
""")

        expect:
        within5s.eventually {
            assert Files.exists(dir.resolve("child")) && !Files.readString(dir.resolve("child")).isBlank()
        }
        long pid = Files.readString(dir.resolve("pid")).trim() as long
        long child = Files.readString(dir.resolve("child")).trim() as long
        within5s.eventually { assert sink.last("VI_1") == [0, ["script hang"] as Set] }
        log.matching("hang: INIT -> FAILED (timed out after 0.5s, fall 1/1)").size() == 1
        new PollingConditions(timeout: 2).eventually {
            assert !alive(pid)
            assert !alive(child)
        }
        manager.scripts()[0].failures() == 1
    }

    def "init_fail holds a weight-0 script in fault until rise successes"() {
        when:
        start("""
vrrp_script s { script /bin/true
    interval 0.2
    rise 2
    init_fail }
vrrp_script plain { script /bin/true
    interval 0.2 }
${instance("VI_1", 1, "track_script { s }")}
${instance("VI_2", 2, "track_script { plain }")}
""")

        then:
        sink.of("VI_1").first() == [0, ["script s"] as Set]
        sink.of("VI_2").first() == [0, [] as Set]
        within5s.eventually { assert sink.last("VI_1") == [0, [] as Set] }
        log.matching("s: FAILED -> OK (exit 0, rise 2/2)").size() == 1
        sink.of("VI_2").size() == 1
    }

    def "only tracked scripts run"() {
        when:
        start("""
vrrp_script used { script "/bin/sh -c 'touch $dir/used'"
    interval 0.2 }
vrrp_script unused { script "/bin/sh -c 'touch $dir/unused'"
    interval 0.2 }
${instance("VI_1", 1, "track_script { used }")}
""")

        then:
        within5s.eventually { assert Files.exists(dir.resolve("used")) }
        Thread.sleep(500)
        !Files.exists(dir.resolve("unused"))
        manager.scripts()*.name() == ["used"]
    }

    def "track_interface from the link monitor: weight 0 faults, weights add, reverse"() {
        given:
        def links = new FakeLinkMonitor("eth1", "eth2", "eth3")
        start("""
${instance("VI_1", 1, "track_interface {\n eth1\n eth2 weight -30\n eth3 weight 20 reverse\n eth4 weight 5\n}")}
""", links)

        expect: "eth4 does not exist: down"
        sink.of("VI_1") == [[-20, [] as Set]]

        when:
        links.set("eth1", false)

        then:
        sink.last("VI_1") == [-20, ["interface eth1"] as Set]

        when:
        links.set("eth2", false)
        links.set("eth3", false)
        links.set("eth4", true)

        then:
        sink.of("VI_1").drop(2) == [[-50, ["interface eth1"] as Set], [-30, ["interface eth1"] as Set],
                                   [-25, ["interface eth1"] as Set]]

        when: "a repeated state or an untracked interface changes nothing"
        int n = sink.calls.size()
        links.set("eth4", true)
        links.set("eth9", false)

        then:
        sink.calls.size() == n
        log.matching("eth1: UP -> DOWN").size() == 1
    }

    def "sync group trackers apply to every member; weighted ones are ignored without sync_group_tracking_weight"() {
        given:
        def links = new FakeLinkMonitor("eth1", "eth2")
        start("""
vrrp_sync_group G1 {
    group { VI_1 VI_2 }
    track_interface { eth1 }
}
${instance("VI_1", 1, "track_interface { eth2 weight 10 }")}
${instance("VI_2", 2, "")}
""", links)

        when:
        links.set("eth1", false)

        then:
        sink.last("VI_1") == [0, ["interface eth1"] as Set]
        sink.last("VI_2") == [0, ["interface eth1"] as Set]
        log.matching("ignoring interface eth2 with weight 10").size() == 1
    }

    def "track_file: value times weight, weight 0 faults on non-zero, garbage and missing are 0, within a second"() {
        given:
        Path w = dir.resolve("weighted")
        Path z = dir.resolve("zero")
        Files.writeString(w, "3\n")
        start("""
track_file tw { file $w
    weight 5 }
track_file tz { file $z
    weight 0 }
track_file ti { file $dir/init
    init_file 7 }
${instance("VI_1", 1, "track_file { tw }")}
${instance("VI_2", 2, "track_file { tz }")}
${instance("VI_3", 3, "track_file { tw weight -2 reverse }")}
${instance("VI_4", 4, "track_file { ti }")}
""")

        expect:
        sink.last("VI_1") == [15, [] as Set]
        sink.last("VI_2") == [0, [] as Set]
        sink.last("VI_3") == [6, [] as Set]
        sink.last("VI_4") == [7, [] as Set]
        Files.readString(dir.resolve("init")).trim() == "7"

        when:
        long t0 = System.nanoTime()
        Files.writeString(w, "-4")
        Files.writeString(z, "1")

        then:
        new PollingConditions(timeout: 1.5, delay: 0.02).eventually {
            assert sink.last("VI_1") == [-20, [] as Set]
            assert sink.last("VI_2") == [0, ["file tz"] as Set]
        }
        (System.nanoTime() - t0) / 1e6 < 1000

        when:
        Files.writeString(w, "garbage")
        Files.delete(z)

        then:
        new PollingConditions(timeout: 1.5, delay: 0.02).eventually {
            assert sink.last("VI_1") == [0, [] as Set]
            assert sink.last("VI_2") == [0, [] as Set]
        }

        when: "a huge negative contribution is a fault"
        Files.writeString(w, "-100")

        then:
        new PollingConditions(timeout: 1.5).eventually {
            assert sink.last("VI_1") == [-254, ["file tw"] as Set]
        }
    }

    def "close kills running scripts and stops every thread; a new manager starts cleanly"() {
        given:
        def hang = script(dir, "hang.sh", "echo \$\$ >> $dir/pids\nexec sleep 60")
        String conf = """
vrrp_script hang { script $hang
    interval 30
    timeout 30 }
track_file tf { file $dir/tf }
${instance("VI_1", 1, "track_script { hang }\ntrack_file { tf }")}
"""
        start(conf)
        within5s.eventually { assert Files.exists(dir.resolve("pids")) }
        long pid = Files.readAllLines(dir.resolve("pids"))[0] as long

        when:
        long t0 = System.nanoTime()
        manager.close()

        then:
        (System.nanoTime() - t0) / 1e9 < 3
        new PollingConditions(timeout: 2).eventually { assert !alive(pid) }
        !Thread.allStackTraces.keySet().any { it.name == "vigil-track-file" && it.alive }

        when: "reload = close + new manager"
        start(conf)

        then:
        within5s.eventually { assert Files.readAllLines(dir.resolve("pids")).size() == 2 }

        when:
        manager.close()
        long pid2 = Files.readAllLines(dir.resolve("pids"))[1] as long

        then:
        new PollingConditions(timeout: 2).eventually { assert !alive(pid2) }
        ProcessHandle.current().children().noneMatch { it.pid() in [pid, pid2] }
    }

    def "scripts run as vrrp_script user, else script_user"() {
        if (!rootOrSkip("TrackerManagerSpec script_user")) {
            return
        }
        given:
        createUser("vigiltrk")
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"))
        def who = script(dir, "who.sh", "id -un > $dir/\$1")

        when:
        start("""
global_defs { script_user vigiltrk }
vrrp_script as_global { script "$who global"
    interval 5 }
vrrp_script as_root { script "$who root"
    interval 5
    user root }
${instance("VI_1", 1, "track_script {\n as_global\n as_root\n}")}
""")

        then:
        within5s.eventually {
            assert Files.exists(dir.resolve("global")) && Files.readString(dir.resolve("global")).trim() == "vigiltrk"
            assert Files.exists(dir.resolve("root")) && Files.readString(dir.resolve("root")).trim() == "root"
        }

        cleanup:
        manager?.close()
        deleteUser("vigiltrk")
    }

    def "track_interface with the real netlink monitor in a network namespace, carrier loss included"() {
        if (!rootOrSkip("TrackerManagerSpec netns track_interface")) {
            return
        }
        given:
        String ns = "vgtrk" + ProcessHandle.current().pid()
        assert run("ip", "netns", "add", ns) == 0
        assert run("ip", "-n", ns, "link", "add", "dm0", "type", "veth", "peer", "name", "dm1") == 0
        assert run("ip", "-n", ns, "link", "set", "dm0", "up") == 0
        assert run("ip", "-n", ns, "link", "set", "dm1", "up") == 0
        def monitor = NetNs.call(ns, { new NetlinkLinkMonitor() })
        start(instance("VI_1", 1, "track_interface {\n dm0\n}"), monitor)

        expect:
        sink.of("VI_1") == [[0, [] as Set]]

        when: "the peer goes down: dm0 loses its carrier"
        assert run("ip", "-n", ns, "link", "set", "dm1", "down") == 0

        then:
        within5s.eventually { assert sink.last("VI_1") == [0, ["interface dm0"] as Set] }

        when:
        assert run("ip", "-n", ns, "link", "set", "dm1", "up") == 0

        then:
        within5s.eventually { assert sink.last("VI_1") == [0, [] as Set] }
        sink.of("VI_1").size() == 3

        cleanup:
        manager?.close()
        monitor?.close()
        run("ip", "netns", "del", ns)
    }
}
