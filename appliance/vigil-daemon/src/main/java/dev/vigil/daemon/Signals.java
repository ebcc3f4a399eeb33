package dev.vigil.daemon;

import dev.vigil.kernel.linux.SignalDisposition;
import sun.misc.Signal;

import java.util.Map;

/**
 * POSIX signal handlers. {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way
 * to replace the default handlers: without it SIGHUP would end the process and SIGTERM would
 * exit 143 before a graceful hand-over. A signal the daemon inherited as ignored (started under
 * {@code nohup}) is made deliverable first ({@link SignalDisposition}), or the JVM would keep
 * ignoring it.
 */
final class Signals {

    private static final Map<String, Integer> NUMBERS = Map.of("HUP", 1, "INT", 2, "TERM", 15);

    private Signals() {
    }

    static void on(String name, Runnable handler) {
        Integer number = NUMBERS.get(name);
        if (number != null && SignalDisposition.unignore(number)) {
            Log.info("vigil", "SIG" + name + " was ignored when the daemon started (nohup?); it is handled again");
        }
        Signal.handle(new Signal(name), s -> handler.run());
    }
}
