package dev.vigil.kernel.linux;

/**
 * Undoes an inherited "ignore" of a signal. A process started under {@code nohup}, or by a
 * supervisor that ignores SIGHUP, inherits {@code SIG_IGN} for it (signal(7): ignored signals stay
 * ignored across execve), and the JVM then declines to install a handler for it: SIGHUP would never
 * reach the daemon and a reload would silently not happen. keepalived installs its handlers with
 * sigaction regardless of what it inherited; so does Vigil, by setting the disposition back to
 * {@code SIG_DFL} just before the JVM installs its own handler.
 */
public final class SignalDisposition {

    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;

    private SignalDisposition() {
    }

    /**
     * Sets signal {@code number} to its default disposition if it is ignored.
     *
     * @return whether it was ignored
     */
    public static boolean unignore(int number) {
        long old = LibC.INSTANCE.signal(number, SIG_DFL);
        if (old != SIG_IGN) {
            // It had a handler or the default: put that back as it was.
            LibC.INSTANCE.signal(number, old);
            return false;
        }
        return true;
    }
}
