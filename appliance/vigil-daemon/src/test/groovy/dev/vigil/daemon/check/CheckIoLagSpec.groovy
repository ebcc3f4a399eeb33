package dev.vigil.daemon.check

import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.util.concurrent.PollingConditions

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * The event loops' lag as {@link CheckIo#lagSince} measures it on real Netty loops: a loop held
 * busy shows its lag, both while it is held (its tick overdue) and after (the late tick
 * remembered), and only to probes launched before it recovered.
 */
class CheckIoLagSpec extends Specification {

    @AutoCleanup
    CheckIo io = CheckIo.open(1)

    static final long MS = TimeUnit.MILLISECONDS.toNanos(1)

    def 'a loop held busy for 600 ms lags by about that much, seen by probes launched before, not after'() {
        given:
        def loop = io.next()
        Thread.sleep(3 * CheckIo.TICK_MS)
        long before = System.nanoTime()
        def holding = new CountDownLatch(1)

        when: 'the loop runs a task that blocks it for 600 ms'
        loop.execute { holding.countDown(); Thread.sleep(600) }
        holding.await(5, TimeUnit.SECONDS)
        Thread.sleep(400)
        long whileHeld = io.lagSince(loop, before)

        then: 'while held, its tick is overdue'
        whileHeld >= 200 * MS

        when: 'once it ran again'
        new PollingConditions(timeout: 5).eventually { assert io.lagSince(loop, System.nanoTime()) < 200 * MS }
        Thread.sleep(3 * CheckIo.TICK_MS)
        long after = System.nanoTime()
        Thread.sleep(3 * CheckIo.TICK_MS)

        then: 'a probe launched before the stall sees it; one launched after does not'
        io.lagSince(loop, before) >= 400 * MS
        io.lagSince(loop, after) < 200 * MS
    }

    def 'a loop that is not the group\'s has no lag'() {
        expect:
        CheckIo.open(1).withCloseable { other -> io.lagSince(other.next(), 0) } == 0
    }
}
