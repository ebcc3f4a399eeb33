package dev.vigil.plugin.mail

import dev.vigil.api.NotifierEvent
import spock.lang.Specification

import java.time.Instant

/**
 * The subject and first body line of each event type: keepalived's words (core/smtp.c,
 * vrrp/vrrp_notify.c, the checkers) where keepalived mails the event, the same style elsewhere;
 * then the event's fields.
 */
class AlertTextSpec extends Specification {

    static final Instant T = Instant.parse('2026-05-04T10:15:30.250Z')

    static NotifierEvent event(String type, Map<String, String> details) {
        new NotifierEvent(type, 'lb1', T, details)
    }

    def 'each event type: subject and the => line <='() {
        when:
        def text = AlertText.of(event(type, details))

        then:
        text.subject() == subject
        text.body().readLines()[0] == line

        where:
        type                            | details                                                                                                            || subject                                                                                     | line
        NotifierEvent.VRRP_INSTANCE     | [instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: '150', cause: 'master down timer']                      || '[lb1] VRRP Instance VI_1 - Entering MASTER state'                                            | '=> VRRP Instance is now owning VRRP VIPs <='
        NotifierEvent.VRRP_INSTANCE     | [instance: 'VI_1', from: 'MASTER', to: 'BACKUP', priority: '100', cause: 'higher priority advert']                 || '[lb1] VRRP Instance VI_1 - Entering BACKUP state'                                            | '=> VRRP Instance is no longer owning VRRP VIPs <='
        NotifierEvent.VRRP_INSTANCE     | [instance: 'VI_1', from: 'MASTER', to: 'FAULT', priority: '0', cause: 'eth0 down']                                 || '[lb1] VRRP Instance VI_1 - Entering FAULT state'                                             | '=> VRRP Instance is no longer owning VRRP VIPs <='
        NotifierEvent.VRRP_INSTANCE     | [instance: 'VI_1', from: 'MASTER', to: 'STOP', priority: '150', cause: 'shutdown']                                 || '[lb1] VRRP Instance VI_1 - Stopping'                                                         | '=> VRRP Instance stopping <='
        NotifierEvent.VRRP_GROUP        | [group: 'G1', from: 'BACKUP', to: 'MASTER', cause: 'VI_1']                                                          || '[lb1] VRRP Group G1 - Entering MASTER state'                                                 | '=> All VRRP group instances are now in MASTER state <='
        NotifierEvent.VRRP_GROUP        | [group: 'G1', from: 'MASTER', to: 'STOP', cause: 'shutdown']                                                        || '[lb1] VRRP Group G1 - Stopping'                                                              | '=> All VRRP group instances are now stopping <='
        NotifierEvent.REAL_SERVER_DOWN  | [virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.0.2]:tcp:80', from: 'UP', to: 'DOWN', reason: 'connection refused (10.0.0.2:80)'] || '[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN' | '=> CHECK failed on service : connection refused (10.0.0.2:80) <='
        NotifierEvent.REAL_SERVER_UP    | [virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.0.2]:tcp:80', from: 'DOWN', to: 'UP', reason: 'L4OK']   || '[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP'                | '=> CHECK succeed on service <='
        NotifierEvent.QUORUM_DOWN       | [virtual_server: '[10.0.0.1]:tcp:80', from: 'UP', to: 'DOWN', healthy: '1', quorum: '2']                           || '[lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN'                                               | '=> Lost quorum: healthy weight 1, quorum 2 <='
        NotifierEvent.QUORUM_UP         | [virtual_server: '[10.0.0.1]:tcp:80', from: 'DOWN', to: 'UP', healthy: '3', quorum: '2']                           || '[lb1] Virtualserver [10.0.0.1]:tcp:80 - UP'                                                 | '=> Gained quorum: healthy weight 3, quorum 2 <='
        NotifierEvent.TRACKER           | [tracker: 'chk_nginx', from: 'OK', to: 'FAULT', instances: 'VI_1 VI_2']                                            || '[lb1] Tracker chk_nginx - FAULT'                                                             | '=> Tracker chk_nginx changed from OK to FAULT <='
        NotifierEvent.POLICY_ACTION     | [policy: 'drain-eu', revision: '4', action: 'drain', target: '[10.0.0.2]:tcp:80', reason: 'error rate 12%']       || '[lb1] Policy drain-eu - drain'                                                               | '=> Policy drain-eu (revision 4) did drain on [10.0.0.2]:tcp:80 <='
        NotifierEvent.DAEMON_START      | [config: '/etc/keepalived/keepalived.conf', version: '0.1.0']                                                      || '[lb1] Vigil - Starting'                                                                      | '=> Vigil 0.1.0 started with /etc/keepalived/keepalived.conf <='
        NotifierEvent.DAEMON_STOP       | [reason: 'SIGTERM']                                                                                                || '[lb1] Vigil - Stopping'                                                                      | '=> Vigil stopping: SIGTERM <='
        NotifierEvent.DAEMON_RELOAD     | [config: '/etc/keepalived/keepalived.conf', result: 'applied', reason: '']                                         || '[lb1] Vigil - Reload applied'                                                                | '=> Configuration /etc/keepalived/keepalived.conf reloaded <='
        NotifierEvent.DAEMON_RELOAD     | [config: '/etc/keepalived/keepalived.conf', result: 'refused', reason: 'keepalived.conf:4:5: error']               || '[lb1] Vigil - Reload refused'                                                                | '=> Reload of /etc/keepalived/keepalived.conf refused: keepalived.conf:4:5: error <='
        'chat.message'                  | [text: 'hello']                                                                                                    || '[lb1] Event chat.message'                                                                    | '=> chat.message <='
    }

    def 'every type the API names has a text of its own'() {
        expect:
        NotifierEvent.TYPES.every { !AlertText.of(event(it, [:])).subject().startsWith('[lb1] Event ') }
    }

    def 'after the => line <=: a blank line, then the event, node, time and every detail in order'() {
        when:
        def text = AlertText.of(event(NotifierEvent.VRRP_INSTANCE,
                [instance: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: '150', cause: 'master down timer']))

        then:
        text.body() == '''\
            => VRRP Instance is now owning VRRP VIPs <=

            event: vrrp.instance
            node: lb1
            time: 2026-05-04T10:15:30.250Z
            instance: VI_1
            from: BACKUP
            to: MASTER
            priority: 150
            cause: master down timer
            '''.stripIndent()
    }

    def 'a missing detail reads as ?, and does not stop the mail'() {
        expect:
        AlertText.of(event(NotifierEvent.VRRP_INSTANCE, [to: 'MASTER'])).subject() == '[lb1] VRRP Instance ? - Entering MASTER state'
    }
}
