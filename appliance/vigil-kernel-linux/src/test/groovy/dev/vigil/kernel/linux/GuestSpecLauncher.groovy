package dev.vigil.kernel.linux

import groovy.transform.CompileStatic
import org.junit.platform.engine.TestExecutionResult
import org.junit.platform.engine.support.descriptor.ClassSource
import org.junit.platform.engine.support.descriptor.MethodSource
import org.junit.platform.launcher.Launcher
import org.junit.platform.launcher.TestExecutionListener
import org.junit.platform.launcher.TestIdentifier
import org.junit.platform.launcher.TestPlan
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder
import org.junit.platform.launcher.core.LauncherFactory

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass

/**
 * Runs named spec classes through the JUnit Platform and reports them one line each, for places
 * where Surefire does not run: the qemu guest of tests/qemu, whose kernel has the IPVS the host
 * lacks. Usage: {@code GuestSpecLauncher CLASS...}.
 *
 * <p>Every test prints {@code VIGIL-TEST PASS|FAIL|SKIP <class> <name>}; a spec class or feature
 * that fails or is skipped as a whole (a failing {@code setupSpec}, a false {@code @Requires})
 * prints the same line with its own name, so nothing disappears silently. A failure is followed by
 * {@code VIGIL-TEST-DETAIL} lines with its stack trace; each spec class that ran prints
 * {@code VIGIL-TEST-TIME <class> seconds=S}. The last line is
 * {@code VIGIL-TEST-SUMMARY run=N passed=N failed=N skipped=N seconds=S}. The exit code is 0 when
 * at least one test ran and none failed, 1 when something failed, 2 when no test ran or a class
 * is missing.
 */
@CompileStatic
class GuestSpecLauncher {
    static final String PREFIX = 'VIGIL-TEST'

    static void main(String[] args) {
        if (args.length == 0) {
            System.err.println('usage: GuestSpecLauncher CLASS...')
            System.exit(2)
        }
        List<Class<?>> classes = []
        for (String name : args) {
            try {
                classes << Class.forName(name)
            } catch (ClassNotFoundException ignored) {
                println("${PREFIX} FAIL ${name} (class not found)")
                System.exit(2)
            }
        }
        System.exit(run(classes, System.out))
    }

    /** Runs {@code classes}, reports to {@code out} and returns the exit code described above. */
    static int run(List<Class<?>> classes, PrintStream out) {
        def request = LauncherDiscoveryRequestBuilder.request()
                .selectors(classes.collect { selectClass(it) })
                .build()
        Launcher launcher = LauncherFactory.create()
        def listener = new Listener(out)
        long t0 = System.nanoTime()
        launcher.execute(request, listener)
        double seconds = (System.nanoTime() - t0) / 1e9d
        int run = listener.passed + listener.failed
        out.println("${PREFIX}-SUMMARY run=${run} passed=${listener.passed} failed=${listener.failed} "
                + "skipped=${listener.skipped} seconds=${String.format('%.1f', seconds)}")
        out.flush()
        listener.failed > 0 ? 1 : run == 0 ? 2 : 0
    }

    /** Prints one line per test, and per container that fails or is skipped. */
    static class Listener implements TestExecutionListener {
        final PrintStream out
        int passed
        int failed
        int skipped
        TestPlan plan
        final Map<String, Long> started = [:]

        Listener(PrintStream out) {
            this.out = out
        }

        @Override
        void testPlanExecutionStarted(TestPlan testPlan) {
            plan = testPlan
        }

        @Override
        void executionStarted(TestIdentifier id) {
            if (id.source.orElse(null) instanceof ClassSource) {
                started[id.uniqueId] = System.nanoTime()
            }
        }

        @Override
        void executionSkipped(TestIdentifier id, String reason) {
            if (isEngine(id)) {
                return
            }
            skipped++
            line('SKIP', id, reason)
        }

        @Override
        void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (isEngine(id)) {
                if (result.status != TestExecutionResult.Status.SUCCESSFUL) {
                    failed++
                    out.println("${PREFIX} FAIL ${id.uniqueId} (test engine)")
                    detail(result)
                }
                return
            }
            Long t0 = started.remove(id.uniqueId)
            if (t0 != null) {
                out.println("${PREFIX}-TIME ${className(id)} seconds=${String.format('%.1f', (System.nanoTime() - t0) / 1e9d)}")
            }
            switch (result.status) {
                case TestExecutionResult.Status.SUCCESSFUL:
                    // A data-driven feature is a test and the container of its iterations: count the leaves.
                    if (id.test && (!id.container || plan == null || plan.getChildren(id).isEmpty())) {
                        passed++
                        line('PASS', id, null)
                    }
                    break
                case TestExecutionResult.Status.ABORTED:
                    // An assumption that did not hold: the test did not run, which is not a pass.
                    skipped++
                    line('SKIP', id, result.throwable.map { Throwable t -> t.message }.orElse('aborted'))
                    break
                default:
                    failed++
                    line('FAIL', id, null)
                    detail(result)
            }
        }

        private boolean isEngine(TestIdentifier id) {
            !id.parentId.present
        }

        private void line(String verdict, TestIdentifier id, String reason) {
            out.println("${PREFIX} ${verdict} ${className(id)} ${name(id)}" + (reason ? " (${oneLine(reason)})" : ''))
            out.flush()
        }

        private void detail(TestExecutionResult result) {
            Throwable t = result.throwable.orElse(null)
            if (t == null) {
                return
            }
            def text = new StringWriter()
            t.printStackTrace(new PrintWriter(text))
            int n = 0
            for (String l : text.toString().readLines()) {
                // The spec's own frames and the message matter; the framework's do not.
                if (n++ < 60 && !(l =~ /^\s+at (org\.junit|org\.spockframework|java\.base|org\.codehaus\.groovy|groovy\.lang)/)) {
                    out.println("${PREFIX}-DETAIL ${l}")
                }
            }
            out.flush()
        }

        private String className(TestIdentifier id) {
            def source = id.source.orElse(null)
            if (source instanceof ClassSource) {
                return ((ClassSource) source).className
            }
            if (source instanceof MethodSource) {
                return ((MethodSource) source).className
            }
            TestIdentifier parent = plan?.getParent(id)?.orElse(null)
            parent != null && !isEngine(parent) ? className(parent) : id.uniqueId
        }

        private String name(TestIdentifier id) {
            def source = id.source.orElse(null)
            // A class container is named by its class alone.
            source instanceof ClassSource ? '(spec)' : oneLine(id.displayName)
        }

        private static String oneLine(String s) {
            s.replaceAll(/\s*\n\s*/, ' ').trim()
        }
    }
}
