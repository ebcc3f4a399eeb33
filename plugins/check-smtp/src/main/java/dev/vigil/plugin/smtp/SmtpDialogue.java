package dev.vigil.plugin.smtp;

import dev.vigil.api.CheckResult;

import java.util.Locale;

/**
 * The client side of the conversation {@code SMTP_CHECK} holds with one host, as a pure state
 * machine: it is fed the server's reply lines and says what to do next. No I/O and no clock; the
 * probe owns the connection and the deadline.
 *
 * <p>The conversation is keepalived's (check_smtp.c): wait for the greeting and require reply code
 * 220, send {@code HELO helo_name} and require 250, send {@code QUIT} and wait for its reply, whose
 * code does not matter. Unlike keepalived, a multi-line reply ({@code 220-first}, {@code 220 last},
 * RFC 5321 §4.2) is read to its last line before the next command is sent, so a server with a
 * two-line greeting is not mistaken for one that answered HELO with 220.
 */
final class SmtpDialogue {

    /** What the client waits for. */
    enum Phase {
        /** The greeting (RFC 5321 §3.1, §4.3.2: 220, or 554 when there is no service). */
        BANNER,
        /** The reply to {@code HELO} (§4.1.1.1: 250). */
        HELO,
        /** The reply to {@code QUIT} (§4.1.1.10: 221); any reply ends the dialogue. */
        QUIT,
        /** Finished, passed or failed. */
        DONE
    }

    /** What the probe does after a line. */
    sealed interface Step {
        /** Wait for more lines (a continuation line of a multi-line reply). */
        record Wait() implements Step {
        }

        /** Write {@code line} followed by CRLF, then keep reading. */
        record Send(String line) implements Step {
        }

        /** The dialogue is over: the result; the probe closes the connection. */
        record Done(CheckResult result) implements Step {
        }
    }

    static final Step WAIT = new Step.Wait();

    /**
     * RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets with its CRLF; a server past several
     * times that is not speaking SMTP.
     */
    static final int MAX_LINE = 2048;

    private final String helo;
    private Phase phase = Phase.BANNER;
    /** The last line of the HELO reply, for the detail of a pass. */
    private String heloReply;
    private String banner;

    /** A dialogue that introduces itself as {@code heloName}. */
    SmtpDialogue(String heloName) {
        this.helo = heloName;
    }

    Phase phase() {
        return phase;
    }

    /** The next step after the server's line {@code line} (without its CRLF, as ISO-8859-1 text). */
    Step line(String line) {
        if (phase == Phase.DONE) {
            return WAIT;
        }
        // RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
        if (line.length() < 3 || !digit(line.charAt(0)) || !digit(line.charAt(1)) || !digit(line.charAt(2))
                || line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-') {
            return fail(CheckResult.Status.L7RSP, "malformed SMTP reply " + quote(line) + " " + waitingFor());
        }
        if (line.length() > 3 && line.charAt(3) == '-') {
            return WAIT;
        }
        int code = Integer.parseInt(line.substring(0, 3));
        String text = line.length() > 4 ? line.substring(4) : "";
        switch (phase) {
            case BANNER -> {
                if (code != 220) {
                    return fail(CheckResult.Status.L7RSP, "SMTP greeting " + code + " " + quote(text) + " (expected 220)");
                }
                banner = text;
                phase = Phase.HELO;
                return new Step.Send("HELO " + helo);
            }
            case HELO -> {
                if (code != 250) {
                    return fail(CheckResult.Status.L7RSP, "SMTP reply " + code + " " + quote(text) + " to HELO " + helo
                            + " (expected 250)");
                }
                heloReply = text;
                phase = Phase.QUIT;
                return new Step.Send("QUIT");
            }
            case QUIT -> {
                phase = Phase.DONE;
                return new Step.Done(CheckResult.of(CheckResult.Status.L7OK,
                        "SMTP greeting 220 " + quote(banner) + ", HELO answered 250 " + quote(heloReply)));
            }
            default -> throw new IllegalStateException("phase: " + phase);
        }
    }

    /** The server closed the connection before the dialogue finished. */
    Step closed() {
        if (phase == Phase.DONE) {
            return WAIT;
        }
        return fail(CheckResult.Status.L7RSP, "connection closed by the server " + waitingFor());
    }

    /** A line longer than {@link #MAX_LINE} without its end. */
    Step overlong() {
        return fail(CheckResult.Status.L7RSP, "SMTP reply line longer than " + MAX_LINE + " bytes " + waitingFor());
    }

    /** {@code while waiting for the greeting}, and so on: where the dialogue stopped. */
    String waitingFor() {
        return switch (phase) {
            case BANNER -> "while waiting for the greeting";
            case HELO -> "while waiting for the reply to HELO";
            case QUIT -> "while waiting for the reply to QUIT";
            case DONE -> "after the dialogue";
        };
    }

    private Step fail(CheckResult.Status status, String detail) {
        phase = Phase.DONE;
        return new Step.Done(CheckResult.of(status, detail));
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The server's text in quotes, control characters shown as {@code \xNN} and cut at 120 characters. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f) {
                out.append(String.format(Locale.ROOT, "\\x%02x", (int) c & 0xff));
            } else {
                out.append(c == '"' ? "\\\"" : String.valueOf(c));
            }
        }
        return out.append(s.length() > 120 ? "...\"" : "\"").toString();
    }
}
