package dev.vigil.kernel;

import java.io.IOException;

/** A kernel call failed. Carries the call that failed and its errno (0 when not an errno failure). */
public final class KernelException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    public KernelException(String call, int errno, String message) {
        super(call + ": " + message + (errno != 0 ? " (errno " + errno + ")" : ""));
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
