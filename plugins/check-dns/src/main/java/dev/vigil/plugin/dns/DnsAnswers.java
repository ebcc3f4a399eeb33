package dev.vigil.plugin.dns;

import dev.vigil.api.CheckResult;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;

/**
 * How {@code DNS_CHECK} judges a response, as a pure function of the response and the query: no
 * I/O, no clock. keepalived's rules (check_dns.c): a response with another id is not the answer
 * and is ignored (the probe keeps waiting); so is a message that is not a response (QR clear, which
 * Netty's decoder already refuses); a response with the query's id passes when its rcode is NOERROR
 * (RFC 1035 §4.1.1, RCODE 0) and fails with any other rcode.
 */
final class DnsAnswers {

    private DnsAnswers() {
    }

    /**
     * The result for {@code response} to the query {@code id} for {@code question} ({@code A up.test}),
     * or {@code null} when the response is to be ignored.
     */
    static CheckResult judge(int id, String question, DnsResponse response) {
        if (response.id() != id) {
            return null;
        }
        DnsResponseCode rcode = response.code();
        if (rcode.intValue() != 0) {
            return CheckResult.of(CheckResult.Status.L7RSP, "DNS rcode " + rcode.intValue() + " " + name(rcode)
                    + " for " + question + " (expected NOERROR)");
        }
        int answers = response.count(DnsSection.ANSWER);
        return CheckResult.of(CheckResult.Status.L7OK, "DNS NOERROR for " + question + " (" + answers
                + (answers == 1 ? " answer)" : " answers)"));
    }

    /** The mnemonics of RFC 1035 §4.1.1 and RFC 2136 §2.2, the way operators and dig write them. */
    private static final String[] NAMES = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
            "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};

    /** {@code REFUSED} rather than Netty's {@code Refused(5)}. */
    static String name(DnsResponseCode code) {
        int c = code.intValue();
        if (c >= 0 && c < NAMES.length) {
            return NAMES[c];
        }
        String s = code.toString();
        int paren = s.indexOf('(');
        return (paren > 0 ? s.substring(0, paren) : s).toUpperCase(java.util.Locale.ROOT);
    }
}
