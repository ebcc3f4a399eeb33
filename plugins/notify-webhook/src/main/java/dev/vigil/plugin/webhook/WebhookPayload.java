package dev.vigil.plugin.webhook;

import dev.vigil.api.Json;
import dev.vigil.api.NotifierEvent;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * The bytes a webhook POSTs for one event, and their signature.
 *
 * <p>The body is one flat JSON object (RFC 8259), UTF-8, every value a string:
 * <pre>
 * {"id":"3f2a...","event":"vrrp.instance","node":"lb-1","time":"2026-11-30T10:40:41.123Z",
 *  "instance":"VI_1","from":"BACKUP","to":"MASTER","priority":"100","cause":"..."}
 * </pre>
 * {@code id}, {@code event} (the type), {@code node} and {@code time} (ISO-8601, UTC, milliseconds)
 * come first, then the event's details in their order, under their own names (the fields each type
 * carries are listed in {@link NotifierEvent}); a detail whose name is one of the first four is
 * written as {@code detail_NAME}. Details are text in the API and stay text here, so a receiver
 * sees one type per field whatever the event.
 *
 * <p>{@code id} is the first 128 bits of a SHA-256 over the event's type, node, exact time and
 * details, in hex: the same event gives the same id in every attempt, at every URL and from every
 * notifier block, so a receiver drops a duplicate (a retry whose earlier attempt did arrive but
 * whose answer was lost) by remembering the ids it has seen.
 *
 * <p>The signature is {@code sha256=} and the lower-case hex HMAC-SHA256 (RFC 2104) of the exact
 * body bytes, keyed with the secret's UTF-8 bytes. It covers everything the receiver acts on,
 * {@code time} and {@code id} included, so no timestamp header is needed: a receiver refuses a body
 * whose {@code time} is older than its replay window, and one whose {@code id} it has already
 * seen within that window. Every attempt of a delivery sends the same bytes and signature.
 */
final class WebhookPayload {

    static final String SIGNATURE_HEADER = "X-Vigil-Signature";
    static final Set<String> FIRST = Set.of("id", "event", "node", "time");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final HexFormat HEX = HexFormat.of();

    private WebhookPayload() {
    }

    /** The event's id: 32 hex digits, a function of the whole event. */
    static String id(NotifierEvent event) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        // Each part length-prefixed, so that no two different events hash the same bytes.
        part(sha, event.type());
        part(sha, event.node());
        part(sha, event.time().toString());
        for (Map.Entry<String, String> d : event.details().entrySet()) {
            part(sha, d.getKey());
            part(sha, d.getValue());
        }
        return HEX.formatHex(sha.digest(), 0, 16);
    }

    private static void part(MessageDigest sha, String s) {
        byte[] b = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
        sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
        sha.update(b);
    }

    /** The JSON body of {@code event} with {@code id}, UTF-8. */
    static byte[] json(NotifierEvent event, String id) {
        StringBuilder out = new StringBuilder(256).append('{');
        field(out, "id", id);
        field(out.append(','), "event", event.type());
        field(out.append(','), "node", event.node());
        field(out.append(','), "time", TIME.format(event.time()));
        for (Map.Entry<String, String> d : event.details().entrySet()) {
            String name = FIRST.contains(d.getKey()) ? "detail_" + d.getKey() : d.getKey();
            field(out.append(','), name, d.getValue() == null ? "" : d.getValue());
        }
        return out.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void field(StringBuilder out, String name, String value) {
        Json.string(out, name);
        out.append(':');
        Json.string(out, value);
    }

    /** {@code sha256=HEX}: HMAC-SHA256 of {@code body} keyed with {@code secret}. */
    static String signature(byte[] secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return "sha256=" + HEX.formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }
}
