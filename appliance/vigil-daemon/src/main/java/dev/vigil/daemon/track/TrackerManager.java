package dev.vigil.daemon.track;

import dev.vigil.config.model.GlobalDefs;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.TrackFile;
import dev.vigil.config.model.TrackInterface;
import dev.vigil.config.model.TrackRef;
import dev.vigil.config.model.VrrpInstance;
import dev.vigil.config.model.VrrpScript;
import dev.vigil.config.model.VrrpSyncGroup;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkMonitor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs every tracker the configuration asks for ({@code vrrp_script}, {@code track_interface},
 * {@code track_file}, directly on instances or through their sync group) and pushes each instance's
 * complete {@link Tracking} to a {@link TrackingSink} whenever it changes.
 *
 * <p>Weights follow keepalived (KEEPALIVED.md §1.3–1.5): weight 0 makes a failed tracker a fault; a
 * positive weight is added while the tracker is OK; a negative weight is added (so subtracted) while it
 * has failed; {@code reverse} negates the contribution, and for weight 0 makes "OK" the fault condition.
 * A {@code track_file} contributes {@code value × weight} (weight 0: a non-zero value is a fault); a
 * contribution at or below -254 is also a fault. A script in its initial state contributes nothing.
 * Members of a sync group without {@code sync_group_tracking_weight} ignore weighted trackers, as
 * keepalived does, and the manager says so once.
 *
 * <p>Threads: each script runs on its own virtual thread; track files are polled every
 * {@value #FILE_POLL_MILLIS} ms on one daemon thread (a poll rather than inotify so that files replaced by
 * rename or through symlinks are seen the same way); link changes arrive on the link monitor's thread.
 * A reload is {@link #close()} and a new manager: close stops every thread and kills running scripts.
 */
public final class TrackerManager implements AutoCloseable {

    /** One listener instance, so that {@link #close()} can unsubscribe exactly it. */
    private final java.util.function.Consumer<LinkInfo> linkListener = this::linkChanged;

    static final long FILE_POLL_MILLIS = 200;

    private enum Kind {
        SCRIPT("script"), INTERFACE("interface"), FILE("file");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** One tracker as one instance sees it. */
    private record Binding(Kind kind, String name, int weight, boolean reverse) {
        String fault() {
            return kind.label + " " + name;
        }
    }

    /** A {@code track_file} and its last value read. */
    private static final class FileState {
        final TrackFile config;
        int value;

        FileState(TrackFile config) {
            this.config = config;
        }
    }

    /** Receives each tracker's change of state; called on tracker threads, must return at once. */
    @FunctionalInterface
    public interface ChangeListener {
        /**
         * @param tracker   {@code script chk_nginx}, {@code interface eth1} or {@code file maint}
         * @param from      the state before ({@code INIT}, {@code OK}, {@code FAILED}; {@code UP}, {@code DOWN};
         *                  a file's value)
         * @param to        the state now
         * @param instances the instances it counts for, comma-separated
         */
        void changed(String tracker, String from, String to, String instances);
    }

    /** A snapshot of one script for observers. */
    public record ScriptStats(String name, String status, long runs, long failures) {
    }

    private final LinkMonitor linkMonitor;
    private final TrackingSink sink;
    private final EventLog log;
    private final Map<String, List<Binding>> bindings = new LinkedHashMap<>();
    private final Map<String, ScriptTracker> scripts = new LinkedHashMap<>();
    private final Map<String, FileState> files = new LinkedHashMap<>();
    private final Map<String, Boolean> links = new HashMap<>();
    private final Map<String, Tracking> pushed = new HashMap<>();
    private final ChangeListener listener;
    private final Map<String, ScriptTracker.Status> scriptStates = new HashMap<>();
    private ScheduledExecutorService filePoller;
    private volatile boolean closed;
    /** Policies' marks: a script's or interface's name → up (true) or down, in place of its own state. */
    private Map<String, Boolean> marks = Map.of();

    /**
     * @param config      the configuration
     * @param linkMonitor link states for {@code track_interface}; may be {@code null} when nothing tracks an interface
     * @param sink        receives each instance's state on change (and once for every instance at start)
     * @param log         state changes, one line each
     */
    public TrackerManager(KeepalivedConfig config, LinkMonitor linkMonitor, TrackingSink sink, EventLog log) {
        this(config, linkMonitor, sink, log, (tracker, from, to, instances) -> { });
    }

    /**
     * @param listener told of every tracker's change of state (a script's result, a link, a file's value)
     */
    public TrackerManager(KeepalivedConfig config, LinkMonitor linkMonitor, TrackingSink sink, EventLog log,
                          ChangeListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.linkMonitor = linkMonitor;
        this.sink = Objects.requireNonNull(sink, "sink");
        this.log = Objects.requireNonNull(log, "log");
        Map<String, VrrpSyncGroup> groupOf = new HashMap<>();
        for (VrrpSyncGroup g : config.syncGroups()) {
            g.members().forEach(m -> groupOf.putIfAbsent(m, g));
        }
        for (VrrpInstance inst : config.vrrpInstances()) {
            List<Binding> list = new ArrayList<>();
            addAll(config, list, inst.trackInterfaces(), inst.trackScripts(), inst.trackFiles());
            VrrpSyncGroup group = groupOf.get(inst.name());
            if (group != null) {
                addAll(config, list, group.trackInterfaces(), group.trackScripts(), group.trackFiles());
                if (!group.syncGroupTrackingWeight()) {
                    for (Binding b : List.copyOf(list)) {
                        if (b.weight() != 0) {
                            list.remove(b);
                            log.warn(inst.name(), "ignoring " + b.kind().label + " " + b.name() + " with weight "
                                    + b.weight() + ": member of sync group " + group.name()
                                    + " without sync_group_tracking_weight");
                        }
                    }
                }
            }
            bindings.put(inst.name(), List.copyOf(list));
        }
        GlobalDefs g = config.globalDefs();
        for (List<Binding> list : bindings.values()) {
            for (Binding b : list) {
                switch (b.kind()) {
                    case SCRIPT -> scripts.computeIfAbsent(b.name(), n -> newScript(config.script(n).orElseThrow(), g));
                    case FILE -> files.computeIfAbsent(b.name(), n -> new FileState(trackFile(config, n)));
                    case INTERFACE -> links.put(b.name(), Boolean.FALSE);
                }
            }
        }
        if (!links.isEmpty() && linkMonitor == null) {
            throw new IllegalArgumentException("linkMonitor: null (expected: a monitor; interfaces are tracked: "
                    + new TreeSet<>(links.keySet()) + ")");
        }
    }

    private void addAll(KeepalivedConfig config, List<Binding> list, List<TrackInterface> ifs,
                        List<TrackRef> scriptRefs, List<TrackRef> fileRefs) {
        for (TrackInterface t : ifs) {
            add(list, new Binding(Kind.INTERFACE, t.name(), t.weight(), t.reverse()));
        }
        for (TrackRef r : scriptRefs) {
            VrrpScript s = config.script(r.name()).orElse(null);
            if (s == null) {
                log.warn(r.name(), "track_script refers to an unknown vrrp_script; ignored");
                continue;
            }
            add(list, r.weight() != null ? new Binding(Kind.SCRIPT, s.name(), r.weight(), r.reverse())
                    : new Binding(Kind.SCRIPT, s.name(), s.weight(), s.reverse() || r.reverse()));
        }
        for (TrackRef r : fileRefs) {
            TrackFile f = trackFile(config, r.name());
            if (f == null) {
                log.warn(r.name(), "track_file refers to an unknown track_file; ignored");
                continue;
            }
            add(list, r.weight() != null ? new Binding(Kind.FILE, f.name(), r.weight(), r.reverse())
                    : new Binding(Kind.FILE, f.name(), f.weight(), f.reverse() || r.reverse()));
        }
    }

    private static void add(List<Binding> list, Binding b) {
        // the same tracker named by the instance and by its group counts once, as the instance gave it
        if (list.stream().noneMatch(x -> x.kind() == b.kind() && x.name().equals(b.name()))) {
            list.add(b);
        }
    }

    private static TrackFile trackFile(KeepalivedConfig config, String name) {
        return config.trackFiles().stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    private ScriptTracker newScript(VrrpScript s, GlobalDefs g) {
        String user = s.user() != null ? s.user() : g.scriptUser();
        String group = s.user() != null ? s.group() : g.scriptGroup();
        ScriptCommand cmd = null;
        String error = null;
        try {
            cmd = ScriptCommand.parse(s.script(), user, group);
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
        }
        return new ScriptTracker(s, cmd, error, log, t -> {
            scriptChanged(t);
            recompute();
        });
    }

    /**
     * Reads the initial states, pushes every instance's state once, then starts scripts, the file poll
     * and the link subscription.
     *
     * @throws KernelException when the link list cannot be read
     */
    public synchronized void start() throws KernelException {
        for (FileState f : files.values()) {
            initFile(f.config);
            f.value = readValue(Path.of(f.config.file()));
        }
        if (!links.isEmpty()) {
            for (LinkInfo l : linkMonitor.links()) {
                links.computeIfPresent(l.name(), (k, v) -> l.up());
            }
            linkMonitor.subscribe(linkListener);
        }
        synchronized (scriptStates) {
            scripts.forEach((name, t) -> scriptStates.put(name, t.status()));
        }
        for (String inst : bindings.keySet()) {
            Tracking t = compute(inst);
            pushed.put(inst, t);
            sink.setTracking(inst, t.priorityDelta(), t.faults());
        }
        scripts.values().forEach(ScriptTracker::start);
        if (!files.isEmpty()) {
            filePoller = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("vigil-track-file").factory());
            filePoller.scheduleWithFixedDelay(this::pollFiles, FILE_POLL_MILLIS, FILE_POLL_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Sets the policies' marks (a tracker's name → up or down), which stand in for the state of the
     * {@code vrrp_script} or tracked interface of that name until cleared, and recomputes.
     */
    public void setMarks(Map<String, Boolean> marks) {
        synchronized (this) {
            this.marks = Map.copyOf(marks);
        }
        if (!bindings.isEmpty()) {
            recompute();
        }
    }

    /** Every tracker with its state ({@code UP}, {@code DOWN}, {@code INIT}), policies' marks applied. */
    public synchronized List<dev.vigil.dsl.TrackerView> views() {
        List<dev.vigil.dsl.TrackerView> out = new ArrayList<>();
        scripts.forEach((name, t) -> {
            Boolean mark = marks.get(name);
            ScriptTracker.Status st = t.status();
            String state = mark != null ? (mark ? "UP" : "DOWN") : st == ScriptTracker.Status.INIT ? "INIT"
                    : st == ScriptTracker.Status.OK ? "UP" : "DOWN";
            out.add(new dev.vigil.dsl.TrackerView(name, "script", state));
        });
        links.forEach((name, up) -> {
            Boolean mark = marks.get(name);
            out.add(new dev.vigil.dsl.TrackerView(name, "interface", (mark != null ? mark : Boolean.TRUE.equals(up)) ? "UP" : "DOWN"));
        });
        files.forEach((name, f) -> out.add(new dev.vigil.dsl.TrackerView(name, "file", f.value == 0 ? "UP" : "DOWN")));
        return out;
    }

    /** The state last pushed for each instance. */
    public synchronized Map<String, Tracking> current() {
        return Map.copyOf(pushed);
    }

    /** Each running script's status ({@code INIT}, {@code OK}, {@code FAILED}) and counts. */
    public List<ScriptStats> scripts() {
        return scripts.values().stream()
                .map(s -> new ScriptStats(s.name(), s.status().name(), s.runs(), s.failures())).toList();
    }

    private void initFile(TrackFile f) {
        if (!f.initFile()) {
            return;
        }
        Path p = Path.of(f.file());
        if (Files.exists(p) && !f.initOverwrite()) {
            return;
        }
        try {
            Files.writeString(p, f.initValue() + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            log.warn(f.name(), "cannot write init_file " + p + ": " + e.getMessage());
        }
    }

    /**
     * The integer at the start of {@code file}; 0 when the file is missing, unreadable or does not start
     * with a number (keepalived reads it with strtol, which yields 0 in those cases).
     */
    static int readValue(Path file) {
        String text;
        try {
            byte[] bytes = Files.readAllBytes(file);
            text = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return 0;
        }
        int end = 0;
        if (end < text.length() && (text.charAt(end) == '-' || text.charAt(end) == '+')) {
            end++;
        }
        int digits = end;
        while (end < text.length() && Character.isDigit(text.charAt(end))) {
            end++;
        }
        if (end == digits) {
            return 0;
        }
        try {
            return Integer.parseInt(text.substring(0, end));
        } catch (NumberFormatException e) {
            return text.charAt(0) == '-' ? Integer.MIN_VALUE : Integer.MAX_VALUE;
        }
    }

    private void pollFiles() {
        boolean changed = false;
        for (FileState f : files.values()) {
            if (closed) {
                return;
            }
            int v = readValue(Path.of(f.config.file()));
            synchronized (this) {
                if (v != f.value) {
                    log.info(f.config.name(), "value " + f.value + " -> " + v + " (" + f.config.file() + ")");
                    listener.changed(Kind.FILE.label + " " + f.config.name(), Integer.toString(f.value),
                            Integer.toString(v), instancesOf(Kind.FILE, f.config.name()));
                    f.value = v;
                    changed = true;
                }
            }
        }
        if (changed) {
            recompute();
        }
    }

    /** Tells the listener of a script whose status differs from the one told last (or its initial one). */
    private void scriptChanged(ScriptTracker t) {
        ScriptTracker.Status now = t.status();
        ScriptTracker.Status before;
        synchronized (scriptStates) {
            before = scriptStates.put(t.name(), now);
        }
        if (before != now && !closed) {
            listener.changed(Kind.SCRIPT.label + " " + t.name(), before.name(), now.name(), instancesOf(Kind.SCRIPT, t.name()));
        }
    }

    /** The instances a tracker counts for, comma-separated. */
    private String instancesOf(Kind kind, String name) {
        List<String> out = new ArrayList<>();
        bindings.forEach((inst, list) -> {
            if (list.stream().anyMatch(b -> b.kind() == kind && b.name().equals(name))) {
                out.add(inst);
            }
        });
        return String.join(",", out);
    }

    private void linkChanged(LinkInfo l) {
        if (closed) {
            return;
        }
        synchronized (this) {
            Boolean before = links.get(l.name());
            if (before == null || before == l.up()) {
                return;
            }
            links.put(l.name(), l.up());
            log.log(l.up() ? dev.vigil.daemon.Log.Level.INFO : dev.vigil.daemon.Log.Level.WARN, l.name(),
                    (before ? "UP" : "DOWN") + " -> " + (l.up() ? "UP" : "DOWN") + " (tracked interface)");
        }
        listener.changed(Kind.INTERFACE.label + " " + l.name(), l.up() ? "DOWN" : "UP", l.up() ? "UP" : "DOWN",
                instancesOf(Kind.INTERFACE, l.name()));
        recompute();
    }

    private synchronized void recompute() {
        if (closed) {
            return;
        }
        for (String inst : bindings.keySet()) {
            Tracking t = compute(inst);
            if (!t.equals(pushed.get(inst))) {
                pushed.put(inst, t);
                sink.setTracking(inst, t.priorityDelta(), t.faults());
            }
        }
    }

    private Tracking compute(String inst) {
        long delta = 0;
        TreeSet<String> faults = new TreeSet<>();
        for (Binding b : bindings.get(inst)) {
            switch (b.kind()) {
                case SCRIPT -> {
                    Boolean mark = marks.get(b.name());
                    ScriptTracker.Status s = scripts.get(b.name()).status();
                    if (mark != null) {
                        delta += binary(b, mark, faults);
                    } else if (s != ScriptTracker.Status.INIT) {
                        delta += binary(b, s == ScriptTracker.Status.OK, faults);
                    }
                }
                case INTERFACE -> delta += binary(b, marks.getOrDefault(b.name(), links.get(b.name())), faults);
                case FILE -> {
                    int value = files.get(b.name()).value;
                    if (b.weight() == 0) {
                        if ((value != 0) != b.reverse()) {
                            faults.add(b.fault());
                        }
                    } else {
                        long c = (long) value * b.weight() * (b.reverse() ? -1 : 1);
                        c = Math.max(-254, Math.min(254, c));
                        if (c <= -254) {
                            faults.add(b.fault());
                        }
                        delta += c;
                    }
                }
            }
        }
        return new Tracking((int) Math.max(-1000, Math.min(1000, delta)), faults);
    }

    /** The contribution of an up/down tracker; adds the fault for weight 0. */
    private static int binary(Binding b, boolean up, TreeSet<String> faults) {
        int signed = b.reverse() ? -b.weight() : b.weight();
        if (b.weight() == 0) {
            if (up == b.reverse()) {
                faults.add(b.fault());
            }
            return 0;
        }
        if (b.weight() > 0) {
            return up ? signed : 0;
        }
        return up ? 0 : signed;
    }

    /** Stops scripts (killing any that run), the file poll and link handling. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (!links.isEmpty()) {
            linkMonitor.unsubscribe(linkListener);
        }
        // interrupt every script first so that their kills and exits overlap, then wait for each
        scripts.values().forEach(ScriptTracker::stop);
        scripts.values().forEach(ScriptTracker::close);
        if (filePoller != null) {
            filePoller.shutdownNow();
            try {
                filePoller.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
