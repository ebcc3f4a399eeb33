package dev.vigil.plugin.mail

import dev.vigil.api.ConfigProblem
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Duration

/**
 * The mail notifier's keywords as {@code validate} and {@code create} read them: keepalived's
 * defaults, both ways of listing recipients, and a located problem for each mistake.
 */
class MailSettingsSpec extends Specification {

    @TempDir
    Path dir

    final MailNotifier notifier = new MailNotifier()

    /** The problems of the block, each {@code LINE:COLUMN SEVERITY message}. */
    List<String> problems(String lines) {
        notifier.validate(NotifierBlocks.block(dir, lines)).collect { ConfigProblem p ->
            "${p.location().line()}:${p.location().column()} ${p.severity()} ${p.message()}".toString()
        }
    }

    MailSettings read(String lines, String hostName = 'lb1') {
        List<ConfigProblem> problems = []
        def s = MailSettings.read(NotifierBlocks.block(dir, lines), hostName, problems)
        assert problems.isEmpty()
        s
    }

    def "keepalived's defaults: port 25, the host name for HELO and the sender, 30 s, no TLS"() {
        when:
        def s = read('''\
            smtp_server 10.0.0.25
            notification_email ops@example.com''')

        then:
        s.host() == '10.0.0.25'
        s.port() == 25
        s.heloName() == 'lb1'
        s.from() == new Address(null, 'keepalived@lb1')
        s.connectTimeout() == Duration.ofSeconds(30)
        s.startTls() == MailSettings.StartTls.NO
        !s.authenticates()
        s.tlsVerify()
        s.tlsCa() == null
        s.server() == '10.0.0.25:25'
    }

    def "recipients in keepalived's block form, on the line and as 'Name <address>', in order"() {
        when:
        def s = read('''\
            smtp_server mail.example.com 587
            notification_email {
                ops@example.com
                On call <oncall@example.com>
                "Night desk <night@example.com>"
            }
            notification_email extra@example.com "Team Lead <lead@example.com>"
            notification_email_from Vigil LB1 <vigil@lb1.example.com>
            smtp_helo_name lb1.example.com
            smtp_connect_timeout 2.5''')

        then:
        s.recipients()*.toString() == ['ops@example.com', 'On call <oncall@example.com>', 'Night desk <night@example.com>',
                                       'extra@example.com', 'Team Lead <lead@example.com>']
        s.from() == new Address('Vigil LB1', 'vigil@lb1.example.com')
        s.server() == 'mail.example.com:587'
        s.heloName() == 'lb1.example.com'
        s.connectTimeout() == Duration.ofMillis(2500)
    }

    def 'TLS and AUTH settings; tls_ca is relative to the file that names it'() {
        when:
        def s = read('''\
            smtp_server [2001:db8::25] 587
            notification_email ops@example.com
            starttls required
            smtp_user lb1
            smtp_password "pass word"
            tls_ca certs/ca.pem''')

        then:
        s.host() == '2001:db8::25'
        s.server() == '[2001:db8::25]:587'
        s.startTls() == MailSettings.StartTls.REQUIRED
        s.user() == 'lb1'
        s.password() == 'pass word'
        s.tlsCa() == dir.resolve('certs/ca.pem')
        !s.toString().contains('pass word')
    }

    def 'every mistake is located at the word it is about'() {
        expect:
        problems(lines) == [expected]

        where:
        lines                                                                      || expected
        'notification_email ops@example.com'                                       || '1:1 ERROR a mail notifier needs smtp_server HOST [PORT]'
        'smtp_server 10.0.0.1'                                                     || '1:1 ERROR a mail notifier needs at least one recipient (expected: notification_email { ADDR ... })'
        'smtp_server 10.0.0.1 70000\nnotification_email a@b.c'                     || '3:26 ERROR smtp_server port "70000" (expected: 1-65535)'
        'smtp_server 10.0.0.300\nnotification_email a@b.c'                         || '3:17 ERROR smtp_server "10.0.0.300" (expected: an IPv4 or IPv6 address or a host name)'
        'smtp_server 10.0.0.1 25 x\nnotification_email a@b.c'                      || '3:29 ERROR smtp_server takes an address and an optional port (expected: smtp_server HOST [PORT])'
        'smtp_server 10.0.0.1\nnotification_email ops-at-example.com'              || '4:24 ERROR "ops-at-example.com" is not a mail address: not a mailbox of the form local@domain (expected: local@domain or "Name <local@domain>")'
        'smtp_server 10.0.0.1\nnotification_email {\n  ops@\n}'                    || '5:7 ERROR "ops@" is not a mail address: not a mailbox of the form local@domain (expected: local@domain or "Name <local@domain>")'
        'smtp_server 10.0.0.1\nnotification_email "Zoë <zoë@example.com>"'        || '4:24 ERROR "Zoë <zoë@example.com>" is not a mail address: a non-ASCII mailbox (SMTPUTF8 is not supported) (expected: local@domain or "Name <local@domain>")'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\nsmtp_connect_timeout 0'   || '5:26 ERROR smtp_connect_timeout "0" (expected: seconds, more than 0 and at most 3600)'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\nstarttls maybe'           || '5:14 ERROR starttls "maybe" (expected: no, yes or required)'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\ntls_verify perhaps'       || '5:16 ERROR tls_verify "perhaps" (expected: yes or no)'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\nsmtp_helo_name "a b"'     || '5:20 ERROR smtp_helo_name "a b" (expected: a domain or address literal, one word of printable ASCII)'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\nsmtp_pasword x'           || '5:5 WARNING unknown keyword "smtp_pasword" in a mail notifier is ignored (expected: smtp_server, smtp_helo_name, smtp_connect_timeout, notification_email_from, notification_email, starttls, smtp_user, smtp_password, smtp_auth_cleartext, tls_verify, tls_ca)'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\nstarttls yes\nsmtp_user u' || '6:5 ERROR smtp_user without smtp_password'
        'smtp_server 10.0.0.1\nnotification_email a@b.c\ntls_ca /ca.pem'           || '5:5 WARNING tls_ca has no effect with starttls no (the default)'
    }

    def 'AUTH without TLS is refused unless smtp_auth_cleartext says so'() {
        expect:
        problems('''\
            smtp_server 10.0.0.1
            notification_email a@b.c
            smtp_user u
            smtp_password p''') == ['5:5 ERROR smtp_user would send the password in the clear (expected: starttls yes or required, or smtp_auth_cleartext yes to allow it)']
        problems('''\
            smtp_server 10.0.0.1
            notification_email a@b.c
            smtp_user u
            smtp_password p
            smtp_auth_cleartext yes''').isEmpty()
    }

    def "the host's keywords are the host's: no complaint about them"() {
        expect:
        problems('''\
            smtp_server 10.0.0.1
            notification_email a@b.c
            events vrrp.instance real_server.down
            timeout 5''').isEmpty()
    }

    def 'create refuses a block validate would refuse, naming the place'() {
        given:
        def block = NotifierBlocks.block(dir, 'notification_email a@b.c')

        when:
        notifier.create([config: { block }, name: { 'ops-mail' }] as dev.vigil.api.NotifierContext)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == "${dir.resolve('keepalived.conf')}:1:1: a mail notifier needs smtp_server HOST [PORT]".toString()
    }

    def 'a tls_ca that is not there fails create, at its location'() {
        given:
        def block = NotifierBlocks.block(dir, '''\
            smtp_server 10.0.0.1
            notification_email a@b.c
            starttls yes
            tls_ca missing.pem''')

        when:
        notifier.create([config: { block }] as dev.vigil.api.NotifierContext)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.startsWith("${dir.resolve('keepalived.conf')}:6:12: tls_ca ${dir.resolve('missing.pem')} cannot be used: ")
    }
}
