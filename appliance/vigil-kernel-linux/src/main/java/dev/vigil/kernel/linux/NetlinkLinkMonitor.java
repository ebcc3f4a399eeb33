package dev.vigil.kernel.linux;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkMonitor;

/**
 * {@link LinkMonitor} over rtnetlink: RTM_GETLINK dumps and a socket joined to RTNLGRP_LINK,
 * read by one daemon thread ({@code netlink-link-monitor}). When the kernel drops notifications
 * ({@code ENOBUFS}) the links are dumped again and every one is delivered, so listeners converge
 * on the current state. Both sockets belong to the namespace of the constructing thread.
 */
public final class NetlinkLinkMonitor implements LinkMonitor {
    private static final System.Logger LOG = System.getLogger(NetlinkLinkMonitor.class.getName());
    private static final int POLL_MILLIS = 100;

    private final RtNetlink rtnl;
    private final NetlinkSocket events;
    private final List<Consumer<LinkInfo>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong resyncs = new AtomicLong();
    private volatile boolean closed;
    private Thread thread;

    /** Opens the request and event sockets in the calling thread's network namespace. */
    public NetlinkLinkMonitor() throws KernelException {
        this.rtnl = new RtNetlink("rtnetlink link requests");
        try {
            this.events = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, RtNetlink.RTMGRP_LINK,
                    "rtnetlink link monitor");
        } catch (KernelException e) {
            rtnl.close();
            throw e;
        }
    }

    @Override
    public List<LinkInfo> links() throws KernelException {
        return rtnl.links();
    }

    /** Adds a listener; the first one starts the monitor thread. */
    @Override
    public synchronized void subscribe(Consumer<LinkInfo> listener) throws KernelException {
        if (closed) {
            throw new KernelException("subscribe", 0, "link monitor is closed");
        }
        listeners.add(listener);
        if (thread == null) {
            thread = new Thread(this::run, "netlink-link-monitor");
            thread.setDaemon(true);
            thread.start();
        }
    }

    @Override
    public void unsubscribe(Consumer<LinkInfo> listener) {
        listeners.remove(listener);
    }

    /** Receive or decode failures seen by the monitor thread. */
    public long errors() {
        return errors.get();
    }

    /** Times notifications were lost and the link list was dumped again. */
    public long resyncs() {
        return resyncs.get();
    }

    private void run() {
        while (!closed) {
            try {
                if (!events.awaitReadable(POLL_MILLIS)) {
                    continue;
                }
                List<Netlink.Message> messages = events.receiveNow();
                if (messages == null) {
                    continue;
                }
                for (Netlink.Message m : messages) {
                    if (m.type() == RtNetlink.RTM_NEWLINK || m.type() == RtNetlink.RTM_DELLINK) {
                        deliver(RtNetlink.decodeLink(m));
                    }
                }
            } catch (KernelException e) {
                if (closed) {
                    return;
                }
                if (e.errno() == Sys.ENOBUFS) {
                    resync();
                } else {
                    errors.incrementAndGet();
                    LOG.log(Level.ERROR, "link monitor: " + e.getMessage(), e);
                }
            } catch (RuntimeException e) {
                errors.incrementAndGet();
                LOG.log(Level.ERROR, "link monitor: undecodable notification", e);
            } catch (OutOfMemoryError e) {
                // Another thread exhausted the heap for a moment; a lost notification is made
                // good by the next dump, a dead monitor thread never would be.
                errors.incrementAndGet();
                resyncAfterMemory = true;
            }
            if (resyncAfterMemory && !closed) {
                resyncAfterMemory = false;
                try {
                    resync();
                } catch (OutOfMemoryError e) {
                    errors.incrementAndGet();
                    resyncAfterMemory = true;
                }
            }
        }
    }

    private boolean resyncAfterMemory;

    private void resync() {
        resyncs.incrementAndGet();
        LOG.log(Level.WARNING, "link monitor: notifications lost (ENOBUFS), dumping links again");
        try {
            for (LinkInfo link : rtnl.links()) {
                deliver(link);
            }
        } catch (KernelException e) {
            errors.incrementAndGet();
            LOG.log(Level.ERROR, "link monitor: re-dump failed: " + e.getMessage(), e);
        }
    }

    private void deliver(LinkInfo link) {
        for (Consumer<LinkInfo> l : listeners) {
            try {
                l.accept(link);
            } catch (RuntimeException e) {
                errors.incrementAndGet();
                LOG.log(Level.ERROR, "link listener failed on " + link.name(), e);
            }
        }
    }

    /** Stops the monitor thread (within about {@value #POLL_MILLIS} ms) and closes both sockets. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        events.close();
        rtnl.close();
    }
}
