package dev.vigil.plugin.mail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Writes one alert as an Internet message (RFC 5322) with a MIME text part (RFC 2045): the header
 * fields {@code From}, {@code To}, {@code Subject}, {@code Date}, {@code Message-ID},
 * {@code X-Mailer: Vigil}, {@code MIME-Version}, {@code Content-Type: text/plain; charset=UTF-8}
 * and {@code Content-Transfer-Encoding}, a blank line and the body, every line ended by CRLF.
 *
 * <p>Non-ASCII text stays intact: the subject and display names become RFC 2047 encoded words; the
 * body goes as {@code 8bit} when the server announced 8BITMIME (RFC 6152) and the lines fit in 998
 * octets, otherwise as {@code base64}; a body of short ASCII lines goes as {@code 7bit}. Control
 * characters in header values become spaces, so that no event detail can add a header field.
 * Header fields longer than 78 characters are folded at spaces (RFC 5322 §2.2.3).
 *
 * <p>This is the message, not the SMTP DATA stream: {@link #dotStuffed} makes that.
 */
public final class MailMessage {

    /** RFC 5322 §3.3 date-time, in English whatever the default locale. */
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);
    /** RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF. */
    static final int MAX_LINE = 998;
    private static final int FOLD = 78;
    /** Longer subjects are cut, so that even one without spaces fits in a line. */
    static final int MAX_SUBJECT = 900;
    /**
     * RFC 2047 §2 allows 75 characters per encoded word; 66 keeps {@code Subject: } and a word
     * within the 78 characters of a folded line.
     */
    private static final int ENCODED_WORD = 66;

    /** How the body is encoded. */
    public enum Encoding {
        /** ASCII lines of at most 998 octets. */
        SEVEN_BIT("7bit"),
        /** UTF-8 as is, with BODY=8BITMIME on MAIL FROM. */
        EIGHT_BIT("8bit"),
        /** UTF-8 in base64 lines of 76 characters. */
        BASE64("base64");

        /** The {@code Content-Transfer-Encoding} value. */
        public final String header;

        Encoding(String header) {
            this.header = header;
        }
    }

    private final byte[] bytes;
    private final Encoding encoding;

    private MailMessage(byte[] bytes, Encoding encoding) {
        this.bytes = bytes;
        this.encoding = encoding;
    }

    /**
     * The message.
     *
     * @param eightBitMime whether the server announced 8BITMIME, so that an 8bit body may be sent
     */
    public static MailMessage of(Address from, List<Address> to, String subject, String body, ZonedDateTime date,
                                 String messageId, boolean eightBitMime) {
        List<String> bodyLines = lines(body);
        boolean ascii = bodyLines.stream().allMatch(MailMessage::isAscii);
        boolean fits = bodyLines.stream().allMatch(l -> l.getBytes(StandardCharsets.UTF_8).length <= MAX_LINE);
        Encoding encoding = ascii && fits ? Encoding.SEVEN_BIT : eightBitMime && fits ? Encoding.EIGHT_BIT : Encoding.BASE64;

        StringBuilder out = new StringBuilder();
        header(out, "From", addressList(List.of(from)));
        header(out, "To", addressList(to));
        header(out, "Subject", text(subject));
        header(out, "Date", DATE.format(date));
        header(out, "Message-ID", messageId);
        header(out, "X-Mailer", "Vigil");
        header(out, "MIME-Version", "1.0");
        header(out, "Content-Type", "text/plain; charset=UTF-8");
        header(out, "Content-Transfer-Encoding", encoding.header);
        out.append("\r\n");
        if (encoding == Encoding.BASE64) {
            String b64 = Base64.getMimeEncoder(76, new byte[]{'\r', '\n'})
                    .encodeToString(String.join("\r\n", bodyLines).concat("\r\n").getBytes(StandardCharsets.UTF_8));
            out.append(b64).append("\r\n");
        } else {
            for (String l : bodyLines) {
                out.append(l).append("\r\n");
            }
        }
        return new MailMessage(out.toString().getBytes(StandardCharsets.UTF_8), encoding);
    }

    /** The message's octets: header fields, blank line, body; CRLF line ends. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** How the body is encoded; {@link Encoding#EIGHT_BIT} needs {@code BODY=8BITMIME} on MAIL FROM. */
    public Encoding encoding() {
        return encoding;
    }

    /**
     * The message as the DATA command sends it (RFC 5321 §4.5.2): a line that starts with a period
     * gets one more, and the end is marked by a line holding only a period.
     */
    public byte[] dotStuffed() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + 16);
        boolean lineStart = true;
        for (byte b : bytes) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        out.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** The body's lines, whatever ended them (CRLF, LF or a lone CR: RFC 5321 §2.3.8 allows only CRLF on the wire). */
    static List<String> lines(String body) {
        List<String> lines = new ArrayList<>(List.of(body.split("\r\n|\r|\n", -1)));
        if (!lines.isEmpty() && lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        return lines;
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }

    /** A header value without control characters: they would end the field or add one. */
    static String clean(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? ' ' : c));
        return b.toString();
    }

    /**
     * Unstructured text (RFC 5322 §3.2.5): as it is when ASCII, otherwise RFC 2047 encoded words
     * ({@code =?UTF-8?B?...?=}), each at most 66 characters and never splitting a character.
     */
    static String text(String s) {
        String c = clean(s);
        if (c.length() > MAX_SUBJECT) {
            int end = Character.isHighSurrogate(c.charAt(MAX_SUBJECT - 4)) ? MAX_SUBJECT - 4 : MAX_SUBJECT - 3;
            c = c.substring(0, end) + "...";
        }
        if (isAscii(c)) {
            return c;
        }
        List<String> words = new ArrayList<>();
        String prefix = "=?UTF-8?B?";
        // 4 base64 characters per 3 octets: the most octets that keep the word within 75 characters.
        int maxOctets = (ENCODED_WORD - prefix.length() - 2) / 4 * 3;
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        for (int i = 0; i < c.length(); ) {
            int cp = c.codePointAt(i);
            byte[] enc = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            if (chunk.size() + enc.length > maxOctets) {
                words.add(prefix + Base64.getEncoder().encodeToString(chunk.toByteArray()) + "?=");
                chunk.reset();
            }
            chunk.writeBytes(enc);
            i += Character.charCount(cp);
        }
        if (chunk.size() > 0) {
            words.add(prefix + Base64.getEncoder().encodeToString(chunk.toByteArray()) + "?=");
        }
        // Folding white space between encoded words is not displayed (RFC 2047 §6.2).
        return String.join(" ", words);
    }

    /** {@code From}/{@code To}: addresses separated by commas, display names quoted or encoded. */
    static String addressList(List<Address> addresses) {
        List<String> parts = new ArrayList<>();
        for (Address a : addresses) {
            if (a.display() == null) {
                parts.add(a.mailbox());
                continue;
            }
            String name = clean(a.display());
            String shown;
            if (!isAscii(name)) {
                shown = text(name);
            } else if (name.matches("[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")) {
                shown = name;
            } else {
                shown = "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            }
            parts.add(shown + " <" + a.mailbox() + ">");
        }
        return String.join(", ", parts);
    }

    /** Appends {@code name: value}, folded at spaces so that lines stay within 78 characters where they can. */
    private static void header(StringBuilder out, String name, String value) {
        StringBuilder line = new StringBuilder(name).append(':');
        int lineStart = 0;
        for (String word : value.split(" ", -1)) {
            if (!word.isEmpty() && line.length() - lineStart + 1 + word.length() > FOLD
                    && line.length() - lineStart > (lineStart == 0 ? name.length() + 1 : 0)) {
                line.append("\r\n");
                lineStart = line.length();
            }
            line.append(' ').append(word);
        }
        out.append(line).append("\r\n");
    }
}
