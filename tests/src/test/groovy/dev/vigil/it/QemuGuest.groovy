package dev.vigil.it

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

/**
 * Boots the qemu guest of tests/qemu (Debian's kernel with IPVS, the host kernel has none) through
 * {@code tests/qemu/run-guest} and hands back its console. Shared by the specs that run something in
 * the guest; each boots it once in its {@code setupSpec}.
 */
final class QemuGuest {
    static final Path ROOT = Paths.get(System.getProperty('vigil.root', '..')).toAbsolutePath().normalize()
    static final Path RUN_GUEST = ROOT.resolve('tests/qemu/run-guest')

    private QemuGuest() {
    }

    /** What one boot printed and how it ended. */
    static class Run {
        /** Every console line (the guest's serial console, then run-guest's own report). */
        List<String> console = []
        /** run-guest's exit code: the guest script's, or 124/125 when the guest did not report one. */
        int exitCode
        /** Wall-clock seconds from the build of the initramfs to qemu's exit. */
        double seconds

        /** Short: the console is already on stdout as {@code [guest]} lines. */
        @Override
        String toString() {
            "run-guest exit ${exitCode} after ${String.format('%.0f', seconds)} s, ${console.size()} console lines"
        }
    }

    /** Root, qemu and the Debian tools the harness builds from; null when all are there. */
    static String unavailableReason() {
        if (['id', '-u'].execute().text.trim() != '0') {
            return 'the qemu guest needs root (apt-get download, device nodes in the initramfs)'
        }
        for (tool in ['apt-get', 'dpkg', 'gzip']) {
            if (['sh', '-c', "command -v ${tool}"].execute().waitFor() != 0) {
                return "${tool} is missing"
            }
        }
        if (['sh', '-c', 'command -v qemu-system-x86_64'].execute().waitFor() != 0) {
            // Where the build insists (CI as root), the harness installs qemu rather than skip.
            if (!Boolean.getBoolean('vigil.requireNetns')) {
                return 'qemu-system-x86_64 is missing (tests/qemu/run-guest --ensure-qemu installs it)'
            }
            def p = new ProcessBuilder(RUN_GUEST.toString(), '--ensure-qemu').inheritIO().start()
            if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return 'qemu-system-x86_64 is missing and could not be installed'
            }
        }
        null
    }

    /**
     * Whether the guest can be booted here. When not, says why loudly; with
     * {@code -Dvigil.requireNetns=true} (CI as root) it fails instead of skipping.
     */
    static boolean usable(String what) {
        String reason = unavailableReason()
        if (reason == null) {
            return true
        }
        System.err.println("*** SKIPPING ${what}: ${reason} ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${reason}")
        }
        false
    }

    /**
     * Boots the guest with {@code script} as its /guest/run.sh, echoing the console as
     * {@code [guest] ...} lines. {@code options} go to run-guest before the script (e.g.
     * {@code --tests MODULE}); {@code timeoutSeconds} bounds the guest, and the build on top of it.
     */
    static Run run(String script, List<String> options, int timeoutSeconds) {
        Path file = Files.createTempFile('vigil-guest-', '.sh')
        def run = new Run()
        long t0 = System.nanoTime()
        try {
            Files.writeString(file, script)
            def command = [RUN_GUEST.toString(), '--timeout', "${timeoutSeconds}".toString()] + options + [file.toString()]
            def p = new ProcessBuilder(command).redirectErrorStream(true).start()
            p.inputStream.eachLine { line ->
                System.out.println("[guest] ${line}")
                run.console << line
            }
            // The first build downloads a kernel and jlinks a runtime (about a minute) before the guest's own limit starts.
            if (!p.waitFor(timeoutSeconds + 600, TimeUnit.SECONDS)) {
                p.destroyForcibly()
                throw new IllegalStateException('run-guest did not finish')
            }
            run.exitCode = p.exitValue()
        } finally {
            Files.deleteIfExists(file)
        }
        run.seconds = (System.nanoTime() - t0) / 1e9d
        run
    }
}
