package dev.vigil.plugin.mail

import spock.lang.Specification

import java.nio.charset.StandardCharsets
import java.time.ZoneOffset
import java.time.ZonedDateTime

/**
 * The message as octets: header fields, CRLF line ends, encodings, folding, and the DATA stream's
 * dot-stuffing.
 */
class MailMessageSpec extends Specification {

    static final ZonedDateTime DATE = ZonedDateTime.of(2026, 5, 4, 10, 15, 30, 0, ZoneOffset.ofHours(2))
    static final Address FROM = new Address(null, 'vigil@lb1.example.com')
    static final List<Address> TO = [new Address(null, 'ops@example.com'), new Address('On call', 'oncall@example.com')]

    static MailMessage message(String subject, String body, boolean eightBit = true) {
        MailMessage.of(FROM, TO, subject, body, DATE, '<1.2.vigil@lb1>', eightBit)
    }

    static String text(MailMessage m) {
        new String(m.bytes(), StandardCharsets.UTF_8)
    }

    /** Decodes RFC 2047 B words and removes the folding between them, as a mail reader shows the subject. */
    static String decodeWords(String value) {
        value.replaceAll(/\?=\s+=\?/, '?==?').replaceAll(/=\?UTF-8\?B\?([^?]*)\?=/) { all, b64 ->
            new String(Base64.decoder.decode(b64 as String), StandardCharsets.UTF_8)
        }
    }

    def 'an ASCII alert: the header fields in order, a blank line, the body in 7bit, CRLF everywhere'() {
        expect:
        text(message('[lb1] VRRP Instance VI_1 - Entering MASTER state', '=> VRRP Instance is now owning VRRP VIPs <=\n\nevent: vrrp.instance\n')) ==
                'From: vigil@lb1.example.com\r\n' +
                'To: ops@example.com, On call <oncall@example.com>\r\n' +
                'Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n' +
                'Date: Mon, 4 May 2026 10:15:30 +0200\r\n' +
                'Message-ID: <1.2.vigil@lb1>\r\n' +
                'X-Mailer: Vigil\r\n' +
                'MIME-Version: 1.0\r\n' +
                'Content-Type: text/plain; charset=UTF-8\r\n' +
                'Content-Transfer-Encoding: 7bit\r\n' +
                '\r\n' +
                '=> VRRP Instance is now owning VRRP VIPs <=\r\n' +
                '\r\n' +
                'event: vrrp.instance\r\n'
    }

    def 'UTF-8: the subject in encoded words that decode back, the body 8bit with 8BITMIME and base64 without'() {
        given:
        String subject = '[lb1] Policy drain-zürich - drain ' + '☃' * 40

        when:
        def eight = message(subject, 'raison : connexion refusée\n', true)
        def seven = message(subject, 'raison : connexion refusée\n', false)
        def headers = text(eight).split('\r\n\r\n')[0]
        def subjectField = headers.readLines().dropWhile { !it.startsWith('Subject:') }.takeWhile { it.startsWith('Subject:') || it.startsWith(' ') }

        then: 'every header line is ASCII and at most 78 characters; the words decode to the subject'
        headers.chars().every { it < 0x80 }
        headers.readLines().every { it.length() <= 78 }
        subjectField.size() > 2
        decodeWords(subjectField.join('\r\n').substring('Subject: '.length())) == subject

        and:
        eight.encoding() == MailMessage.Encoding.EIGHT_BIT
        text(eight).endsWith('Content-Transfer-Encoding: 8bit\r\n\r\nraison : connexion refusée\r\n')
        seven.encoding() == MailMessage.Encoding.BASE64
        def b64 = text(seven).split('\r\n\r\n', 2)[1]
        new String(Base64.mimeDecoder.decode(b64), StandardCharsets.UTF_8) == 'raison : connexion refusée\r\n'
    }

    def 'a body line beyond 998 octets goes as base64 even in ASCII'() {
        expect:
        message('s', 'x' * 999).encoding() == MailMessage.Encoding.BASE64
        message('s', 'x' * 998).encoding() == MailMessage.Encoding.SEVEN_BIT
    }

    def 'a line break in a detail cannot add a header field; bare LF and CR in the body become CRLF'() {
        when:
        def t = text(message('[lb1] Tracker x\r\nBcc: everyone@example.com - FAULT', 'a\nb\rc\r\nd'))

        then:
        t.contains('Subject: [lb1] Tracker x  Bcc: everyone@example.com - FAULT\r\n')
        !t.contains('\r\nBcc:')
        t.endsWith('\r\n\r\na\r\nb\r\nc\r\nd\r\n')
    }

    def 'display names with specials are quoted, non-ASCII ones encoded'() {
        expect:
        MailMessage.addressList([new Address('Ops, night', 'ops@example.com'), new Address('Zoë', 'zoe@example.com'),
                                 new Address(null, 'a@b.c')]) ==
                '"Ops, night" <ops@example.com>, =?UTF-8?B?Wm/Dqw==?= <zoe@example.com>, a@b.c'
    }

    def 'DATA: a line starting with a period gets another (RFC 5321 §4.5.2), and a lone period ends it'() {
        when:
        def data = new String(message('s', '.\n..two\nx.y\n').dotStuffed(), StandardCharsets.UTF_8)

        then:
        data.endsWith('\r\n\r\n..\r\n...two\r\nx.y\r\n.\r\n')
        data.count('\r\n.\r\n') == 1
    }
}
