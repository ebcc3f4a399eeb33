package dev.vigil.it

import groovy.transform.Immutable
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.Unroll

import java.time.Duration
import java.time.Instant

/**
 * Vigil and keepalived (Debian's 2.2.7) as the two routers of one virtual router, each in its own
 * network namespace on a bridge, with a client in a third. For every mode (VRRPv2 multicast,
 * VRRPv2 with PASS authentication, VRRPv3 over IPv4 and IPv6, VRRPv3 unicast) and both
 * directions (Vigil higher, keepalived higher) one feature walks through: the lower router alone
 * becomes master; the higher one starts and preempts; the higher one stops (SIGTERM, priority 0)
 * and the lower one takes over within its skew time; the higher one restarts and preempts again;
 * the higher one crashes (cable cut, SIGKILL) and the lower one takes over after
 * Master_Down_Interval. Then: adverts with the wrong password or another VRID are dropped by both
 * daemons and never obeyed.
 */
@Requires({ NetnsLab.usable() && KeepalivedNode.present() })
class KeepalivedInteropSpec extends Specification {

    static final int HIGH = 150
    static final int LOW = 100
    static final Duration SLACK = Duration.ofMillis(500)
    static final Duration START = Duration.ofSeconds(25)

    /** One way of running VRRP between the two daemons. */
    @Immutable
    static class Mode {
        String name
        int version
        BigDecimal advert
        boolean ipv6
        boolean unicast
        String password

        String vip() { ipv6 ? 'fd00:77::50' : '10.77.0.50' }

        String vipCidr() { ipv6 ? 'fd00:77::50/64' : '10.77.0.50/24' }

        Duration advertInterval() { Duration.ofNanos((advert * 1_000_000_000).longValue()) }

        /**
         * RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s; RFC 5798 §6.1 scales it by the
         * master's advert interval: ((256 - Priority) * Master_Adver_Interval) / 256.
         */
        Duration skew(int priority) {
            long nanos = version == 2 ? (long) ((256 - priority) / 256.0 * 1e9)
                                      : (long) ((256 - priority) * advertInterval().toNanos() / 256.0)
            Duration.ofNanos(nanos)
        }

        /** Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time (RFC 3768 §6.1, RFC 5798 §6.1). */
        Duration masterDown(int priority) { advertInterval().multipliedBy(3) + skew(priority) }

        @Override
        String toString() { name }
    }

    static final List<Mode> MODES = [
            new Mode('VRRPv2 multicast', 2, 1.0, false, false, null),
            new Mode('VRRPv2 PASS auth', 2, 1.0, false, false, 'vrrp4all'),
            new Mode('VRRPv3 IPv4', 3, 0.1, false, false, null),
            new Mode('VRRPv3 IPv6', 3, 0.1, true, false, null),
            new Mode('VRRPv3 IPv4 unicast', 3, 0.1, false, true, null),
    ]

    NetnsLab lab
    List<Object> nodes = []

    static String address(String host, boolean ipv6) {
        def last = [a: 1, b: 2, cl: 100][host]
        ipv6 ? "fd00:77::${last}" : "10.77.0.${last}"
    }

    static String config(Mode m, String self, String peer, int priority, Map opts = [:]) {
        String pass = opts.containsKey('password') ? opts.password : m.password
        int vrid = opts.vrid ?: 51
        String vip = opts.vip ?: m.vipCidr()
        StringBuilder sb = new StringBuilder()
        sb << "global_defs {\n    router_id ${self}-${priority}\n}\n"
        sb << "vrrp_instance VI_1 {\n"
        sb << "    state BACKUP\n    interface eth0\n    virtual_router_id ${vrid}\n"
        sb << "    version ${m.version}\n    priority ${priority}\n    advert_int ${m.advert}\n"
        if (pass) {
            sb << "    authentication {\n        auth_type PASS\n        auth_pass ${pass}\n    }\n"
        }
        if (m.unicast) {
            sb << "    unicast_src_ip ${address(self, m.ipv6)}\n    unicast_peer {\n        ${address(peer, m.ipv6)}\n    }\n"
        }
        sb << "    virtual_ipaddress {\n        ${vip}\n    }\n}\n"
        sb.toString()
    }

    def setup() {
        lab = new NetnsLab()
                .host('a', '10.77.0.1/24')
                .host('b', '10.77.0.2/24')
                .host('cl', '10.77.0.100/24')
        ['a', 'b', 'cl'].each { h -> lab.exec(h, 'ip', '-6', 'addr', 'add', "${address(h, true)}/64", 'dev', 'eth0', 'nodad') }
    }

    def cleanup() {
        nodes.each { n -> System.err.println("--- ${n.host} (${n.class.simpleName}) log:\n${n.logText()}") }
        lab?.close()
    }

    /** Starts {@code daemon} ('vigil' or 'keepalived') on {@code host}. */
    Object start(String daemon, String host, String configText) {
        def node = daemon == 'vigil' ? new VigilNode(lab, host, configText) : new KeepalivedNode(lab, host, configText)
        node.start()
        nodes << node
        node
    }

    boolean clientReaches(Mode m) {
        List<String> cmd = ['ping'] + (m.ipv6 ? ['-6'] : []) + ['-c', '3', '-i', '0.2', '-W', '1', m.vip()]
        lab.run('cl', cmd as String[]) == 0
    }

    boolean clientSeesMacOf(Mode m, String host) {
        lab.exec('cl', 'ip', 'neigh', 'show', m.vip()).contains(lab.mac(host))
    }

    void awaitVipOnlyOn(Mode m, String owner, String other) {
        NetnsLab.waitFor(Duration.ofSeconds(5), "VIP ${m.vip()} only on ${owner}") {
            lab.hasAddress(owner, m.vip()) && !lab.hasAddress(other, m.vip())
        }
    }

    @Unroll
    def '#mode, #higher higher: elect, preempt, hand over on SIGTERM, take over after a crash'() {
        given: 'host a runs the higher-priority daemon, host b the lower one'
        String lower = higher == 'vigil' ? 'keepalived' : 'vigil'
        Duration skew = mode.skew(LOW)
        Duration masterDown = mode.masterDown(LOW)

        when: 'the lower router is alone: it becomes master'
        def low = start(lower, 'b', config(mode, 'b', 'a', LOW))
        low.awaitTransition('VI_1', 'MASTER', START)

        and: 'the higher router starts and preempts it'
        Instant t0 = Instant.now()
        def high = start(higher, 'a', config(mode, 'a', 'b', HIGH))
        high.awaitTransition('VI_1', 'MASTER', START, t0)
        low.awaitTransition('VI_1', 'BACKUP', START, t0)
        awaitVipOnlyOn(mode, 'a', 'b')

        then: 'only the higher router carries the VIP and the client reaches it there'
        low.state('VI_1') == 'BACKUP'
        clientReaches(mode)
        clientSeesMacOf(mode, 'a')

        when: 'the master stops gracefully'
        Instant stopped = Instant.now()
        high.signal('TERM')
        Instant tookOver = low.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), stopped)
        Duration handOver = Duration.between(stopped, tookOver)
        println "${mode} ${lower} takes over on SIGTERM of ${higher}: ${handOver.toMillis()} ms (skew ${skew.toMillis()} ms)"
        high.awaitExit(Duration.ofSeconds(10))
        awaitVipOnlyOn(mode, 'b', 'a')

        then: 'the lower router took over within its skew time (priority 0 seen), not Master_Down_Interval'
        handOver < skew + SLACK
        clientReaches(mode)
        clientSeesMacOf(mode, 'b')

        when: 'the higher router restarts'
        Instant restarted = Instant.now()
        high = start(higher, 'a', config(mode, 'a', 'b', HIGH))
        high.awaitTransition('VI_1', 'MASTER', START, restarted)
        low.awaitTransition('VI_1', 'BACKUP', START, restarted)
        awaitVipOnlyOn(mode, 'a', 'b')

        then: 'it preempts'
        clientReaches(mode)
        clientSeesMacOf(mode, 'a')

        when: 'the master crashes: its cable is cut and the daemon killed'
        Thread.sleep(mode.advertInterval().multipliedBy(3).toMillis())
        Instant crashed = Instant.now()
        lab.cutLink('a')
        high.signal('KILL')
        Instant crashOver = low.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(10), crashed)
        Duration takeOver = Duration.between(crashed, crashOver)
        println "${mode} ${lower} takes over after ${higher} crashed: ${takeOver.toMillis()} ms (Master_Down_Interval ${masterDown.toMillis()} ms)"
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIP on b') { lab.hasAddress('b', mode.vip()) }

        then: 'the lower router waited for Master_Down_Interval (the last advert came at most one interval before)'
        takeOver < masterDown + SLACK
        takeOver > masterDown - mode.advertInterval() - Duration.ofMillis(50)
        clientReaches(mode)
        clientSeesMacOf(mode, 'b')

        where:
        [mode, higher] << [MODES, ['vigil', 'keepalived']].combinations()
    }

    def 'keepalived with a higher priority but another password never makes Vigil leave MASTER'() {
        given:
        Mode m = MODES[1]
        def vigil = start('vigil', 'a', config(m, 'a', 'b', LOW, [password: 'right123']))
        Instant master = vigil.awaitTransition('VI_1', 'MASTER', START)

        when: 'keepalived sends adverts at priority 200 with another password'
        def keepalived = start('keepalived', 'b', config(m, 'b', 'a', 200, [password: 'wrong456']))
        // keepalived ignores Vigil's adverts too, so it becomes master after its own master-down timer.
        keepalived.awaitTransition('VI_1', 'MASTER', START)
        Thread.sleep(3000)

        then: 'Vigil stayed MASTER with its VIP and says why it ignored the adverts'
        vigil.state('VI_1') == 'MASTER'
        vigil.transitionedAt('VI_1', 'MASTER') == master
        lab.hasAddress('a', m.vip())
        vigil.logText() =~ /WARN VI_1: advert dropped \(AUTH_MISMATCH\)/

        and: 'keepalived dropped Vigil\'s adverts for the same reason'
        keepalived.logText() =~ /\(VI_1\) received an invalid passwd/
    }

    def 'adverts for another VRID are dropped, never obeyed'() {
        given:
        Mode m = MODES[0]
        def vigil = start('vigil', 'a', config(m, 'a', 'b', LOW))
        Instant master = vigil.awaitTransition('VI_1', 'MASTER', START)

        when: 'keepalived runs VRID 52 at priority 200 on the same segment'
        def keepalived = start('keepalived', 'b', config(m, 'b', 'a', 200, [vrid: 52, vip: '10.77.0.60/24']))
        keepalived.awaitTransition('VI_1', 'MASTER', START)
        Thread.sleep(3000)

        then: 'Vigil stayed MASTER of VRID 51 and logged the foreign VRID'
        vigil.state('VI_1') == 'MASTER'
        vigil.transitionedAt('VI_1', 'MASTER') == master
        lab.hasAddress('a', m.vip())
        vigil.logText() =~ /advert dropped \(UNKNOWN_VRID\)/

        and: 'keepalived stayed MASTER of VRID 52 and kept its own address only'
        keepalived.state('VI_1') == 'MASTER'
        lab.hasAddress('b', '10.77.0.60')
        !lab.hasAddress('b', m.vip())
    }
}
