package dev.vigil.daemon.track;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The few libc calls scripts and FIFOs need that the JDK does not offer: signalling a whole process
 * group, and non-blocking FIFO I/O.
 */
public final class Posix {

    /** {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** {@code O_NONBLOCK}. */
    public static final int O_NONBLOCK = 0x800;
    /** {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 0x80000;
    /** {@code EAGAIN}. */
    public static final int EAGAIN = 11;
    /** {@code EEXIST}. */
    public static final int EEXIST = 17;
    /** {@code SIGKILL}. */
    public static final int SIGKILL = 9;
    /** {@code SIGTERM}. */
    public static final int SIGTERM = 15;

    /** The bound libc functions. */
    public interface C {
        @SaveError int kill(int pid, int sig);

        @SaveError int open(String path, int flags);

        @SaveError @ssize_t long write(int fd, @In byte[] buf, @size_t long count);

        @SaveError int close(int fd);

        @SaveError int mkfifo(String path, int mode);

        String strerror(int errnum);
    }

    private static final C LIBC = LibraryLoader.create(C.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Posix() {
    }

    /** The bound functions. */
    public static C c() {
        return LIBC;
    }

    /** errno of the calling thread's last bound call. */
    public static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /** The text for {@code errno}. */
    public static String strerror(int errno) {
        return LIBC.strerror(errno);
    }
}
