package dev.vigil.vrrp.fsm

import dev.vigil.vrrp.codec.VrrpAdvert
import dev.vigil.vrrp.fsm.VrrpAction.AddVips
import dev.vigil.vrrp.fsm.VrrpAction.AdvertIgnored
import dev.vigil.vrrp.fsm.VrrpAction.AnnounceVips
import dev.vigil.vrrp.fsm.VrrpAction.ArmTimer
import dev.vigil.vrrp.fsm.VrrpAction.CancelTimer
import dev.vigil.vrrp.fsm.VrrpAction.RemoveVips
import dev.vigil.vrrp.fsm.VrrpAction.SendAdvert
import dev.vigil.vrrp.fsm.VrrpAction.Transition
import dev.vigil.vrrp.fsm.VrrpEvent.AdvertReceived
import dev.vigil.vrrp.fsm.VrrpEvent.AdvertTimerExpired
import dev.vigil.vrrp.fsm.VrrpEvent.FaultCleared
import dev.vigil.vrrp.fsm.VrrpEvent.FaultRaised
import dev.vigil.vrrp.fsm.VrrpEvent.GarpDelayExpired
import dev.vigil.vrrp.fsm.VrrpEvent.GarpRefreshExpired
import dev.vigil.vrrp.fsm.VrrpEvent.LinkDown
import dev.vigil.vrrp.fsm.VrrpEvent.LinkUp
import dev.vigil.vrrp.fsm.VrrpEvent.MasterDownTimerExpired
import dev.vigil.vrrp.fsm.VrrpEvent.PriorityChanged
import dev.vigil.vrrp.fsm.VrrpEvent.Shutdown
import dev.vigil.vrrp.fsm.VrrpEvent.Startup
import spock.lang.Specification

import java.time.Duration

import static dev.vigil.vrrp.fsm.TimerKind.ADVERT
import static dev.vigil.vrrp.fsm.TimerKind.GARP_DELAY
import static dev.vigil.vrrp.fsm.TimerKind.GARP_REFRESH
import static dev.vigil.vrrp.fsm.TimerKind.MASTER_DOWN
import static dev.vigil.vrrp.fsm.VrrpState.BACKUP
import static dev.vigil.vrrp.fsm.VrrpState.FAULT
import static dev.vigil.vrrp.fsm.VrrpState.INIT
import static dev.vigil.vrrp.fsm.VrrpState.MASTER

class VrrpStateMachineSpec extends Specification {

    static final long S = 1_000_000_000L
    static final InetAddress LOCAL = InetAddress.getByName('10.0.0.5')
    static final InetAddress LOWER = InetAddress.getByName('10.0.0.4')
    static final InetAddress HIGHER = InetAddress.getByName('10.0.0.6')

    static final List<VrrpAction> BECOME_MASTER_100 = [new SendAdvert(100), new AddVips(), new AnnounceVips(5),
                                                       new ArmTimer(ADVERT, S), new ArmTimer(GARP_DELAY, 5 * S)]

    long now = 0

    List<VrrpAction> on(VrrpStateMachine m, VrrpEvent e) {
        m.handle(e, now)
    }

    static AdvertReceived advert(int priority, InetAddress from, int interval = 1, int version = 2) {
        def a = version == 2 ? VrrpAdvert.v2(1, priority, interval, null, []) : VrrpAdvert.v3(1, priority, interval, [])
        new AdvertReceived(a, from)
    }

    VrrpStateMachine backup(MachineConfig config = MachineConfig.v2(1, 100, 1)) {
        def m = new VrrpStateMachine(config, LOCAL)
        on(m, new Startup())
        assert m.state() == BACKUP
        m
    }

    VrrpStateMachine master(MachineConfig config = MachineConfig.v2(1, 100, 1)) {
        def m = backup(config)
        on(m, new MasterDownTimerExpired())
        assert m.state() == MASTER
        m
    }

    def 'timers: v#version interval #interval priority #prio gives Skew_Time #skew and Master_Down_Interval #down (RFC 5798 §6.1, RFC 3768 §6.1)'() {
        expect:
        VrrpTimers.skewNanos(version, prio, interval.toNanos()) == skew
        VrrpTimers.masterDownNanos(version, prio, interval.toNanos(), 3) == down

        where:
        version | interval                | prio | skew        | down
        2       | Duration.ofSeconds(1)   | 100  | 609_375_000 | 3_609_375_000
        2       | Duration.ofSeconds(3)   | 100  | 609_375_000 | 9_609_375_000
        2       | Duration.ofSeconds(1)   | 255  | 3_906_250   | 3_003_906_250
        3       | Duration.ofMillis(10)   | 110  | 5_703_125   | 35_703_125
        3       | Duration.ofSeconds(1)   | 100  | 609_375_000 | 3_609_375_000
        3       | Duration.ofSeconds(2)   | 100  | 1_218_750_000 | 7_218_750_000
        3       | Duration.ofMillis(40950) | 1   | 40_790_039_062 | 163_640_039_062
    }

    def 'down_timer_adverts changes the multiplier'() {
        expect:
        VrrpTimers.masterDownNanos(2, 100, S, 5) == 5_609_375_000
    }

    def 'RFC 5798 §6.4.1: a non-owner starts as BACKUP with Master_Down_Timer = Master_Down_Interval'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 100, 1), LOCAL)

        expect:
        on(m, new Startup()) == [new ArmTimer(MASTER_DOWN, 3_609_375_000), new Transition(INIT, BACKUP, 'startup')]
        m.state() == BACKUP
        m.masterAddress() == null
    }

    def 'RFC 5798 §6.4.1: a non-owner with state MASTER still starts as BACKUP'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v3(1, 100, Duration.ofMillis(10)).withInitialState(MASTER), LOCAL)

        expect:
        on(m, new Startup()) == [new ArmTimer(MASTER_DOWN, 36_093_750), new Transition(INIT, BACKUP, 'startup')]
    }

    def 'RFC 5798 §6.4.1: the priority 255 owner starts as MASTER, advert first'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 255, 1), LOCAL)

        expect:
        on(m, new Startup()) == [new SendAdvert(255), new AddVips(), new AnnounceVips(5), new ArmTimer(ADVERT, S),
                                 new ArmTimer(GARP_DELAY, 5 * S), new Transition(INIT, MASTER, 'priority 255 address owner at startup')]
        m.state() == MASTER
        m.masterAddress() == LOCAL
        m.masterPriority() == 255
    }

    def 'RFC 5798 §6.4.1: an owner configured with state BACKUP starts as BACKUP'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 255, 1).withInitialState(BACKUP), LOCAL)

        expect:
        on(m, new Startup()) == [new ArmTimer(MASTER_DOWN, 3_003_906_250), new Transition(INIT, BACKUP, 'startup')]
    }

    def 'RFC 5798 §6.4.2: Master_Down_Timer expiry makes a BACKUP MASTER (advert, VIPs, GARP, timers)'() {
        given:
        def m = backup()

        expect:
        on(m, new MasterDownTimerExpired()) == BECOME_MASTER_100 + [new Transition(BACKUP, MASTER, 'master down timer expired')]
        m.state() == MASTER
    }

    def 'becoming MASTER with no second burst and a refresh arms the refresh only'() {
        given:
        def m = backup(MachineConfig.v2(1, 100, 1).withGarp(new GarpSettings(3, Duration.ZERO, Duration.ofSeconds(60), 2, 0)))

        expect:
        on(m, new MasterDownTimerExpired()) == [new SendAdvert(100), new AddVips(), new AnnounceVips(3), new ArmTimer(ADVERT, S),
                                                new ArmTimer(GARP_REFRESH, 60 * S), new Transition(BACKUP, MASTER, 'master down timer expired')]
        on(m, new GarpRefreshExpired()) == [new AnnounceVips(2), new ArmTimer(GARP_REFRESH, 60 * S)]
    }

    def 'the delayed GARP burst repeats garp_master_repeat'() {
        given:
        def m = master()

        expect:
        on(m, new GarpDelayExpired()) == [new AnnounceVips(5)]
    }

    def 'RFC 5798 §6.4.2: a priority 0 advert sets Master_Down_Timer to Skew_Time'() {
        given:
        def m = backup()

        expect:
        on(m, advert(0, HIGHER)) == [new ArmTimer(MASTER_DOWN, 609_375_000)]
        m.state() == BACKUP
    }

    def 'RFC 5798 §6.4.2: an advert of higher or equal priority resets Master_Down_Timer and records the master'() {
        given:
        def m = backup()

        expect:
        on(m, advert(prio, HIGHER)) == [new ArmTimer(MASTER_DOWN, 3_609_375_000)]
        m.masterAddress() == HIGHER
        m.masterPriority() == prio

        where:
        prio << [100, 101, 255]
    }

    def 'RFC 5798 §6.4.2: a version 3 BACKUP adopts the master interval'() {
        given:
        def m = backup(MachineConfig.v3(1, 100, Duration.ofSeconds(1)))

        expect: '3 x 0.5 s + 156 x 0.5 / 256 s'
        on(m, advert(150, HIGHER, 50, 3)) == [new ArmTimer(MASTER_DOWN, 1_804_687_500)]
        m.masterAdverIntervalNanos() == 500_000_000
    }

    def 'RFC 5798 §6.4.2: a preempting BACKUP ignores a lower priority advert and the timer runs out'() {
        given:
        def m = backup()

        expect:
        on(m, advert(99, LOWER)) == [new AdvertIgnored('lower priority 99 advert from 10.0.0.4, preempting')]
        on(m, new MasterDownTimerExpired()).last() == new Transition(BACKUP, MASTER, 'master down timer expired')
    }

    def 'RFC 5798 §6.4.2: with nopreempt a BACKUP accepts a lower priority master'() {
        given:
        def m = backup(MachineConfig.v2(1, 200, 1).withPreempt(false, Duration.ZERO))

        expect:
        on(m, advert(50, LOWER)) == [new ArmTimer(MASTER_DOWN, 3_218_750_000)]
        m.masterAddress() == LOWER
    }

    def 'preempt_delay: lower priority adverts reset the timer until the delay has passed'() {
        given:
        def m = backup(MachineConfig.v2(1, 200, 1).withPreempt(true, Duration.ofSeconds(10)))

        when: 'the first lower priority advert opens the window'
        now = 1 * S
        def first = on(m, advert(50, LOWER))
        now = 10 * S
        def inside = on(m, advert(50, LOWER))
        now = 11 * S
        def after = on(m, advert(50, LOWER))

        then:
        first == [new ArmTimer(MASTER_DOWN, 3_218_750_000)]
        inside == [new ArmTimer(MASTER_DOWN, 3_218_750_000)]
        after == [new AdvertIgnored('lower priority 50 advert from 10.0.0.4, preempting')]
    }

    def 'preempt_delay: a higher priority advert closes the window'() {
        given:
        def m = backup(MachineConfig.v2(1, 200, 1).withPreempt(true, Duration.ofSeconds(10)))
        on(m, advert(50, LOWER))
        now = 5 * S
        on(m, advert(250, HIGHER))

        when: 'a lower priority master appears later, a new window opens'
        now = 12 * S
        def reopened = on(m, advert(50, LOWER))
        now = 21 * S
        def inside = on(m, advert(50, LOWER))
        now = 23 * S
        def after = on(m, advert(50, LOWER))

        then:
        reopened == [new ArmTimer(MASTER_DOWN, 3_218_750_000)]
        inside == [new ArmTimer(MASTER_DOWN, 3_218_750_000)]
        after.first() instanceof AdvertIgnored
    }

    def 'RFC 5798 §6.4.3: Adver_Timer expiry sends an advert and re-arms'() {
        given:
        def m = master()

        expect:
        on(m, new AdvertTimerExpired()) == [new SendAdvert(100), new ArmTimer(ADVERT, S)]
    }

    def 'RFC 5798 §6.4.3: a MASTER answers a priority 0 advert at once'() {
        given:
        def m = master()

        expect:
        on(m, advert(0, HIGHER)) == [new SendAdvert(100), new ArmTimer(ADVERT, S)]
        m.state() == MASTER
    }

    def 'RFC 5798 §6.4.3: a higher priority advert makes the MASTER BACKUP without priority 0'() {
        given:
        def m = master()

        expect:
        on(m, advert(101, LOWER)) == [new CancelTimer(ADVERT), new CancelTimer(GARP_DELAY), new CancelTimer(GARP_REFRESH),
                                      new RemoveVips(), new ArmTimer(MASTER_DOWN, 3_609_375_000),
                                      new Transition(MASTER, BACKUP, 'higher priority 101 advert from 10.0.0.4')]
        m.state() == BACKUP
        m.masterAddress() == LOWER
    }

    def 'RFC 5798 §6.4.3: a version 3 MASTER yielding adopts the new master interval'() {
        given:
        def m = master(MachineConfig.v3(1, 100, Duration.ofSeconds(1)))

        when:
        def actions = on(m, advert(200, HIGHER, 200, 3))

        then: '3 x 2 s + 156 x 2 / 256 s'
        actions.contains(new ArmTimer(MASTER_DOWN, 7_218_750_000))
        m.masterAdverIntervalNanos() == 2 * S
    }

    def 'RFC 5798 §6.4.3 tie-break: equal priority from a higher address wins'() {
        given:
        def m = master()

        expect:
        on(m, advert(100, HIGHER)).last() == new Transition(MASTER, BACKUP, 'equal priority 100 advert from higher address 10.0.0.6')
        m.state() == BACKUP
    }

    def 'RFC 5798 §6.4.3 tie-break: equal priority from a lower address loses and is answered'() {
        given:
        def m = master()

        expect:
        on(m, advert(100, LOWER)) == [new SendAdvert(100), new ArmTimer(ADVERT, S), new AnnounceVips(5)]
        m.state() == MASTER
    }

    def 'tie-break compares addresses as unsigned numbers'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 100, 1), InetAddress.getByName('10.0.0.200'))
        on(m, new Startup())
        on(m, new MasterDownTimerExpired())

        expect: '10.0.0.20 is lower than 10.0.0.200 even though byte 0x14 < 0xc8 only unsigned'
        on(m, advert(100, InetAddress.getByName('10.0.0.20'))).first() == new SendAdvert(100)
        m.state() == MASTER
    }

    def 'a MASTER answers a lower priority advert at once and re-announces (keepalived default)'() {
        given:
        def m = master()

        expect:
        on(m, advert(50, LOWER)) == [new SendAdvert(100), new ArmTimer(ADVERT, S), new AnnounceVips(5)]
    }

    def 'lower_prio_no_advert: the MASTER does not answer a lower priority advert'() {
        given:
        def m = master(MachineConfig.v2(1, 100, 1).withLowerPrioNoAdvert(true)
                .withGarp(new GarpSettings(5, Duration.ofSeconds(5), Duration.ZERO, 1, 0)))

        expect:
        on(m, advert(50, LOWER)) == []
    }

    def 'an advert from our own address is ignored'() {
        given:
        def m = master()

        expect:
        on(m, advert(200, LOCAL)) == [new AdvertIgnored('advert from our own address 10.0.0.5')]
        m.state() == MASTER
    }

    def 'RFC 5798 §6.4.3: a MASTER shutting down sends priority 0 and removes its VIPs'() {
        given:
        def m = master()

        expect:
        on(m, new Shutdown()) == [new CancelTimer(ADVERT), new CancelTimer(GARP_DELAY), new CancelTimer(GARP_REFRESH),
                                  new SendAdvert(0), new RemoveVips(), new Transition(MASTER, INIT, 'shutdown')]
        m.state() == INIT
        on(m, new AdvertTimerExpired()) == []
    }

    def 'RFC 5798 §6.4.2: a BACKUP shutting down cancels Master_Down_Timer'() {
        given:
        def m = backup()

        expect:
        on(m, new Shutdown()) == [new CancelTimer(MASTER_DOWN), new Transition(BACKUP, INIT, 'shutdown')]
        on(m, new MasterDownTimerExpired()) == []
    }

    def 'FAULT from MASTER: priority 0 advert, VIPs removed'() {
        given:
        def m = master()

        expect:
        on(m, new LinkDown('eth0')) == [new CancelTimer(ADVERT), new CancelTimer(GARP_DELAY), new CancelTimer(GARP_REFRESH),
                                        new SendAdvert(0), new RemoveVips(), new Transition(MASTER, FAULT, 'fault: link eth0 down')]
        m.state() == FAULT
        on(m, advert(50, LOWER)) == []
        on(m, new AdvertTimerExpired()) == []
    }

    def 'FAULT from BACKUP and back when the link returns'() {
        given:
        def m = backup()

        expect:
        on(m, new LinkDown('eth0')) == [new CancelTimer(MASTER_DOWN), new Transition(BACKUP, FAULT, 'fault: link eth0 down')]
        on(m, new MasterDownTimerExpired()) == []
        on(m, new LinkUp('eth0')) == [new ArmTimer(MASTER_DOWN, 3_609_375_000), new Transition(FAULT, BACKUP, 'link eth0 up')]
        m.state() == BACKUP
    }

    def 'FAULT is left only when every fault has cleared'() {
        given:
        def m = backup()
        on(m, new LinkDown('eth0'))

        expect:
        on(m, new FaultRaised('track_script chk_nginx')) == []
        on(m, new LinkUp('eth0')) == []
        m.state() == FAULT
        on(m, new FaultCleared('track_script chk_nginx')).last() == new Transition(FAULT, BACKUP, 'fault cleared: track_script chk_nginx')
    }

    def 'leaving FAULT, a version 3 instance returns to its own interval'() {
        given:
        def m = backup(MachineConfig.v3(1, 100, Duration.ofSeconds(1)))
        on(m, advert(150, HIGHER, 50, 3))
        on(m, new LinkDown('eth0'))

        expect:
        on(m, new LinkUp('eth0')).first() == new ArmTimer(MASTER_DOWN, 3_609_375_000)
        m.masterAdverIntervalNanos() == S
    }

    def 'the owner leaving FAULT goes straight to MASTER (RFC 5798 §6.4.1)'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 255, 1), LOCAL)
        on(m, new Startup())
        on(m, new LinkDown('eth0'))

        expect:
        on(m, new LinkUp('eth0')).last() == new Transition(FAULT, MASTER, 'link eth0 up')
    }

    def 'a fault present at startup puts the instance in FAULT'() {
        given:
        def m = new VrrpStateMachine(MachineConfig.v2(1, 255, 1), LOCAL)

        expect:
        on(m, new LinkDown('eth0')) == []
        on(m, new Startup()) == [new Transition(INIT, FAULT, 'startup with fault: link eth0 down')]
        m.state() == FAULT
        on(m, new Shutdown()) == [new Transition(FAULT, INIT, 'shutdown')]
    }

    def 'a priority change on MASTER is advertised at once; the new priority is used for timers'() {
        given:
        def m = master()

        expect:
        on(m, new PriorityChanged(80)) == [new SendAdvert(80), new ArmTimer(ADVERT, S)]
        m.effectivePriority() == 80
        on(m, new AdvertTimerExpired()).first() == new SendAdvert(80)
        on(m, new PriorityChanged(90)) == [new SendAdvert(90), new ArmTimer(ADVERT, S)]
        on(m, new PriorityChanged(90)) == []
        // (256 - 90) / 256 s of skew
        on(m, advert(95, HIGHER)).contains(new ArmTimer(MASTER_DOWN, 3_648_437_500))
    }

    def 'a BACKUP whose priority rises above the master preempts at the next advert'() {
        given:
        def m = backup()
        on(m, advert(150, HIGHER))

        expect:
        on(m, new PriorityChanged(200)) == []
        on(m, advert(150, HIGHER)).first() instanceof AdvertIgnored
    }

    def 'SyncBackup takes a MASTER to BACKUP without priority 0; other states ignore it'() {
        given:
        def m = master()

        expect:
        on(m, new VrrpEvent.SyncBackup('sync group G: VI_2 left MASTER')) == [new CancelTimer(ADVERT), new CancelTimer(GARP_DELAY),
                new CancelTimer(GARP_REFRESH), new RemoveVips(), new ArmTimer(MASTER_DOWN, 3_609_375_000),
                new Transition(MASTER, BACKUP, 'sync group G: VI_2 left MASTER')]
        on(m, new VrrpEvent.SyncBackup('again')) == []
    }

    def 'SyncMaster takes a BACKUP to MASTER; other states ignore it'() {
        given:
        def m = backup()

        expect:
        on(m, new VrrpEvent.SyncMaster('sync group G going MASTER')) ==
                BECOME_MASTER_100 + [new Transition(BACKUP, MASTER, 'sync group G going MASTER')]
        on(m, new VrrpEvent.SyncMaster('again')) == []
    }

    def 'Reconfigure on a MASTER re-arms the advert timer with a new interval'() {
        given:
        def m = master()

        expect:
        on(m, new VrrpEvent.Reconfigure(MachineConfig.v2(1, 100, 2))) == [new ArmTimer(ADVERT, 2 * S)]
        on(m, new AdvertTimerExpired()) == [new SendAdvert(100), new ArmTimer(ADVERT, 2 * S)]
        on(m, new VrrpEvent.Reconfigure(MachineConfig.v2(1, 100, 2).withPreempt(false, Duration.ZERO))) == []
        m.config().preempt() == false
    }

    def 'Reconfigure on a version 2 BACKUP uses the new interval for the down timer'() {
        given:
        def m = backup()

        expect:
        on(m, new VrrpEvent.Reconfigure(MachineConfig.v2(1, 100, 2))) == []
        on(m, advert(150, HIGHER, 2)) == [new ArmTimer(MASTER_DOWN, 6_609_375_000)]
    }

    def 'Reconfigure refuses another VRID or version'() {
        given:
        def m = backup()

        when:
        on(m, new VrrpEvent.Reconfigure(MachineConfig.v2(2, 100, 1)))

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'reconfigure: vrid 2 version 2 (expected: vrid 1 version 2)'
    }

    def 'Shutdown carries its cause'() {
        given:
        def m = master()

        expect:
        on(m, new Shutdown('removed by reload')).last() == new Transition(MASTER, INIT, 'removed by reload')
    }

    def 'configuration is checked: #message'() {
        when:
        build()

        then:
        def e = thrown(IllegalArgumentException)
        e.message == message

        where:
        build << [
                { MachineConfig.v2(0, 100, 1) },
                { MachineConfig.v2(1, 0, 1) },
                { MachineConfig.v3(1, 100, Duration.ofMillis(15)) },
                { new MachineConfig(2, 1, 100, Duration.ofMillis(500), true, Duration.ZERO, true, 3, false, null, GarpSettings.DEFAULTS) },
                { new MachineConfig(2, 1, 100, Duration.ofSeconds(1), true, Duration.ZERO, true, 0, false, null, GarpSettings.DEFAULTS) },
        ]
        message << [
                'vrid: 0 (expected: 1..255)',
                'priority: 0 (expected: 1..255)',
                'advertInterval: PT0.015S (expected: 10 ms steps from 10 ms to 40.95 s for version 3)',
                'advertInterval: PT0.5S (expected: whole seconds 1..255 for version 2)',
                'downTimerAdverts: 0 (expected: 1..100)',
        ]
    }
}
