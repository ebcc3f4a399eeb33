package dev.vigil.daemon.notify

import static dev.vigil.daemon.track.TrackSupport.*

import dev.vigil.daemon.track.RecordingLog
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir
import spock.util.concurrent.PollingConditions

/** Notify scripts and FIFOs with real processes and a real FIFO. */
class NotifyDispatcherSpec extends Specification {

    @TempDir
    Path dir
    RecordingLog log = new RecordingLog()
    @AutoCleanup
    NotifyDispatcher notifier
    PollingConditions within5s = new PollingConditions(timeout: 5, delay: 0.02)

    Path rec

    def setup() {
        // one line per run: every argument in brackets
        // (built first and written with one append, so that lines of parallel lanes never interleave)
        rec = script(dir, "rec.sh", "l=''; for a in \"\$@\"; do l=\"\$l[\$a]\"; done; echo \"\$l\" >> $dir/out")
    }

    NotifyDispatcher start(String conf, Duration timeout = NotifyDispatcher.DEFAULT_SCRIPT_TIMEOUT) {
        notifier = new NotifyDispatcher(config(dir, conf), log, timeout)
        notifier.start()
        notifier
    }

    List<String> out() {
        Path f = dir.resolve("out")
        Files.exists(f) ? Files.readAllLines(f) : []
    }

    def "specific script as configured, then the generic notify with four arguments appended"() {
        given:
        start("""
vrrp_sync_group G1 {
    group { VI_1 }
    notify_backup "$rec group-backup"
    notify "$rec g"
}
${instance("VI_1", 1, """
    notify_master "$rec master 'two words' \\"dq x\\""
    notify "$rec generic"
""")}
""")

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.groupChanged("G1", "BACKUP")

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        out().toSorted() == [
                "[g][GROUP][G1][BACKUP][0]",
                "[generic][INSTANCE][VI_1][MASTER][100]",
                "[group-backup]",
                "[master][two words][dq x]",
        ]
        out().indexOf("[master][two words][dq x]") < out().indexOf("[generic][INSTANCE][VI_1][MASTER][100]")
        out().indexOf("[group-backup]") < out().indexOf("[g][GROUP][G1][BACKUP][0]")

        when: "a state without its own script runs only the generic one, exactly once"
        notifier.instanceChanged("VI_1", "FAULT", 87)

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        out().size() == 5
        out().last() == "[generic][INSTANCE][VI_1][FAULT][87]"
        notifier.counters() == new NotifyCounters(5, 0, 0, 0, 0)
    }

    def "LVS events run their command as configured, with no arguments appended, in order per server"() {
        given:
        start(instance("VI_1", 1, ""))

        when:
        notifier.lvsEvent("[10.0.0.2]:80 of [10.0.0.1]:tcp:80", "DOWN", "$rec rs-down", null, false)
        notifier.lvsEvent("[10.0.0.2]:80 of [10.0.0.1]:tcp:80", "UP", "$rec rs-up", null, false)
        notifier.lvsEvent("[10.0.0.1]:tcp:80", "QUORUM_DOWN", "$rec", null, true)
        notifier.lvsEvent("[10.0.0.1]:tcp:80", "QUORUM_UP", null, null, false)

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        out().findAll { it.startsWith("[rs-") } == ["[rs-down]", "[rs-up]"]
        out().contains("")
        notifier.counters().scriptsRun() == 3
        notifier.counters().scriptsFailed() == 0
    }

    def "notify with no arguments gets \$1..\$4"() {
        given:
        start(instance("VI_1", 1, "notify $rec"))

        when:
        notifier.instanceChanged("VI_1", "STOP", 0)

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        out() == ["[INSTANCE][VI_1][STOP][0]"]
    }

    def "FIFO lines are byte-exact and in order, on both FIFOs"() {
        given:
        Path fifo = dir.resolve("notify.fifo")
        Path vfifo = dir.resolve("vrrp.fifo")
        assert run("mkfifo", fifo.toString()) == 0
        start("""
global_defs {
    notify_fifo $fifo
    vrrp_notify_fifo $vfifo
}
${instance("VI_1", 1, "")}
""")

        expect: "a missing FIFO is created"
        Files.exists(vfifo)

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.groupChanged("G1", "BACKUP")
        notifier.instanceChanged("VI_1", "BACKUP", 90)
        String expected = 'INSTANCE "VI_1" MASTER 100\nGROUP "G1" BACKUP 0\nINSTANCE "VI_1" BACKUP 90\n'
        byte[] got = readFifo(fifo, expected.length())
        byte[] vgot = readFifo(vfifo, expected.length())

        then:
        new String(got, StandardCharsets.US_ASCII) == expected
        new String(vgot, StandardCharsets.US_ASCII) == expected
        notifier.counters().fifoLinesWritten() == 6

        when:
        notifier.close()

        then: "the FIFO Vigil created is removed, the one it found is kept"
        !Files.exists(vfifo)
        Files.exists(fifo)
    }

    def "LVS lines go to notify_fifo and lvs_notify_fifo, VRRP lines to notify_fifo and vrrp_notify_fifo, all in call order"() {
        given:
        Path all = dir.resolve("all.fifo")
        Path vrrp = dir.resolve("vrrp.fifo")
        Path lvs = dir.resolve("lvs.fifo")
        start("""
global_defs {
    notify_fifo $all
    vrrp_notify_fifo $vrrp
    lvs_notify_fifo $lvs
}
${instance("VI_1", 1, "")}
""")
        String rsDown = 'RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n'
        String vsDown = 'VS [10.0.0.1]:tcp:80 DOWN\n'
        String master = 'INSTANCE "VI_1" MASTER 100\n'

        when: 'a real server goes down with no script configured, taking the quorum with it'
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.lvsEvent("[10.0.0.2]:80 of [10.0.0.1]:tcp:80", "DOWN", null, rsDown, false)
        notifier.lvsEvent("[10.0.0.1]:tcp:80", "QUORUM_DOWN", null, vsDown, false)
        notifier.instanceChanged("VI_1", "BACKUP", 90)

        then: 'no NUL after an LVS line: the next line follows it directly'
        new String(readFifo(all, (master + rsDown + vsDown + 'INSTANCE "VI_1" BACKUP 90\n').length()),
                StandardCharsets.US_ASCII) == master + rsDown + vsDown + 'INSTANCE "VI_1" BACKUP 90\n'
        new String(readFifo(lvs, (rsDown + vsDown).length()), StandardCharsets.US_ASCII) == rsDown + vsDown
        new String(readFifo(vrrp, (master + 'INSTANCE "VI_1" BACKUP 90\n').length()), StandardCharsets.US_ASCII) ==
                master + 'INSTANCE "VI_1" BACKUP 90\n'

        and: 'nothing else waits in any of them'
        notifier.awaitIdle(Duration.ofSeconds(5))
        [all, vrrp, lvs].every { pending(it) == 0 }
        notifier.counters().fifoLinesWritten() == 8
    }

    def "one path named by notify_fifo and lvs_notify_fifo is opened once and gets each line once"() {
        given:
        Path fifo = dir.resolve("one.fifo")
        start("""
global_defs {
    notify_fifo $fifo
    lvs_notify_fifo $fifo
}
${instance("VI_1", 1, "")}
""")
        String up = 'RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP\n'

        when:
        notifier.lvsEvent("[10.0.0.2]:80 of [10.0.0.1]:tcp:80", "UP", null, up, false)
        notifier.awaitIdle(Duration.ofSeconds(5))

        then:
        new String(readFifo(fifo, up.length()), StandardCharsets.US_ASCII) == up
        pending(fifo) == 0
        notifier.counters().fifoLinesWritten() == 1
    }

    def "lvs_notify_fifo_script gets its FIFO's path as its last argument and reads the LVS lines"() {
        given:
        Path fifo = dir.resolve("lvs.fifo")
        def reader = script(dir, "reader.sh", "echo \"\$@\" > $dir/args; exec cat \"\$2\" > $dir/lines")
        start("""
global_defs {
    lvs_notify_fifo $fifo
    lvs_notify_fifo_script "$reader first"
}
${instance("VI_1", 1, "")}
""")

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.lvsEvent("[10.0.0.1]:tcp:80", "QUORUM_UP", null, 'VS [10.0.0.1]:tcp:80 UP\n', false)

        then: 'the VRRP line does not reach it'
        within5s.eventually {
            assert Files.exists(dir.resolve("lines"))
            assert Files.readString(dir.resolve("lines")) == 'VS [10.0.0.1]:tcp:80 UP\n'
        }
        Files.readString(dir.resolve("args")).trim() == "first $fifo"
    }

    def "a FIFO nobody reads drops lines once full, counted and logged once, without blocking the caller"() {
        given:
        Path fifo = dir.resolve("notify.fifo")
        start("global_defs { notify_fifo $fifo }\n" + instance("VI_1", 1, ""))

        when: "about 130 KB of lines into a 64 KiB pipe"
        long t0 = System.nanoTime()
        4000.times { notifier.instanceChanged("VI_1", it % 2 ? "MASTER" : "BACKUP", 100) }
        long callMs = (System.nanoTime() - t0) / 1_000_000

        then:
        notifier.awaitIdle(Duration.ofSeconds(10))
        def c = notifier.counters()
        c.fifoLinesWritten() + c.fifoLinesDropped() == 4000
        c.fifoLinesDropped() > 1000
        c.fifoLinesWritten() > 1000
        log.matching("is full (no reader?)").size() == 1
        callMs < 2000
    }

    def "scripts of one instance run in order, each after the previous one ended"() {
        given:
        def slow = script(dir, "slow.sh", "echo \"\$1 start\" >> $dir/out; sleep 0.3; echo \"\$1 end\" >> $dir/out")
        start(instance("VI_1", 1, "notify_master \"$slow M\"\nnotify_backup \"$slow B\""))

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.instanceChanged("VI_1", "BACKUP", 100)
        notifier.instanceChanged("VI_1", "MASTER", 100)

        then:
        notifier.awaitIdle(Duration.ofSeconds(10))
        out() == ["M start", "M end", "B start", "B end", "M start", "M end"]
    }

    def "a slow script never blocks instanceChanged"() {
        given:
        def sleeper = script(dir, "sleep.sh", "echo started >> $dir/out; sleep 2")
        start(instance("VI_1", 1, "notify_master $sleeper\nnotify_backup $sleeper") + instance("VI_2", 2, ""))
        notifier.instanceChanged("VI_2", "BACKUP", 100)

        when:
        List<Long> micros = []
        notifier.instanceChanged("VI_1", "MASTER", 100)
        within5s.eventually { assert out() == ["started"] }
        3.times {
            long t0 = System.nanoTime()
            notifier.instanceChanged("VI_1", it % 2 ? "MASTER" : "BACKUP", 100)
            micros << (System.nanoTime() - t0) / 1000
        }

        then: "the script is still sleeping and every call returned quickly"
        out() == ["started"]
        micros.every { it < 500_000 }   // a call that waited would take the script's 2 s
    }

    def "a script past its timeout is killed and counted; a failing one is counted"() {
        given:
        def hang = script(dir, "hang.sh", "echo \$\$ > $dir/pid; exec sleep 60")
        def bad = script(dir, "bad.sh", "exit 3")
        start(instance("VI_1", 1, "notify_master $hang\nnotify_backup $bad"), Duration.ofMillis(500))

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)
        notifier.instanceChanged("VI_1", "BACKUP", 100)

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        notifier.counters() == new NotifyCounters(2, 1, 1, 0, 0)
        !alive(Files.readString(dir.resolve("pid")).trim() as long)
        log.matching("timed out after 0.5s; killed").size() == 1
        log.matching("bad.sh exit 3").size() == 1
    }

    def "STOP scripts at shutdown get one second, then are killed"() {
        given:
        def hang = script(dir, "hang.sh", "echo \$\$ > $dir/pid; exec sleep 60")
        start(instance("VI_1", 1, "notify_stop $hang"))

        when:
        notifier.instanceChanged("VI_1", "STOP", 100)
        within5s.eventually { assert Files.exists(dir.resolve("pid")) && !Files.readString(dir.resolve("pid")).isBlank() }
        long t0 = System.nanoTime()
        notifier.close()
        double took = (System.nanoTime() - t0) / 1e9

        then:
        took < 3
        !alive(Files.readString(dir.resolve("pid")).trim() as long)
        notifier.counters().scriptsTimedOut() == 1
    }

    def "notify_fifo_script gets the FIFO path as its last argument and SIGTERM at close"() {
        given:
        Path fifo = dir.resolve("n.fifo")
        def reader = script(dir, "reader.sh", "echo \$\$ > $dir/pid; echo \"\$@\" > $dir/args; exec cat \"\$2\" > $dir/lines")
        start("""
global_defs {
    notify_fifo $fifo
    notify_fifo_script "$reader first"
}
${instance("VI_1", 1, "")}
""")

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)

        then:
        within5s.eventually {
            assert Files.exists(dir.resolve("lines"))
            assert Files.readString(dir.resolve("lines")) == 'INSTANCE "VI_1" MASTER 100\n'
        }
        Files.readString(dir.resolve("args")).trim() == "first $fifo"

        when:
        long pid = Files.readString(dir.resolve("pid")).trim() as long
        notifier.close()

        then:
        new PollingConditions(timeout: 2).eventually { assert !alive(pid) }
    }

    def "scripts run as script_user"() {
        if (!rootOrSkip("NotifyDispatcherSpec script_user")) {
            return
        }
        given:
        createUser("vigilntf")
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"))
        def who = script(dir, "who.sh", "id -un > $dir/who; id -gn >> $dir/who")
        start("global_defs { script_user vigilntf }\n" + instance("VI_1", 1, "notify_master $who"))

        when:
        notifier.instanceChanged("VI_1", "MASTER", 100)

        then:
        notifier.awaitIdle(Duration.ofSeconds(5))
        Files.readAllLines(dir.resolve("who"))[0] == "vigilntf"
        Files.readAllLines(dir.resolve("who"))[1] != "root"

        cleanup:
        notifier?.close()
        deleteUser("vigilntf")
    }

    def "an unknown state is a programming error"() {
        given:
        start(instance("VI_1", 1, ""))

        when:
        notifier.instanceChanged("VI_1", "DELETED", 0)

        then:
        thrown(IllegalArgumentException)
    }

    /** How many bytes wait in a FIFO: what a non-blocking read takes out of it. */
    private static int pending(Path fifo) {
        def p = new ProcessBuilder('sh', '-c', "timeout 1 dd if=${fifo} iflag=nonblock bs=65536 count=1 2>/dev/null | wc -c").start()
        p.waitFor()
        p.inputStream.text.trim() as int
    }

    private static byte[] readFifo(Path fifo, int length) {
        byte[] buf = new byte[length]
        new FileInputStream(fifo.toFile()).withCloseable { input ->
            int n = 0
            while (n < length) {
                int r = input.read(buf, n, length - n)
                assert r > 0
                n += r
            }
        }
        buf
    }
}
