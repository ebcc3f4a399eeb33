package dev.vigil.plugin.mail;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One mail address as an operator writes it in {@code notification_email} or
 * {@code notification_email_from}: a bare mailbox ({@code ops@example.com}) or a display name with
 * the mailbox in angle brackets ({@code "Ops team <ops@example.com>"}, as keepalived allows).
 * The mailbox goes into the envelope ({@code MAIL FROM:<mailbox>}, {@code RCPT TO:<mailbox>}); the
 * whole of it into the {@code From:} and {@code To:} headers.
 *
 * @param display the display name, or {@code null} for a bare mailbox
 * @param mailbox {@code local@domain}, ASCII only
 */
public record Address(String display, String mailbox) {

    /**
     * What the plugin accepts as a mailbox: a local part of printable ASCII without the characters
     * that RFC 5321 §4.1.2 would need quoted, and a domain of letters, digits, dots and hyphens or
     * an address literal ({@code [10.0.0.1]}). Non-ASCII addresses would need SMTPUTF8 (RFC 6531),
     * which the client does not speak.
     */
    private static final Pattern MAILBOX =
            Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+])");
    private static final Pattern DISPLAY_FORM = Pattern.compile("(.*?)\\s*<([^<>]*)>");

    public Address {
        Objects.requireNonNull(mailbox, "mailbox");
    }

    /**
     * Reads {@code text}; throws {@link IllegalArgumentException} with the reason (without the
     * text, which the caller names with its location) when it is not an address.
     */
    public static Address parse(String text) {
        String t = text.strip();
        var m = DISPLAY_FORM.matcher(t);
        String display = null;
        String mailbox = t;
        if (m.matches()) {
            display = m.group(1).strip();
            if (display.length() >= 2 && display.startsWith("\"") && display.endsWith("\"")) {
                display = display.substring(1, display.length() - 1);
            }
            if (display.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException("a control character in the display name");
            }
            display = display.isEmpty() ? null : display;
            mailbox = m.group(2).strip();
        } else if (t.contains("<") || t.contains(">")) {
            throw new IllegalArgumentException("unbalanced angle brackets");
        }
        if (mailbox.isEmpty()) {
            throw new IllegalArgumentException("no mailbox");
        }
        if (mailbox.chars().anyMatch(c -> c > 0x7e)) {
            throw new IllegalArgumentException("a non-ASCII mailbox (SMTPUTF8 is not supported)");
        }
        if (!MAILBOX.matcher(mailbox).matches() || mailbox.startsWith(".") || mailbox.contains("..")
                || mailbox.contains(".@")) {
            throw new IllegalArgumentException("not a mailbox of the form local@domain");
        }
        return new Address(display, mailbox);
    }

    /** The domain part: what follows the last {@code @}. */
    public String domain() {
        return mailbox.substring(mailbox.lastIndexOf('@') + 1);
    }

    /** As written back: {@code ops@example.com} or {@code Ops team <ops@example.com>}. */
    @Override
    public String toString() {
        return display == null ? mailbox : display + " <" + mailbox + ">";
    }
}
