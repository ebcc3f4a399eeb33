package dev.vigil.daemon.plugin

import spock.lang.Specification

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.function.Consumer

/**
 * A plugin's call pool when every thread is busy: with calls that have not run for
 * {@link PluginCalls#SLOW_CALL_NANOS} the host is behind; with one that has, the plugin hangs.
 * The generational ZGC cycles the heap guard judges.
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
