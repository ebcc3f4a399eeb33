package dev.vigil.daemon.event;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import dev.vigil.api.NotifierEvent;
import dev.vigil.daemon.Log;
import dev.vigil.daemon.track.EventLog;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the configured notifiers: one {@link Notifier.Sink} per {@link NotifierSpec}, each with a
 * delivery lane of its own, a virtual thread that takes the sink's events from a bounded queue and
 * delivers them one at a time, in the order they were published.
 *
 * <ul>
 *   <li><b>Never blocking.</b> {@link #accept} (the {@link EventBus} subscription) only queues: a
 *       full queue ({@value #QUEUE_CAPACITY} events) drops its oldest event, counted as
 *       {@code dropped}.</li>
 *   <li><b>Contained.</b> The sink is made ({@code create}) on its lane, so a slow plugin delays only
 *       its own events. Each {@code deliver} runs through {@link Contained} with the block's
 *       {@code timeout} plus {@link #GRACE}: a throw is a failure (its reason logged and kept as the
 *       last error); a delivery still running past the bound is abandoned, counted as failed and
 *       timed out, and the lane goes on with the next event.</li>
 *   <li><b>Reload.</b> {@link #configure} compares by name and {@link NotifierSpec#identity()}: an
 *       unchanged notifier keeps its sink, lane, queue and counters (its filter is updated); a
 *       changed one is replaced (the old lane delivers what it had queued, then closes its sink); a
 *       removed one is closed the same way; a new one starts.</li>
 * </ul>
 */
public final class NotifierHost implements EventBus.Subscriber, AutoCloseable {

    /** Events one notifier may have queued; past it the oldest is dropped. */
    public static final int QUEUE_CAPACITY = 1024;
    /** How much longer than its timeout a delivery is waited for before it is abandoned. */
    public static final Duration GRACE = Duration.ofSeconds(1);
    /** How long {@code create} and {@code close} of a sink may take. */
    static final Duration CALL_LIMIT = Duration.ofSeconds(5);

    private final NotifierTypes types;
    private final Clock clock;
    private final EventLog log;
    private final int capacity;
    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    private volatile List<Lane> active = List.of();
    private volatile String node = "";
    private boolean closed;

    /**
     * @param types the installed notifier types
     * @param clock the notifiers' clock
     * @param log   failures, starts and stops, one line each
     */
    public NotifierHost(NotifierTypes types, Clock clock, EventLog log) {
        this(types, clock, log, QUEUE_CAPACITY);
    }

    NotifierHost(NotifierTypes types, Clock clock, EventLog log, int capacity) {
        this.types = Objects.requireNonNull(types, "types");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.log = Objects.requireNonNull(log, "log");
        this.capacity = capacity;
    }

    /**
     * Makes the notifiers of a configuration (at start and on each reload), as described above.
     * Returns at once: sinks are made and closed on their lanes.
     *
     * @param node  the {@code router_id}, the notifiers' {@link NotifierContext#node()}
     * @param specs the checked notifiers; a type not installed is skipped (validation refused it already)
     */
    public synchronized void configure(String node, List<NotifierSpec> specs) {
        if (closed) {
            return;
        }
        this.node = Objects.requireNonNull(node, "node");
        Map<String, NotifierSpec> wanted = new LinkedHashMap<>();
        specs.forEach(s -> wanted.put(s.name(), s));
        for (var it = lanes.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            NotifierSpec next = wanted.get(e.getKey());
            Lane lane = e.getValue();
            if (next == null || !next.identity().equals(lane.spec.identity())) {
                it.remove();
                lane.finish(next == null ? "removed" : "changed");
            } else {
                lane.spec = next;
            }
        }
        for (NotifierSpec s : wanted.values()) {
            if (lanes.containsKey(s.name())) {
                continue;
            }
            var provider = types.provider(s.type());
            if (provider.isEmpty()) {
                log.log(Log.Level.ERROR, "notifier " + s.name(), "type " + s.type() + " is not installed; not started");
                continue;
            }
            Lane lane = new Lane(s, provider.get());
            lanes.put(s.name(), lane);
            lane.start();
        }
        active = List.copyOf(lanes.values());
    }

    /** Queues {@code event} for every notifier whose filter takes it; returns at once. */
    @Override
    public void accept(NotifierEvent event, LvsNotice lvs) {
        for (Lane lane : active) {
            if (lane.spec.filter().accepts(event)) {
                lane.offer(event);
            }
        }
    }

    /** The {@code notifiers} part of {@code vigil status}: per notifier its type, state and counters. */
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Lane lane : active) {
            out.put(lane.spec.name(), lane.status());
        }
        return out;
    }

    /** Waits until every lane has delivered (or given up on) what it has queued, up to {@code limit}; true when idle. */
    public boolean awaitIdle(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        for (Lane lane : active) {
            if (!lane.awaitIdle(deadline)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Stops: every lane delivers what it has queued within {@code limit} (the daemon's
     * {@code daemon.stop} among it), then its sink is closed; what is left is dropped and counted.
     */
    public void close(Duration limit) {
        List<Lane> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = List.copyOf(lanes.values());
            lanes.clear();
        }
        long deadline = System.nanoTime() + limit.toNanos();
        all.forEach(l -> l.finish("stopping"));
        for (Lane l : all) {
            l.join(deadline);
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /** One notifier: its sink, queue, thread and counters. */
    private final class Lane implements Runnable {
        volatile NotifierSpec spec;
        final NotifierTypes.Provider provider;
        final ArrayDeque<NotifierEvent> queue = new ArrayDeque<>();
        final AtomicLong delivered = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong timedOut = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        volatile String lastError;
        volatile Instant lastErrorAt;
        volatile String state = "STARTING";
        Thread thread;
        boolean finishing;
        boolean busy;

        Lane(NotifierSpec spec, NotifierTypes.Provider provider) {
            this.spec = spec;
            this.provider = provider;
        }

        String subject() {
            return "notifier " + spec.name();
        }

        void start() {
            thread = Thread.ofVirtual().name("vigil-notifier-" + spec.name()).start(this);
        }

        void offer(NotifierEvent e) {
            synchronized (queue) {
                if (finishing) {
                    dropped.incrementAndGet();
                    return;
                }
                if (queue.size() >= capacity) {
                    queue.pollFirst();
                    dropped.incrementAndGet();
                }
                queue.addLast(e);
                queue.notifyAll();
            }
        }

        /** No more events: the lane delivers what it holds, closes its sink and ends. */
        void finish(String why) {
            synchronized (queue) {
                finishing = true;
                queue.notifyAll();
            }
            log.log(Log.Level.DEBUG, subject(), why + ": closing after " + queueSize() + " queued event(s)");
        }

        int queueSize() {
            synchronized (queue) {
                return queue.size();
            }
        }

        @Override
        public void run() {
            Notifier.Sink sink = create();
            state = sink == null ? "FAILED" : "RUNNING";
            while (true) {
                NotifierEvent e;
                synchronized (queue) {
                    busy = false;
                    queue.notifyAll();
                    while (queue.isEmpty() && !finishing) {
                        try {
                            queue.wait();
                        } catch (InterruptedException ex) {
                            finishing = true;
                        }
                    }
                    if (queue.isEmpty()) {
                        break;
                    }
                    e = queue.pollFirst();
                    busy = true;
                }
                deliver(sink, e);
            }
            state = "CLOSED";
            if (sink != null) {
                try {
                    Contained.call(spec.name() + " close", provider.loader(), CALL_LIMIT, () -> {
                        sink.close();
                        return null;
                    });
                } catch (Contained.Failure f) {
                    log.warn(subject(), f.getMessage());
                }
            }
        }

        private Notifier.Sink create() {
            NotifierSpec s = spec;
            NotifierContext ctx = new Context(s.name(), s.block(), node, s.timeout(), clock,
                    System.getLogger("notifier " + s.name()));
            try {
                Notifier.Sink sink = Contained.call(s.name() + " create", provider.loader(), CALL_LIMIT,
                        () -> provider.extension().create(ctx));
                if (sink == null) {
                    fail("create returned no sink; its events are not delivered", false);
                    return null;
                }
                log.info(subject(), "started (type " + s.type() + (provider.pluginId().equals(NotifierTypes.BUILT_IN)
                        ? ", built in" : ", plugin " + provider.pluginId()) + ")");
                return sink;
            } catch (Contained.Failure f) {
                fail(f.getMessage() + "; its events are not delivered", false);
                return null;
            }
        }

        private void deliver(Notifier.Sink sink, NotifierEvent e) {
            if (sink == null) {
                failed.incrementAndGet();
                return;
            }
            NotifierSpec s = spec;
            try {
                Contained.call(s.name() + " deliver " + e.type(), provider.loader(), s.timeout().plus(GRACE), () -> {
                    sink.deliver(e);
                    return null;
                });
                delivered.incrementAndGet();
            } catch (Contained.Failure f) {
                failed.incrementAndGet();
                if (f.timedOut()) {
                    timedOut.incrementAndGet();
                }
                fail(e.type() + " not delivered: " + f.getMessage(), true);
            }
        }

        private void fail(String message, boolean delivery) {
            lastError = message;
            lastErrorAt = clock.instant();
            log.log(delivery ? Log.Level.WARN : Log.Level.ERROR, subject(), message);
        }

        boolean awaitIdle(long deadline) {
            synchronized (queue) {
                while (!queue.isEmpty() || busy) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || state.equals("CLOSED")) {
                        return queue.isEmpty() && !busy;
                    }
                    try {
                        queue.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return true;
            }
        }

        void join(long deadline) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0 && !thread.join(Duration.ofNanos(left))) {
                    thread.interrupt();
                }
                if (thread.isAlive()) {
                    thread.interrupt();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            int left;
            synchronized (queue) {
                left = queue.size();
                queue.clear();
            }
            if (left > 0) {
                dropped.addAndGet(left);
                log.warn(subject(), left + " event(s) not delivered before the stop; dropped");
            }
        }

        Map<String, Object> status() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", spec.type());
            m.put("plugin", provider.pluginId());
            m.put("state", state);
            m.put("delivered", delivered.get());
            m.put("failed", failed.get());
            m.put("timedOut", timedOut.get());
            m.put("dropped", dropped.get());
            m.put("queued", queueSize());
            m.put("lastError", lastError);
            m.put("lastErrorAt", lastErrorAt == null ? null : lastErrorAt.toString());
            return m;
        }
    }

    /** What one notifier is given. */
    private record Context(String name, ConfigBlock config, String node, Duration deliveryTimeout, Clock clock,
                           System.Logger logger) implements NotifierContext {
    }

    /** The lanes' names, for specs and logs. */
    synchronized List<String> names() {
        return new ArrayList<>(lanes.keySet());
    }
}
