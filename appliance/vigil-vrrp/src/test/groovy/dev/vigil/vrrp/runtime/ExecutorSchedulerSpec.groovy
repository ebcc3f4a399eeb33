package dev.vigil.vrrp.runtime

import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser
import dev.vigil.vrrp.testkit.FakeSegment
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.util.concurrent.PollingConditions

import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

import static dev.vigil.vrrp.fsm.VrrpState.INIT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class ExecutorSchedulerSpec extends Specification {

    @AutoCleanup
    ExecutorScheduler scheduler = new ExecutorScheduler('vigil-vrrp-test')

    def 'tasks and timers run on the engine thread; a cancelled timer never runs'() {
        given:
        def threads = new ConcurrentLinkedQueue<Boolean>()
        def latch = new CountDownLatch(2)
        boolean cancelledRan = false

        when:
        scheduler.execute { threads << scheduler.inEngineThread(); latch.countDown() }
        // Far enough apart that a busy machine cannot delay the cancel past the first deadline,
        // and the second one runs after it: had the cancel not worked, it would have run by then.
        def cancelled = scheduler.schedule({ cancelledRan = true }, TimeUnit.MILLISECONDS.toNanos(300))
        cancelled.cancel()
        scheduler.schedule({ threads << scheduler.inEngineThread(); latch.countDown() }, TimeUnit.MILLISECONDS.toNanos(500))

        then:
        latch.await(5, TimeUnit.SECONDS)
        threads.toList() == [true, true]
        !cancelledRan
        !scheduler.inEngineThread()
    }

    def 'an alarm fires once at its latest deadline; re-armed it fires again; cancelled it does not'() {
        given:
        def fired = new ConcurrentLinkedQueue<Long>()
        def alarm = scheduler.alarm { fired << System.nanoTime() }
        long ms = TimeUnit.MILLISECONDS.toNanos(1)

        when: 'armed for 200 ms, then moved to 60 ms: only the later arming counts'
        long t0 = System.nanoTime()
        alarm.armAt(t0 + 200 * ms)
        alarm.armAt(t0 + 60 * ms)

        then:
        new PollingConditions(timeout: 5).eventually { assert fired.size() == 1 }
        fired.peek() - t0 >= 60 * ms

        when: 'sleeping past the first deadline shows it left no second firing'
        Thread.sleep(250)

        then:
        fired.size() == 1

        when: 'the same alarm armed again fires again, and a cancelled arming never does'
        alarm.armAt(System.nanoTime() + 20 * ms)
        new PollingConditions(timeout: 5).eventually { assert fired.size() == 2 }
        alarm.armAt(System.nanoTime() + 50 * ms)
        alarm.cancel()
        Thread.sleep(150)

        then:
        fired.size() == 2
    }

    def 'a router on the real engine thread: owner becomes MASTER, status from another thread, blocking shutdown'() {
        given:
        def segment = new FakeSegment()
        def vip = new VirtualAddress(InetAddress.getByName('10.0.0.100'), 24, 'eth0', null, null, 0)
        def addresses = new FakeAddressManager()
        def params = InstanceParams.builder('VI_1', 51, 'eth0').version(3).priority(255).vip(vip)
                .advertInterval(Duration.ofMillis(10)).build()
        def router = new VrrpRouter([params], new VrrpRouter.Ports(segment.node('a', InetAddress.getByName('10.0.0.1')),
                addresses, new FakeNeighbourAdvertiser(), new FakeLinkMonitor('eth0')), scheduler, RouterListener.NONE)

        when:
        router.start()

        then:
        new PollingConditions(timeout: 5).eventually {
            assert router.status('VI_1').state() == MASTER
            assert router.counters('VI_1').advertsSent() >= 3
        }

        when:
        router.shutdown(Duration.ofSeconds(5))

        then:
        router.status('VI_1').state() == INIT
        router.counters('VI_1').priorityZeroSent() == 1
        !addresses.has('eth0', vip.address())
    }

    def 'timers run in deadline order, not in the order they were scheduled'() {
        given:
        def order = new ConcurrentLinkedQueue<String>()
        def latch = new CountDownLatch(3)

        when: 'deadlines 50 ms apart, far more than scheduling the three takes'
        scheduler.execute {
            long ms = TimeUnit.MILLISECONDS.toNanos(1)
            scheduler.schedule({ order << 'c'; latch.countDown() }, 150 * ms)
            scheduler.schedule({ order << 'a'; latch.countDown() }, 50 * ms)
            scheduler.schedule({ order << 'b'; latch.countDown() }, 100 * ms)
        }

        then:
        latch.await(5, TimeUnit.SECONDS)
        order.toList() == ['a', 'b', 'c']
    }

    def 'a timer never fires before its deadline, and fires close to it'() {
        given: 'honest slack: two shared cores, so only the median is held to a bound'
        List<Long> lateness = Collections.synchronizedList([])
        def latch = new CountDownLatch(40)
        long delay = TimeUnit.MILLISECONDS.toNanos(7)

        when:
        40.times {
            long armedAt = System.nanoTime()
            def done = new CountDownLatch(1)
            scheduler.schedule({ lateness << System.nanoTime() - armedAt - delay; done.countDown(); latch.countDown() }, delay)
            done.await(5, TimeUnit.SECONDS)
        }

        then:
        latch.await(5, TimeUnit.SECONDS)
        lateness.every { it >= 0 }
        lateness.sort()[20] < TimeUnit.MILLISECONDS.toNanos(3)
    }

    def 'a task submitted from another thread wakes the engine sleeping towards a far timer'() {
        given:
        scheduler.schedule({}, TimeUnit.SECONDS.toNanos(60))
        Thread.sleep(50)
        def ran = new CountDownLatch(1)

        when:
        long t0 = System.nanoTime()
        scheduler.execute { ran.countDown() }

        then:
        ran.await(5, TimeUnit.SECONDS)
        System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1)
    }

    def 'a failing task does not stop the engine; close refuses further work'() {
        given:
        def ran = new CountDownLatch(1)
        def errors = new ConcurrentLinkedQueue<Throwable>()
        def engine = new ExecutorScheduler('vigil-vrrp-test-failing')
        engine.execute { Thread.currentThread().uncaughtExceptionHandler = { t, e -> errors << e } as Thread.UncaughtExceptionHandler }

        when:
        engine.execute { throw new IllegalStateException('boom') }
        engine.execute { ran.countDown() }

        then:
        ran.await(5, TimeUnit.SECONDS)
        errors*.message == ['boom']

        when:
        engine.close()
        engine.execute {}

        then:
        thrown(java.util.concurrent.RejectedExecutionException)
    }
}
