package dev.vigil.daemon.notify;

import dev.vigil.config.model.NotifyFifo;
import dev.vigil.daemon.track.EventLog;
import dev.vigil.daemon.track.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;

/**
 * One notify FIFO, used only from the dispatcher's FIFO thread.
 *
 * <p>The FIFO is created when missing (and removed again on close) and opened read-write and non-blocking,
 * as keepalived does: the open never waits for a reader, lines written before the reader (say a
 * {@code notify_fifo_script} still starting) opens it wait in the pipe, and a pipe that fills because
 * nobody reads makes the write fail at once with EAGAIN, which drops the line rather than stalling.
 * A line up to PIPE_BUF bytes is written atomically or not at all.
 */
final class FifoWriter {

    private static final String NAME = "notify_fifo";

    private final NotifyFifo config;
    private final EventLog log;
    private int fd = -1;
    private boolean created;
    private boolean failing;

    FifoWriter(NotifyFifo config, EventLog log) {
        this.config = config;
        this.log = log;
    }

    Path path() {
        return Path.of(config.path());
    }

    /** Creates (when missing) and opens the FIFO; false, logged, when it cannot be used. */
    boolean open() {
        Path p = path();
        if (fd >= 0) {
            return true;
        }
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            if (Posix.c().mkfifo(p.toString(), 0600) != 0 && Posix.errno() != Posix.EEXIST) {
                fail("cannot create FIFO " + p + ": " + Posix.strerror(Posix.errno()));
                return false;
            }
            created = true;
            setOwner(p);
        } else {
            try {
                if (!Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).isOther()) {
                    fail(p + " exists and is not a FIFO");
                    return false;
                }
            } catch (IOException e) {
                fail("cannot stat " + p + ": " + e.getMessage());
                return false;
            }
        }
        int f = Posix.c().open(p.toString(), Posix.O_RDWR | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (f < 0) {
            fail("cannot open FIFO " + p + ": " + Posix.strerror(Posix.errno()));
            return false;
        }
        fd = f;
        return true;
    }

    private void setOwner(Path p) {
        if (config.user() == null && config.group() == null) {
            return;
        }
        try {
            UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
            if (config.user() != null) {
                view.setOwner(users.lookupPrincipalByName(config.user()));
            }
            if (config.group() != null) {
                view.setGroup(users.lookupPrincipalByGroupName(config.group()));
            }
        } catch (IOException | UnsupportedOperationException e) {
            log.warn(NAME, "cannot give " + p + " to " + config.user() + ":" + config.group() + ": " + e.getMessage());
        }
    }

    /** Writes one line; false when it was dropped. */
    boolean write(byte[] line) {
        if (fd < 0 && !open()) {
            return false;
        }
        long n = Posix.c().write(fd, line, line.length);
        if (n == line.length) {
            if (failing) {
                failing = false;
                log.info(NAME, "writing to " + path() + " again");
            }
            return true;
        }
        int errno = Posix.errno();
        fail(n < 0 && errno == Posix.EAGAIN
                ? "FIFO " + path() + " is full (no reader?): dropping lines"
                : "write to " + path() + " failed: " + (n < 0 ? Posix.strerror(errno) : "short write " + n));
        return false;
    }

    /** Logs the first of a run of failures only: a FIFO nobody reads would otherwise log every line. */
    private void fail(String message) {
        if (!failing) {
            failing = true;
            log.warn(NAME, message);
        }
    }

    void close() {
        if (fd >= 0) {
            Posix.c().close(fd);
            fd = -1;
        }
        if (created) {
            try {
                Files.deleteIfExists(path());
            } catch (IOException e) {
                log.warn(NAME, "cannot remove " + path() + ": " + e.getMessage());
            }
            created = false;
        }
    }
}
