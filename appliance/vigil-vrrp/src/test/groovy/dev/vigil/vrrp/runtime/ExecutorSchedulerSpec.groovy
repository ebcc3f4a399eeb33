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
        def cancelled = scheduler.schedule({ cancelledRan = true }, TimeUnit.MILLISECONDS.toNanos(20))
        scheduler.schedule({ threads << scheduler.inEngineThread(); latch.countDown() }, TimeUnit.MILLISECONDS.toNanos(40))
        cancelled.cancel()

        then:
        latch.await(5, TimeUnit.SECONDS)
        threads.toList() == [true, true]
        !cancelledRan
        !scheduler.inEngineThread()
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
}
