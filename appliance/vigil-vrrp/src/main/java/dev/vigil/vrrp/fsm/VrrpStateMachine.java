package dev.vigil.vrrp.fsm;

import dev.vigil.vrrp.codec.VrrpCodec;
import dev.vigil.vrrp.fsm.VrrpAction.AddVips;
import dev.vigil.vrrp.fsm.VrrpAction.AdvertIgnored;
import dev.vigil.vrrp.fsm.VrrpAction.AnnounceVips;
import dev.vigil.vrrp.fsm.VrrpAction.ArmTimer;
import dev.vigil.vrrp.fsm.VrrpAction.CancelTimer;
import dev.vigil.vrrp.fsm.VrrpAction.RemoveVips;
import dev.vigil.vrrp.fsm.VrrpAction.SendAdvert;
import dev.vigil.vrrp.fsm.VrrpAction.Transition;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The VRRP state machine of one instance (RFC 5798 §6.4, RFC 3768 §6.4, keepalived's FAULT state).
 * {@link #handle(VrrpEvent, long)} takes one event and the current time and returns the actions to
 * perform, in order. Not thread-safe: one caller thread per machine.
 *
 * <h2>Transitions</h2>
 * <table>
 * <caption>State, event, condition, actions, next state</caption>
 * <tr><th>state</th><th>event</th><th>condition</th><th>actions</th><th>next</th></tr>
 * <tr><td>INIT</td><td>Startup</td><td>a fault is set</td><td>-</td><td>FAULT</td></tr>
 * <tr><td>INIT</td><td>Startup</td><td>priority 255, state not BACKUP (§6.4.1)</td>
 *     <td>become MASTER (below)</td><td>MASTER</td></tr>
 * <tr><td>INIT</td><td>Startup</td><td>otherwise (§6.4.1)</td>
 *     <td>Master_Adver_Interval = Advertisement_Interval; arm MASTER_DOWN(Master_Down_Interval)</td><td>BACKUP</td></tr>
 * <tr><td>BACKUP</td><td>MasterDownTimerExpired</td><td>(§6.4.2)</td><td>become MASTER</td><td>MASTER</td></tr>
 * <tr><td>BACKUP</td><td>AdvertReceived</td><td>priority 0 (§6.4.2)</td><td>arm MASTER_DOWN(Skew_Time)</td><td>BACKUP</td></tr>
 * <tr><td>BACKUP</td><td>AdvertReceived</td><td>not preempting, or priority &ge; local, or inside
 *     preempt_delay (§6.4.2)</td><td>v3: adopt the advert's interval; arm MASTER_DOWN(Master_Down_Interval)</td><td>BACKUP</td></tr>
 * <tr><td>BACKUP</td><td>AdvertReceived</td><td>lower priority, preempting (§6.4.2)</td>
 *     <td>ignore: the timer runs out</td><td>BACKUP</td></tr>
 * <tr><td>MASTER</td><td>AdvertTimerExpired</td><td>(§6.4.3)</td><td>send advert; arm ADVERT</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>AdvertReceived</td><td>priority 0 (§6.4.3)</td><td>send advert; arm ADVERT</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>AdvertReceived</td><td>higher priority, or equal and higher source address (§6.4.3)</td>
 *     <td>cancel ADVERT and GARP timers; remove VIPs; v3: adopt the advert's interval; arm MASTER_DOWN</td><td>BACKUP</td></tr>
 * <tr><td>MASTER</td><td>AdvertReceived</td><td>lower (or equal from a lower address)</td>
 *     <td>unless lower_prio_no_advert: send advert, arm ADVERT; announce VIPs (garp_lower_prio_repeat)</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>Garp*Expired</td><td></td><td>announce VIPs; refresh re-arms itself</td><td>MASTER</td></tr>
 * <tr><td>BACKUP</td><td>LinkDown / FaultRaised</td><td></td><td>cancel MASTER_DOWN</td><td>FAULT</td></tr>
 * <tr><td>MASTER</td><td>LinkDown / FaultRaised</td><td></td>
 *     <td>cancel timers; send advert priority 0; remove VIPs</td><td>FAULT</td></tr>
 * <tr><td>FAULT</td><td>LinkUp / FaultCleared</td><td>no fault left</td><td>as Startup</td><td>BACKUP or MASTER</td></tr>
 * <tr><td>MASTER</td><td>PriorityChanged</td><td>another value</td><td>send advert; arm ADVERT</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>SyncBackup</td><td>(sync group member left MASTER)</td>
 *     <td>as on a higher priority advert, without priority 0</td><td>BACKUP</td></tr>
 * <tr><td>BACKUP</td><td>SyncMaster</td><td>(sync group goes MASTER)</td><td>become MASTER</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>Reconfigure</td><td>interval or GARP refresh changed</td>
 *     <td>re-arm ADVERT / GARP_REFRESH</td><td>MASTER</td></tr>
 * <tr><td>MASTER</td><td>Shutdown</td><td>(§6.4.3)</td><td>cancel timers; send advert priority 0; remove VIPs</td><td>INIT</td></tr>
 * <tr><td>BACKUP, FAULT</td><td>Shutdown</td><td>(§6.4.2)</td><td>cancel MASTER_DOWN</td><td>INIT</td></tr>
 * </table>
 *
 * <p>Becoming MASTER (§6.4.2, keepalived order): send an advert first, so the old master drops its
 * addresses before ours are announced; add VIPs; announce them {@code garp_master_repeat} times;
 * arm ADVERT, GARP_DELAY (second burst, unless 0) and GARP_REFRESH (unless 0). Every change of
 * state ends its action list with a {@link Transition}.
 *
 * <p>Timers: Skew_Time and Master_Down_Interval as in {@link VrrpTimers}, from the effective
 * priority; a version 3 BACKUP uses the interval the master advertises, a version 2 one its own
 * (the receive checks drop version 2 adverts with another interval). A MASTER always sends at its
 * own Advertisement_Interval.
 *
 * <p>preempt_delay (keepalived): the first lower-priority advert a preempting BACKUP hears opens a
 * window of {@code preemptDelay} during which such adverts still reset the timer; after it they are
 * ignored and the down timer takes the instance to MASTER. An advert of higher or equal priority
 * closes the window.
 */
public final class VrrpStateMachine {

    private MachineConfig config;
    private final InetAddress localAddress;
    private long advertIntervalNanos;
    private final Set<String> faults = new LinkedHashSet<>();

    private VrrpState state = VrrpState.INIT;
    private int priority;
    private long masterAdverIntervalNanos;
    private InetAddress masterAddress;
    private int masterPriority;
    private boolean preemptWindowOpen;
    private long preemptWindowEnd;
    // The steady state (a BACKUP resetting its down timer, a MASTER sending) returns the same
    // actions advert after advert; they are immutable, so they are built once per value.
    private List<VrrpAction> downTimerActions = List.of();
    private long downTimerNanos = -1;
    private List<VrrpAction> advertActions = List.of();
    private int advertActionsPriority = -1;

    /**
     * @param config       the instance's configuration
     * @param localAddress the primary address adverts are sent from (the tie-break of RFC 5798 §6.4.3)
     */
    public VrrpStateMachine(MachineConfig config, InetAddress localAddress) {
        this.config = Objects.requireNonNull(config, "config");
        this.localAddress = Objects.requireNonNull(localAddress, "localAddress");
        this.advertIntervalNanos = config.advertInterval().toNanos();
        this.priority = config.priority();
        this.masterAdverIntervalNanos = advertIntervalNanos;
    }

    public MachineConfig config() {
        return config;
    }

    public VrrpState state() {
        return state;
    }

    /** The priority in use: the base priority adjusted by {@link VrrpEvent.PriorityChanged}. */
    public int effectivePriority() {
        return priority;
    }

    /** RFC 5798 §6.1 Master_Adver_Interval. */
    public long masterAdverIntervalNanos() {
        return masterAdverIntervalNanos;
    }

    /** Skew_Time for the current priority and Master_Adver_Interval. */
    public long skewNanos() {
        return VrrpTimers.skewNanos(config.version(), priority, masterAdverIntervalNanos);
    }

    /** Master_Down_Interval for the current priority and Master_Adver_Interval. */
    public long masterDownIntervalNanos() {
        return VrrpTimers.masterDownNanos(config.version(), priority, masterAdverIntervalNanos, config.downTimerAdverts());
    }

    /** The current master: our own address when MASTER, the last accepted sender when BACKUP, else {@code null}. */
    public InetAddress masterAddress() {
        return switch (state) {
            case MASTER -> localAddress;
            case BACKUP -> masterAddress;
            default -> null;
        };
    }

    /** Priority of the last advert accepted from the master (0 when none). */
    public int masterPriority() {
        return state == VrrpState.MASTER ? priority : masterPriority;
    }

    /** The faults holding the instance in FAULT (or that will, at startup). */
    public Set<String> faults() {
        return Collections.unmodifiableSet(faults);
    }

    /** Handles one event at {@code nowNanos} (any monotonic origin) and returns the actions to perform. */
    public List<VrrpAction> handle(VrrpEvent event, long nowNanos) {
        return switch (event) {
            case VrrpEvent.Startup s -> startup();
            case VrrpEvent.Shutdown s -> shutdown(s.cause());
            case VrrpEvent.AdvertReceived r -> advert(r.priority(), r.advertIntervalNanos(), r.source(), nowNanos);
            case VrrpEvent.MasterDownTimerExpired e -> state == VrrpState.BACKUP
                    ? becomeMaster(VrrpState.BACKUP, "master down timer expired") : List.of();
            case VrrpEvent.AdvertTimerExpired e -> state == VrrpState.MASTER ? advertNow() : List.of();
            case VrrpEvent.GarpDelayExpired e -> state == VrrpState.MASTER && config.garp().masterRepeat() > 0
                    ? List.of(new AnnounceVips(config.garp().masterRepeat())) : List.of();
            case VrrpEvent.GarpRefreshExpired e -> state == VrrpState.MASTER
                    ? List.of(new AnnounceVips(config.garp().masterRefreshRepeat()),
                    new ArmTimer(TimerKind.GARP_REFRESH, config.garp().masterRefresh().toNanos())) : List.of();
            case VrrpEvent.LinkDown l -> faultRaised("link " + l.ifname() + " down");
            case VrrpEvent.LinkUp l -> faultCleared("link " + l.ifname() + " down", "link " + l.ifname() + " up");
            case VrrpEvent.FaultRaised f -> faultRaised(f.reason());
            case VrrpEvent.FaultCleared f -> faultCleared(f.reason(), "fault cleared: " + f.reason());
            case VrrpEvent.PriorityChanged p -> priorityChanged(p.priority());
            case VrrpEvent.Reconfigure r -> reconfigure(r.config());
            case VrrpEvent.SyncBackup b -> state == VrrpState.MASTER ? masterToBackup(b.cause()) : List.of();
            case VrrpEvent.SyncMaster m -> state == VrrpState.BACKUP ? becomeMaster(VrrpState.BACKUP, m.cause()) : List.of();
        };
    }

    // RFC 5798 §6.4.1
    private List<VrrpAction> startup() {
        if (state != VrrpState.INIT) {
            return List.of();
        }
        return initialize(VrrpState.INIT, "startup");
    }

    private List<VrrpAction> initialize(VrrpState from, String cause) {
        masterAdverIntervalNanos = advertIntervalNanos;
        masterAddress = null;
        masterPriority = 0;
        preemptWindowOpen = false;
        if (!faults.isEmpty()) {
            state = VrrpState.FAULT;
            return List.of(new Transition(from, VrrpState.FAULT, cause + " with fault: " + faults.iterator().next()));
        }
        // RFC 5798 §6.4.1: the owner goes straight to MASTER.
        if (priority == MachineConfig.OWNER_PRIORITY && config.initialState() != VrrpState.BACKUP) {
            return becomeMaster(from, from == VrrpState.INIT ? "priority 255 address owner at startup" : cause);
        }
        state = VrrpState.BACKUP;
        return List.of(new ArmTimer(TimerKind.MASTER_DOWN, masterDownIntervalNanos()),
                new Transition(from, VrrpState.BACKUP, cause));
    }

    private List<VrrpAction> shutdown(String cause) {
        VrrpState from = state;
        state = VrrpState.INIT;
        return switch (from) {
            case INIT -> List.of();
            // RFC 5798 §6.4.3: cancel Adver_Timer, send an advert with priority 0.
            case MASTER -> leaveMaster(VrrpState.INIT, cause);
            // RFC 5798 §6.4.2: cancel Master_Down_Timer.
            case BACKUP -> List.of(new CancelTimer(TimerKind.MASTER_DOWN), new Transition(from, VrrpState.INIT, cause));
            case FAULT -> List.of(new Transition(from, VrrpState.INIT, cause));
        };
    }

    /**
     * {@link VrrpEvent.AdvertReceived} without the event object: what the receive path calls for
     * every advert, so that hearing the master allocates nothing.
     */
    public List<VrrpAction> advert(int advertPriority, long intervalNanos, InetAddress source, long now) {
        if (state != VrrpState.BACKUP && state != VrrpState.MASTER) {
            return List.of();
        }
        if (source.equals(localAddress)) {
            return List.of(new AdvertIgnored("advert from our own address " + source.getHostAddress()));
        }
        return state == VrrpState.BACKUP ? backupReceived(advertPriority, intervalNanos, source, now)
                : masterReceived(advertPriority, intervalNanos, source);
    }

    // RFC 5798 §6.4.2 / RFC 3768 §6.4.2
    private List<VrrpAction> backupReceived(int advertPriority, long intervalNanos, InetAddress source, long now) {
        if (advertPriority == 0) {
            // The master is stopping: take over after Skew_Time.
            return List.of(new ArmTimer(TimerKind.MASTER_DOWN, skewNanos()));
        }
        boolean accept = !config.preempt() || advertPriority >= priority;
        if (!accept && !config.preemptDelay().isZero()) {
            if (!preemptWindowOpen) {
                preemptWindowOpen = true;
                preemptWindowEnd = now + config.preemptDelay().toNanos();
            }
            accept = now - preemptWindowEnd < 0;
        } else if (advertPriority >= priority) {
            preemptWindowOpen = false;
        }
        if (!accept) {
            return List.of(new AdvertIgnored("lower priority " + advertPriority + " advert from "
                    + source.getHostAddress() + ", preempting"));
        }
        masterAddress = source;
        masterPriority = advertPriority;
        if (config.version() == 3) {
            // RFC 5798 §6.4.2: Master_Adver_Interval = the advert's interval; recompute the timers.
            masterAdverIntervalNanos = intervalNanos;
        }
        return downTimer(masterDownIntervalNanos());
    }

    // RFC 5798 §6.4.3 / RFC 3768 §6.4.3
    private List<VrrpAction> masterReceived(int advertPriority, long intervalNanos, InetAddress source) {
        if (advertPriority == 0) {
            return advertNow();
        }
        int cmp = Integer.compare(advertPriority, priority);
        if (cmp > 0 || cmp == 0 && VrrpCodec.compareAddresses(source, localAddress) > 0) {
            masterAddress = source;
            masterPriority = advertPriority;
            if (config.version() == 3) {
                masterAdverIntervalNanos = intervalNanos;
            }
            return masterToBackup(cmp > 0
                    ? "higher priority " + advertPriority + " advert from " + source.getHostAddress()
                    : "equal priority " + advertPriority + " advert from higher address " + source.getHostAddress());
        }
        // Lower priority (or equal from a lower address): keepalived answers at once so the other
        // side sees a higher-priority master and backs off, then re-announces our addresses.
        List<VrrpAction> actions = new ArrayList<>(3);
        if (!config.lowerPrioNoAdvert()) {
            actions.add(new SendAdvert(priority));
            actions.add(armAdvert());
        }
        if (config.garp().lowerPrioRepeat() > 0) {
            actions.add(new AnnounceVips(config.garp().lowerPrioRepeat()));
        }
        return List.copyOf(actions);
    }

    /** MASTER to BACKUP without priority 0 (RFC 5798 §6.4.3: another router is master). */
    private List<VrrpAction> masterToBackup(String cause) {
        state = VrrpState.BACKUP;
        return List.of(new CancelTimer(TimerKind.ADVERT), new CancelTimer(TimerKind.GARP_DELAY),
                new CancelTimer(TimerKind.GARP_REFRESH), new RemoveVips(),
                new ArmTimer(TimerKind.MASTER_DOWN, masterDownIntervalNanos()),
                new Transition(VrrpState.MASTER, VrrpState.BACKUP, cause));
    }

    private List<VrrpAction> becomeMaster(VrrpState from, String cause) {
        state = VrrpState.MASTER;
        preemptWindowOpen = false;
        GarpSettings garp = config.garp();
        List<VrrpAction> actions = new ArrayList<>(7);
        actions.add(new SendAdvert(priority));
        actions.add(new AddVips());
        if (garp.masterRepeat() > 0) {
            actions.add(new AnnounceVips(garp.masterRepeat()));
        }
        actions.add(armAdvert());
        if (!garp.masterDelay().isZero()) {
            actions.add(new ArmTimer(TimerKind.GARP_DELAY, garp.masterDelay().toNanos()));
        }
        if (!garp.masterRefresh().isZero()) {
            actions.add(new ArmTimer(TimerKind.GARP_REFRESH, garp.masterRefresh().toNanos()));
        }
        actions.add(new Transition(from, VrrpState.MASTER, cause));
        return List.copyOf(actions);
    }

    /** MASTER to FAULT or INIT: stop the timers, tell the others with priority 0, drop the addresses. */
    private List<VrrpAction> leaveMaster(VrrpState to, String cause) {
        state = to;
        return List.of(new CancelTimer(TimerKind.ADVERT), new CancelTimer(TimerKind.GARP_DELAY),
                new CancelTimer(TimerKind.GARP_REFRESH), new SendAdvert(0), new RemoveVips(),
                new Transition(VrrpState.MASTER, to, cause));
    }

    private List<VrrpAction> faultRaised(String reason) {
        boolean first = faults.isEmpty();
        faults.add(reason);
        if (!first) {
            return List.of();
        }
        String cause = "fault: " + reason;
        return switch (state) {
            case INIT, FAULT -> List.of();
            case MASTER -> leaveMaster(VrrpState.FAULT, cause);
            case BACKUP -> {
                state = VrrpState.FAULT;
                yield List.of(new CancelTimer(TimerKind.MASTER_DOWN), new Transition(VrrpState.BACKUP, VrrpState.FAULT, cause));
            }
        };
    }

    private List<VrrpAction> faultCleared(String reason, String cause) {
        if (!faults.remove(reason) || !faults.isEmpty() || state != VrrpState.FAULT) {
            return List.of();
        }
        return initialize(VrrpState.FAULT, cause);
    }

    private List<VrrpAction> priorityChanged(int newPriority) {
        int old = priority;
        priority = newPriority;
        // A MASTER whose priority changes tells the others at once: a preempting BACKUP need not
        // wait for the next advert to take over, and after a rise no BACKUP preempts on stale news.
        if (state == VrrpState.MASTER && newPriority != old) {
            return advertNow();
        }
        return List.of();
    }

    private List<VrrpAction> reconfigure(MachineConfig next) {
        if (next.vrid() != config.vrid() || next.version() != config.version()) {
            throw new IllegalArgumentException("reconfigure: vrid " + next.vrid() + " version " + next.version()
                    + " (expected: vrid " + config.vrid() + " version " + config.version() + ")");
        }
        MachineConfig old = config;
        config = next;
        advertIntervalNanos = next.advertInterval().toNanos();
        if (state != VrrpState.MASTER && (config.version() == 2 || state != VrrpState.BACKUP)) {
            // Version 2 always times the master with its own interval (RFC 3768 §6.1); a version 3
            // BACKUP keeps the one it learnt from the master.
            masterAdverIntervalNanos = advertIntervalNanos;
        }
        if (state != VrrpState.MASTER) {
            return List.of();
        }
        List<VrrpAction> actions = new ArrayList<>(2);
        if (!old.advertInterval().equals(next.advertInterval())) {
            actions.add(armAdvert());
        }
        if (!old.garp().masterRefresh().equals(next.garp().masterRefresh())) {
            actions.add(next.garp().masterRefresh().isZero() ? new CancelTimer(TimerKind.GARP_REFRESH)
                    : new ArmTimer(TimerKind.GARP_REFRESH, next.garp().masterRefresh().toNanos()));
        }
        return List.copyOf(actions);
    }

    private List<VrrpAction> advertNow() {
        if (advertActionsPriority != priority || !(advertActions.get(1) instanceof ArmTimer t)
                || t.delayNanos() != advertIntervalNanos) {
            advertActions = List.of(new SendAdvert(priority), armAdvert());
            advertActionsPriority = priority;
        }
        return advertActions;
    }

    private List<VrrpAction> downTimer(long nanos) {
        if (nanos != downTimerNanos) {
            downTimerActions = List.of(new ArmTimer(TimerKind.MASTER_DOWN, nanos));
            downTimerNanos = nanos;
        }
        return downTimerActions;
    }

    private ArmTimer armAdvert() {
        return new ArmTimer(TimerKind.ADVERT, advertIntervalNanos);
    }
}
