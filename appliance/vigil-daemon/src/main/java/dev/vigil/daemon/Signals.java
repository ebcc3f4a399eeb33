package dev.vigil.daemon;

import sun.misc.Signal;

/**
 * POSIX signal handlers. {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way
 * to replace the default handlers: without it SIGHUP would end the process and SIGTERM would
 * exit 143 before a graceful hand-over.
 */
final class Signals {

    private Signals() {
    }

    static void on(String name, Runnable handler) {
        Signal.handle(new Signal(name), s -> handler.run());
    }
}
