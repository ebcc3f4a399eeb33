package dev.vigil.daemon.plugin

import spock.lang.Specification

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.function.Consumer

/**
 * A plugin's call pool when every thread is busy: with calls that have not run for
 * {@link PluginCalls#SLOW_CALL_NANOS} the host is behind; with one that has, the plugin hangs.
 * Queued calls: a burst drained by one thread, each call accounted on its own, a blocking call
 * passed by. The generational ZGC cycles the heap guard judges.
 */
class PluginCallsSpec extends Specification {

    PluginMemory memory = new PluginMemory()
    PluginCalls calls = new PluginCalls('busy-test', getClass().classLoader, memory)
    CountDownLatch release = new CountDownLatch(1)

    def cleanup() {
        release.countDown()
        calls.close()
        memory.close()
    }

    /** Fills every thread of the pool with a call that waits for {@link #release}. */
    void fill() {
        def running = new CountDownLatch(PluginCalls.MAX_THREADS)
        PluginCalls.MAX_THREADS.times {
            calls.start({ 'run()' }, { running.countDown(); release.await(30, TimeUnit.SECONDS) } as Runnable,
                    { PluginCalls.Failure f -> throw new AssertionError(f.message) } as Consumer)
        }
        assert running.await(10, TimeUnit.SECONDS)
    }

    PluginCalls.Failure oneMore() {
        PluginCalls.Failure failure = null
        calls.start({ 'run()' }, {} as Runnable, { PluginCalls.Failure f -> failure = f } as Consumer)
        failure
    }

    def 'every thread busy with young calls: the failure blames the host'() {
        given:
        fill()

        when:
        def f = oneMore()

        then:
        f.hostBusy()
        !f.memory()
        f.message == 'all 32 call threads of plugin busy-test are busy with calls that have run less than 1 s: the host is behind'
    }

    def 'every thread busy with a call that has run past a second: the plugin hangs'() {
        given:
        fill()
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PluginCalls.SLOW_CALL_NANOS) + 100)

        when:
        def f = oneMore()

        then:
        !f.hostBusy()
        f.message == 'all 32 call threads of plugin busy-test are busy'
    }

    /** A queued call: its body and where its failure goes, one object, as the probes' launches are. */
    static class Queued implements Runnable, Consumer<PluginCalls.Failure> {
        final Closure body
        volatile PluginCalls.Failure failure

        Queued(Closure body) {
            this.body = body
        }

        @Override
        void run() {
            body.call()
        }

        @Override
        void accept(PluginCalls.Failure f) {
            failure = f
        }
    }

    def 'a burst of queued calls is drained by one thread, and each call is accounted on its own'() {
        given: 'the first call holds the draining thread while 99 more are queued behind it'
        def gate = new CountDownLatch(1)
        def done = new CountDownLatch(100)
        def threads = Collections.synchronizedSet(new HashSet<Thread>())
        def kept = Collections.synchronizedList([])
        def first = new Queued({ gate.await(10, TimeUnit.SECONDS); threads << Thread.currentThread(); done.countDown() })
        def rest = (1..99).collect { new Queued({ threads << Thread.currentThread(); kept << new byte[10_000]; done.countDown() }) }

        when:
        calls.enqueue({ 'run()' }, first)
        rest.each { calls.enqueue({ 'run()' }, it) }
        gate.countDown()

        then: 'one thread, or two if queueing the burst took longer than the stall allowance (a descheduled test thread)'
        done.await(10, TimeUnit.SECONDS)
        threads.size() <= 2
        threads.every { it.name.startsWith('plugin busy-test #') }
        calls.stats().calls == 100
        calls.stats().queueDrains <= 2
        calls.allocated() >= 99 * 10_000
        ([first] + rest).every { it.failure == null }
    }

    def 'a queued call that blocks does not hold the queue: the next one queued gets a thread of its own'() {
        given: 'a call that blocks the draining thread until released'
        def blocked = new CountDownLatch(1)
        calls.enqueue({ 'run()' }, new Queued({ blocked.countDown(); release.await(30, TimeUnit.SECONDS) }))
        assert blocked.await(10, TimeUnit.SECONDS)
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(PluginCalls.DRAIN_STALL_NANOS) + 30)
        def ran = new CountDownLatch(1)

        when:
        calls.enqueue({ 'run()' }, new Queued({ ran.countDown() }))

        then:
        ran.await(5, TimeUnit.SECONDS)
        calls.stats().queueDrains == 2
    }

    def 'queued calls that find every thread busy fail, blaming the host while the calls are young'() {
        given:
        fill()
        def q = new Queued({ throw new AssertionError('must not run') })

        when:
        calls.enqueue({ 'run()' }, q)

        then:
        q.failure.hostBusy()
        q.failure.message == 'all 32 call threads of plugin busy-test are busy with calls that have run less than 1 s: the host is behind'
    }

    def 'generational ZGC is judged after its major cycles only; other collectors after each collection'() {
        expect:
        PluginMemory.judges(name) == judged

        where:
        name                | judged
        'ZGC Major Cycles'  | true
        'ZGC Minor Cycles'  | false
        'ZGC Major Pauses'  | false
        'ZGC Minor Pauses'  | false
        'ZGC Cycles'        | true
        'G1 Young Generation' | true
        'G1 Old Generation' | true
    }
}
