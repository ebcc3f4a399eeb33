package dev.vigil.it

import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * Two Vigil nodes in the dual-master set-up of the seed how-tos (two instances with opposite
 * priorities, each node MASTER for one VIP), with the trackers and notifications keepalived users
 * rely on: a vrrp_script whose failure lowers a priority, a sync group pulled into FAULT by a
 * tracked interface, notify scripts with keepalived's arguments and a notify FIFO.
 */
@Stepwise
@Requires({ NetnsLab.usable() })
class TrackingNotifySpec extends Specification {

    static final String VIP_A = '10.77.0.61'
    static final String VIP_B = '10.77.0.62'
    static final String VIP_C = '10.77.0.63'
    static final String VIP_D = '10.77.0.64'

    @Shared NetnsLab lab
    @Shared VigilNode n1
    @Shared VigilNode n2
    @Shared Path flag
    @Shared Path notifyLog
    @Shared Path fifo
    @Shared Path fifoCopy
    @Shared Process fifoReader

    static String vrrp(String name, int vrid, int priority, String vip, String extra = '') {
        """\
        vrrp_instance ${name} {
            interface eth0
            virtual_router_id ${vrid}
            priority ${priority}
            version 3
            advert_int 0.2
            ${extra}
            virtual_ipaddress {
                ${vip}/24
            }
        }
        """.stripIndent()
    }

    def setupSpec() {
        lab = new NetnsLab().host('n1', '10.77.0.1/24').host('n2', '10.77.0.2/24').host('cl', '10.77.0.100/24')
        // A second link on n1 whose carrier the spec controls: t1 is tracked, t2 is its peer.
        lab.exec('n1', 'ip', 'link', 'add', 't1', 'type', 'veth', 'peer', 'name', 't2')
        lab.exec('n1', 'ip', 'link', 'set', 't1', 'up')
        lab.exec('n1', 'ip', 'link', 'set', 't2', 'up')

        flag = lab.dir.resolve('maintenance')
        notifyLog = lab.dir.resolve('notify.log')
        Path recorder = lab.dir.resolve('record.sh')
        Files.writeString(recorder, "#!/bin/sh\necho \"\$@\" >> ${notifyLog}\n")
        recorder.toFile().setExecutable(true)
        fifo = lab.dir.resolve('vigil.fifo')
        fifoCopy = lab.dir.resolve('fifo.log')
        NetnsLab.sh('mkfifo', fifo.toString())
        fifoReader = new ProcessBuilder('sh', '-c', "exec cat ${fifo} > ${fifoCopy}").start()

        String n1Config = """\
            global_defs {
                router_id node-1
                notify_fifo ${fifo}
            }
            vrrp_script chk_maintenance {
                script "/bin/sh -c '! test -e ${flag}'"
                interval 0.2
                fall 2
                rise 2
                weight -60
            }
            vrrp_sync_group G1 {
                group {
                    VI_C
                    VI_D
                }
                notify ${recorder}
            }
            """.stripIndent() +
                vrrp('VI_A', 61, 150, VIP_A, "track_script {\n    chk_maintenance\n}\nnotify ${recorder}") +
                vrrp('VI_B', 62, 100, VIP_B, "notify ${recorder}") +
                vrrp('VI_C', 63, 150, VIP_C, "track_interface {\n    t1\n}") +
                vrrp('VI_D', 64, 150, VIP_D)
        String n2Config = 'global_defs {\n    router_id node-2\n}\n' +
                vrrp('VI_A', 61, 100, VIP_A) + vrrp('VI_B', 62, 150, VIP_B) +
                vrrp('VI_C', 63, 100, VIP_C) + vrrp('VI_D', 64, 100, VIP_D)
        n1 = new VigilNode(lab, 'n1', n1Config).start()
        n2 = new VigilNode(lab, 'n2', n2Config).start()
    }

    def cleanupSpec() {
        [n1, n2].each { it?.signal('TERM') }
        [n1, n2].each { it?.awaitExit(Duration.ofSeconds(10)) }
        fifoReader?.destroy()
        lab?.close()
    }

    List<String> notified() {
        Files.exists(notifyLog) ? Files.readAllLines(notifyLog) : []
    }

    def 'dual master: each node owns the VIP of the instance it has the higher priority for'() {
        when:
        n1.awaitTransition('VI_A', 'MASTER', Duration.ofSeconds(15))
        n2.awaitTransition('VI_B', 'MASTER', Duration.ofSeconds(15))
        n1.awaitTransition('VI_C', 'MASTER', Duration.ofSeconds(15))
        n1.awaitTransition('VI_D', 'MASTER', Duration.ofSeconds(15))
        NetnsLab.waitFor(Duration.ofSeconds(5), 'VIPs in place') {
            lab.hasAddress('n1', VIP_A) && lab.hasAddress('n2', VIP_B) && lab.hasAddress('n1', VIP_C)
        }

        then:
        !lab.hasAddress('n2', VIP_A)
        !lab.hasAddress('n1', VIP_B)
        lab.run('cl', 'ping', '-c1', '-W1', VIP_A) == 0
        lab.run('cl', 'ping', '-c1', '-W1', VIP_B) == 0

        and: 'notify got keepalived\'s four arguments, once per transition, the group with priority 0'
        NetnsLab.waitFor(Duration.ofSeconds(5), 'notify lines') {
            notified().containsAll(['INSTANCE VI_A BACKUP 150', 'INSTANCE VI_A MASTER 150',
                                    'INSTANCE VI_B BACKUP 100', 'GROUP G1 MASTER 0'])
        }
        notified().count { it == 'INSTANCE VI_A MASTER 150' } == 1
        notified().indexOf('INSTANCE VI_A BACKUP 150') < notified().indexOf('INSTANCE VI_A MASTER 150')

        and: 'the FIFO carries keepalived\'s line format, name quoted'
        NetnsLab.waitFor(Duration.ofSeconds(5), 'FIFO lines') {
            Files.readAllLines(fifoCopy).containsAll(['INSTANCE "VI_A" MASTER 150', 'INSTANCE "VI_B" BACKUP 100',
                                                      'GROUP "G1" MASTER 0'])
        }
    }

    def 'a failing vrrp_script lowers the priority by its weight and the peer takes over; recovery preempts back'() {
        given:
        Instant before = Instant.now()

        when: 'the maintenance flag appears: chk_maintenance fails twice (fall 2), 150 - 60 = 90 < 100'
        Files.writeString(flag, '')
        Instant lost = n1.awaitTransition('VI_A', 'BACKUP', Duration.ofSeconds(10), before)
        n2.awaitTransition('VI_A', 'MASTER', Duration.ofSeconds(5), before)

        then:
        n1.logText().contains('effective priority 150 -> 90')
        NetnsLab.waitFor(Duration.ofSeconds(3), 'VIP_A on n2') { lab.hasAddress('n2', VIP_A) && !lab.hasAddress('n1', VIP_A) }

        when: 'the flag goes: rise 2, priority back to 150, n1 preempts'
        Files.delete(flag)
        n1.awaitTransition('VI_A', 'MASTER', Duration.ofSeconds(10), lost)
        n2.awaitTransition('VI_A', 'BACKUP', Duration.ofSeconds(5), lost)

        then:
        n1.logText().contains('effective priority 90 -> 150')
        NetnsLab.waitFor(Duration.ofSeconds(3), 'VIP_A back on n1') { lab.hasAddress('n1', VIP_A) && !lab.hasAddress('n2', VIP_A) }
        NetnsLab.waitFor(Duration.ofSeconds(5), 'notify of the round trip') {
            notified().findAll { it.startsWith('INSTANCE VI_A') }.takeRight(2) == ['INSTANCE VI_A BACKUP 90', 'INSTANCE VI_A MASTER 150']
        }
    }

    def 'a tracked interface going down puts its sync group in FAULT; both VIPs move, and come back together'() {
        given:
        Instant before = Instant.now()

        when: 't1 loses its carrier'
        lab.exec('n1', 'ip', 'link', 'set', 't2', 'down')
        n1.awaitTransition('VI_C', 'FAULT', Duration.ofSeconds(5), before)
        n1.awaitTransition('VI_D', 'FAULT', Duration.ofSeconds(5), before)
        n2.awaitTransition('VI_C', 'MASTER', Duration.ofSeconds(5), before)
        n2.awaitTransition('VI_D', 'MASTER', Duration.ofSeconds(5), before)

        then:
        NetnsLab.waitFor(Duration.ofSeconds(3), 'VIP_C and VIP_D on n2') {
            lab.hasAddress('n2', VIP_C) && lab.hasAddress('n2', VIP_D) && !lab.hasAddress('n1', VIP_C) && !lab.hasAddress('n1', VIP_D)
        }
        NetnsLab.waitFor(Duration.ofSeconds(5), 'group FAULT notified') { notified().contains('GROUP G1 FAULT 0') }

        when: 'the carrier returns'
        Instant back = Instant.now()
        lab.exec('n1', 'ip', 'link', 'set', 't2', 'up')
        n1.awaitTransition('VI_C', 'MASTER', Duration.ofSeconds(10), back)
        n1.awaitTransition('VI_D', 'MASTER', Duration.ofSeconds(10), back)

        then:
        NetnsLab.waitFor(Duration.ofSeconds(3), 'VIP_C and VIP_D back on n1') { lab.hasAddress('n1', VIP_C) && lab.hasAddress('n1', VIP_D) }
        NetnsLab.waitFor(Duration.ofSeconds(5), 'group MASTER notified again') { notified().count { it == 'GROUP G1 MASTER 0' } == 2 }
    }
}
