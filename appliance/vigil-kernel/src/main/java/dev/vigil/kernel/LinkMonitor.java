package dev.vigil.kernel;

import java.util.List;
import java.util.function.Consumer;

/** Interface list and link up/down events (rtnetlink RTM_GETLINK dump and RTNLGRP_LINK). */
public interface LinkMonitor extends AutoCloseable {

    /** Current interfaces. */
    List<LinkInfo> links() throws KernelException;

    /**
     * Starts delivering a {@link LinkInfo} whenever an interface changes (the initial state is not
     * replayed: call {@link #links()} first). Delivered on a monitor thread; the
     * listener must not block.
     */
    void subscribe(Consumer<LinkInfo> listener) throws KernelException;

    /** Stops delivering to {@code listener} (the same instance given to {@link #subscribe}). */
    void unsubscribe(Consumer<LinkInfo> listener);

    @Override
    void close();
}
