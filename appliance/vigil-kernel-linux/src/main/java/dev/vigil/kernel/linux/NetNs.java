package dev.vigil.kernel.linux;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import dev.vigil.kernel.KernelException;

/**
 * Runs code inside a named network namespace ({@code /var/run/netns/NAME}, as made by
 * {@code ip netns add}). {@code setns} affects only the calling thread, so each call uses a fresh
 * platform thread that enters the namespace and ends with the task. Sockets created there stay in
 * that namespace and may be used from any thread afterwards.
 */
public final class NetNs {
    private NetNs() {
    }

    /** Calls {@code task} on a new thread inside namespace {@code name} and returns its result. */
    public static <T> T call(String name, Callable<T> task) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                enter(name);
                result.set(task.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "netns-" + name);
        t.setDaemon(true);
        t.start();
        t.join();
        Throwable e = failure.get();
        if (e instanceof Exception ex) {
            throw ex;
        }
        if (e instanceof Error err) {
            throw err;
        }
        return result.get();
    }

    /** Moves the calling thread into namespace {@code name}. */
    private static void enter(String name) throws KernelException {
        String path = "/var/run/netns/" + name;
        int fd = (int) Sys.check("open", Sys.C.open(path, Sys.O_RDONLY | Sys.O_CLOEXEC), path);
        int rc = Sys.C.setns(fd, Sys.CLONE_NEWNET);
        int setnsErrno = rc < 0 ? Sys.errno() : 0;
        int closed = Sys.C.close(fd);
        int closeErrno = closed < 0 ? Sys.errno() : 0;
        if (rc < 0) {
            throw Sys.failure("setns", setnsErrno, path);
        }
        if (closed < 0) {
            throw Sys.failure("close", closeErrno, path);
        }
    }
}
