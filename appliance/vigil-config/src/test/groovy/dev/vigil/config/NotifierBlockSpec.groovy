package dev.vigil.config

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

import static dev.vigil.config.ConfigFixture.load

/**
 * {@code vigil_notifier NAME { type T ... }} at the top level: its name, its type and its lines as
 * written, for the daemon to check against the installed notifiers; the parser's own problems at
 * their words. Also {@code smtp_alert} on a real server, kept for the mail alerts.
 */
class NotifierBlockSpec extends Specification {

    @TempDir
    Path dir

    static List<String> located(LoadResult r) {
        r.diagnostics().collect { "${it.ref().line()}:${it.ref().col()}: ${it.severity().label()}: ${it.message()}".toString() }
    }

    def "a vigil_notifier block keeps its name, type and every line with its location"() {
        when:
        def r = load(dir, '''\
            vigil_notifier ops-hook {
                type webhook
                url http://10.9.0.100:8080/hook
                secret s3cret
                events vrrp.* real_server.down
            }
            vigil_notifier audit {
                type script
                command "/usr/local/bin/audit --all"
            }
            ''')

        then:
        !r.hasErrors()
        r.config().notifiers()*.name() == ['ops-hook', 'audit']
        r.config().notifiers()*.type() == ['webhook', 'script']
        def hook = r.config().notifiers()[0]
        hook.raw().children()*.name() == ['type', 'url', 'secret', 'events']
        hook.raw().children()[3].argTexts() == ['vrrp.*', 'real_server.down']
        hook.ref().line() == 1
        r.config().notifiers()[1].raw().children()[1].argTexts() == ['/usr/local/bin/audit --all']
    }

    def "a missing name, a missing or repeated type and a repeated name are errors at their words"() {
        when:
        def r = load(dir, '''\
            vigil_notifier {
                type script
            }
            vigil_notifier a {
                url x
            }
            vigil_notifier b {
                type script
                type webhook
            }
            vigil_notifier c {
                type
            }
            vigil_notifier d {
                type script
            }
            vigil_notifier d {
                type webhook
            }
            ''')

        then:
        located(r).findAll { it.contains('error') } == [
                '1:1: error: "vigil_notifier" needs a name',
                '4:1: error: vigil_notifier a needs a "type" line (e.g. type webhook)',
                '9:5: error: "type" is given twice in vigil_notifier b (first at keepalived.conf:8)',
                '12:5: error: "type" expects one word, the notifier type (e.g. type webhook), got 0',
                '17:16: error: vigil_notifier d is already defined at keepalived.conf:14',
        ]
        r.config().notifiers()*.name() == ['d']
    }

    def "smtp_alert on a real server is kept; unset it is null"() {
        when:
        def r = load(dir, '''\
            virtual_server 10.0.0.1 80 {
                real_server 10.0.1.1 80 {
                    smtp_alert off
                }
                real_server 10.0.1.2 80 {
                    smtp_alert
                }
                real_server 10.0.1.3 80 {
                }
            }
            ''')

        then:
        r.config().virtualServers()[0].realServers()*.smtpAlert() == [false, true, null]
    }
}
