package dev.vigil.api.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Reads one HTTP response the way keepalived's {@code HTTP_GET} and {@code genhash} read it: the
 * header is everything up to the first empty line ({@code CRLF CRLF}), the status code is the
 * number after the status line's protocol word, and the body is every byte after the header, up to
 * {@code Content-Length} when the header gives one, else up to the end of the connection. The
 * digest is the MD5 of those body bytes exactly as they arrived: a chunked body is hashed with its
 * chunk lines, and nothing is decompressed (keepalived hashes the raw stream too, so that a digest
 * from {@code genhash} matches what the checker computes).
 *
 * <p>Pure and single-threaded: feed it the bytes as they arrive, then {@link #finish()}.
 */
public final class ResponseReader {

    /** The header may not be longer than this: a server that sends more sends no HTTP header. */
    public static final int MAX_HEADER = 64 * 1024;

    private static final byte[] END_OF_HEADER = {'\r', '\n', '\r', '\n'};

    private final MessageDigest md5;
    private byte[] head = new byte[512];
    private int headLength;
    private boolean headerDone;
    private boolean headerTooLong;
    private int statusCode;
    private long contentLength = -1;
    private long bodyBytes;
    private HttpGet.Response finished;

    /** A reader for one response. */
    public ResponseReader() {
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide MD5 (MessageDigest's javadoc).
            throw new IllegalStateException(e);
        }
    }

    /** Takes the next {@code length} bytes of the response from {@code bytes} at {@code offset}. */
    public void feed(byte[] bytes, int offset, int length) {
        if (finished != null) {
            return;
        }
        if (headerDone) {
            body(bytes, offset, length);
            return;
        }
        if (headerTooLong) {
            return;
        }
        int searchFrom = Math.max(0, headLength - (END_OF_HEADER.length - 1));
        if (headLength + length > head.length) {
            head = Arrays.copyOf(head, Math.max(head.length * 2, headLength + length));
        }
        System.arraycopy(bytes, offset, head, headLength, length);
        headLength += length;
        int end = indexOf(head, headLength, searchFrom);
        if (end < 0) {
            if (headLength > MAX_HEADER) {
                headerTooLong = true;
                head = new byte[0];
                headLength = 0;
            }
            return;
        }
        headerDone = true;
        int bodyStart = end + END_OF_HEADER.length;
        header(new String(head, 0, end, StandardCharsets.ISO_8859_1));
        body(head, bodyStart, headLength - bodyStart);
        head = null;
    }

    /** Whether the header has arrived. */
    public boolean headerComplete() {
        return headerDone;
    }

    /** Whether the body is complete before the connection ends: the header gave a length and that many bytes came. */
    public boolean bodyComplete() {
        return headerDone && contentLength >= 0 && bodyBytes >= contentLength;
    }

    /**
     * The response as read so far (call it at the end of the connection, or once {@link #bodyComplete()}),
     * or {@code null} when no complete header arrived: keepalived's "no data received". Bytes fed
     * after the first call are ignored, and every call returns the same response.
     */
    public HttpGet.Response finish() {
        if (!headerDone) {
            return null;
        }
        if (finished == null) {
            finished = new HttpGet.Response(statusCode, HexFormat.of().formatHex(md5.digest()), bodyBytes, contentLength);
        }
        return finished;
    }

    private void header(String text) {
        String[] lines = text.split("\r\n", -1);
        statusCode = statusCode(lines[0]);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                try {
                    long n = Long.parseLong(lines[i].substring(colon + 1).trim());
                    contentLength = n >= 0 ? n : -1;
                } catch (NumberFormatException e) {
                    contentLength = -1;
                }
            }
        }
    }

    /** {@code HTTP/1.1 503 Service Unavailable} gives 503; a line that is not a status line gives 0 (matches no status_code). */
    static int statusCode(String line) {
        if (!line.startsWith("HTTP/")) {
            return 0;
        }
        int space = line.indexOf(' ');
        if (space < 0) {
            return 0;
        }
        int i = space + 1;
        int code = 0;
        int digits = 0;
        while (i < line.length() && Character.isDigit(line.charAt(i)) && digits < 4) {
            code = code * 10 + (line.charAt(i) - '0');
            i++;
            digits++;
        }
        return digits == 3 ? code : 0;
    }

    private void body(byte[] bytes, int offset, int length) {
        int n = length;
        if (contentLength >= 0) {
            n = (int) Math.max(0, Math.min(length, contentLength - bodyBytes));
        }
        if (n > 0) {
            md5.update(bytes, offset, n);
            bodyBytes += n;
        }
    }

    private static int indexOf(byte[] a, int length, int from) {
        outer:
        for (int i = from; i <= length - END_OF_HEADER.length; i++) {
            for (int j = 0; j < END_OF_HEADER.length; j++) {
                if (a[i + j] != END_OF_HEADER[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
