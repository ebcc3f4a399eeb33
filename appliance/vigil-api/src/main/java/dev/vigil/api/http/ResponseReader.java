package dev.vigil.api.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reads one HTTP response the way keepalived's {@code HTTP_GET} and {@code genhash} read it: the
 * header is everything up to the first empty line ({@code CRLF CRLF}), the status code is the
 * number after the status line's protocol word, and the body is every byte after the header, up to
 * {@code Content-Length} when the header gives one, else up to the end of the connection. The
 * digest is the MD5 of those body bytes exactly as they arrived: a chunked body is hashed with its
 * chunk lines, and nothing is decompressed (keepalived hashes the raw stream too, so that a digest
 * from {@code genhash} matches what the checker computes).
 *
 * <p>The header is parsed as it streams by, one byte at a time and never copied: the status line's
 * code and the {@code Content-Length} header are all that is kept of it. The body is only counted,
 * unless the reader was asked for its digest (keepalived too hashes only for a url with a
 * {@code digest}). The words of the header are read as {@link String#trim()} and
 * {@link Long#parseLong} would read them: a header line is {@code name: value}, both trimmed of
 * control characters and spaces; a {@code Content-Length} that is not a number, or is negative,
 * counts as none; of several, the last counts.
 *
 * <p>Pure and single-threaded: feed it the bytes as they arrive (a {@code byte[]} or a Netty
 * {@link ByteBuf}, read where it lies), then {@link #finish()}.
 */
public final class ResponseReader {

    /**
     * The header's end must begin within this many bytes: a server that sends more sends no HTTP
     * header, and what it sends after is ignored.
     */
    public static final int MAX_HEADER = 64 * 1024;

    private static final byte[] HTTP = {'H', 'T', 'T', 'P', '/'};
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.ISO_8859_1);

    // The status line: its "HTTP/" prefix, then the first space, then up to four digits.
    private static final int S_PREFIX = 0;
    private static final int S_SPACE = 1;
    private static final int S_DIGITS = 2;
    private static final int S_DONE = 3;

    // A header line after the status line: the name (blanks, "content-length", blanks, ':'), then its value.
    private static final int L_NAME_LEAD = 0;
    private static final int L_NAME = 1;
    private static final int L_NAME_TRAIL = 2;
    private static final int L_VALUE_LEAD = 3;
    private static final int L_VALUE_SIGN = 4;
    private static final int L_VALUE_DIGITS = 5;
    private static final int L_VALUE_TRAIL = 6;
    /** Not a {@code Content-Length} line, or one already found invalid: the rest of the line is skipped. */
    private static final int L_SKIP = 7;

    private final MessageDigest md5;
    private final ByteProcessor headerBytes = this::header;

    private boolean headerDone;
    private boolean headerTooLong;
    /** Header bytes read so far. */
    private int headLength;
    /** How much of CRLF CRLF the last bytes matched (0 to 3). */
    private int endMatch;
    /** Whether the previous byte was a CR: with an LF it ends a line. */
    private boolean cr;
    private int line;

    private int statusState = S_PREFIX;
    private int statusAt;
    private int statusDigits;
    private int statusCode;

    private int lineState = L_NAME_LEAD;
    private int nameAt;
    private boolean negative;
    private long value;

    private long contentLength = -1;
    private long bodyBytes;
    private HttpGet.Response finished;

    /** A reader for one response, computing the body's digest. */
    public ResponseReader() {
        this(true);
    }

    /**
     * A reader for one response; with {@code digest} false the body is counted but not hashed,
     * and the {@link HttpGet.Response#digest() digest} of the response is {@code null}.
     */
    public ResponseReader(boolean digest) {
        if (!digest) {
            md5 = null;
            return;
        }
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide MD5 (MessageDigest's javadoc).
            throw new IllegalStateException(e);
        }
    }

    /** Takes the next {@code length} bytes of the response from {@code bytes} at {@code offset}. */
    public void feed(byte[] bytes, int offset, int length) {
        int i = offset;
        int end = offset + length;
        while (i < end && !headerDone && !headerTooLong && finished == null) {
            header(bytes[i++]);
        }
        if (headerDone && finished == null && i < end) {
            int n = bodyPart(end - i);
            if (md5 != null && n > 0) {
                md5.update(bytes, i, n);
            }
        }
    }

    /**
     * Takes the readable bytes of {@code buf} as the next bytes of the response, reading them where
     * they lie; neither its indexes nor its reference count change.
     */
    public void feed(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        if (i < end && !headerDone && !headerTooLong && finished == null) {
            int stop = buf.forEachByte(i, end - i, headerBytes);
            i = stop < 0 ? end : stop + 1;
        }
        if (headerDone && finished == null && i < end) {
            int n = bodyPart(end - i);
            if (md5 != null && n > 0) {
                md5.update(buf.nioBuffer(i, n));
            }
        }
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
            finished = new HttpGet.Response(statusCode, md5 != null ? HexFormat.of().formatHex(md5.digest()) : null,
                    bodyBytes, contentLength);
        }
        return finished;
    }

    /** How many of the next {@code available} body bytes belong to the body (up to Content-Length), counted. */
    private int bodyPart(int available) {
        int n = available;
        if (contentLength >= 0) {
            n = (int) Math.max(0, Math.min(available, contentLength - bodyBytes));
        }
        bodyBytes += n;
        return n;
    }

    /** One byte of the header; false once it was the last (the header ended, or is too long). */
    private boolean header(byte b) {
        headLength++;
        boolean endOfLine = cr && b == '\n';
        cr = b == '\r';
        // CRLF CRLF, matched as it comes: after a mismatch only a CR can start a new match.
        if (b == (endMatch == 0 || endMatch == 2 ? '\r' : '\n')) {
            endMatch++;
        } else {
            endMatch = b == '\r' ? 1 : 0;
        }
        if (endOfLine) {
            endLine();
        } else if (line == 0) {
            status(b);
        } else {
            headerLine(b);
        }
        if (endMatch == 4) {
            headerDone = true;
            return false;
        }
        if (headLength >= MAX_HEADER + 3) {
            headerTooLong = true;
            return false;
        }
        return true;
    }

    /** {@code HTTP/1.1 503 Service Unavailable} gives 503; a line that is not a status line gives 0 (matches no status_code). */
    private void status(byte b) {
        switch (statusState) {
            case S_PREFIX -> {
                if (b != HTTP[statusAt]) {
                    statusState = S_DONE;
                } else if (++statusAt == HTTP.length) {
                    statusState = S_SPACE;
                }
            }
            case S_SPACE -> {
                if (b == ' ') {
                    statusState = S_DIGITS;
                }
            }
            case S_DIGITS -> {
                if (b >= '0' && b <= '9') {
                    statusCode = statusCode * 10 + (b - '0');
                    if (++statusDigits == 4) {
                        statusState = S_DONE;
                    }
                } else {
                    statusState = S_DONE;
                }
            }
            default -> {
            }
        }
    }

    /** One byte of a header line after the status line, looking for {@code Content-Length}. */
    private void headerLine(byte b) {
        boolean blank = (b & 0xff) <= ' ';
        switch (lineState) {
            case L_NAME_LEAD, L_NAME -> {
                if (lineState == L_NAME_LEAD && blank) {
                    return;
                }
                // The name up to the first ':', trimmed, is "content-length" in any case, or the line is skipped.
                if (nameAt < CONTENT_LENGTH.length && lower(b) == CONTENT_LENGTH[nameAt]) {
                    nameAt++;
                    lineState = L_NAME;
                } else if (nameAt == CONTENT_LENGTH.length && (blank || b == ':')) {
                    lineState = b == ':' ? L_VALUE_LEAD : L_NAME_TRAIL;
                } else {
                    lineState = L_SKIP;
                }
            }
            case L_NAME_TRAIL -> lineState = b == ':' ? L_VALUE_LEAD : blank ? L_NAME_TRAIL : L_SKIP;
            case L_VALUE_LEAD -> {
                if (blank) {
                    return;
                }
                if (b == '+' || b == '-') {
                    negative = b == '-';
                    lineState = L_VALUE_SIGN;
                } else {
                    valueDigit(b);
                }
            }
            case L_VALUE_SIGN, L_VALUE_DIGITS -> {
                if (blank && lineState == L_VALUE_DIGITS) {
                    lineState = L_VALUE_TRAIL;
                } else {
                    valueDigit(b);
                }
            }
            case L_VALUE_TRAIL -> {
                if (!blank) {
                    invalidLength();
                }
            }
            default -> {
            }
        }
    }

    private void valueDigit(byte b) {
        if (b < '0' || b > '9') {
            invalidLength();
            return;
        }
        int d = b - '0';
        // Long.parseLong's range: a value past Long.MAX_VALUE is not a number (and -0 is 0).
        if (value > (Long.MAX_VALUE - d) / 10) {
            invalidLength();
            return;
        }
        value = value * 10 + d;
        lineState = L_VALUE_DIGITS;
    }

    /** A {@code Content-Length} line whose value is not a length: the header has no length, unless a later line gives one. */
    private void invalidLength() {
        contentLength = -1;
        lineState = L_SKIP;
    }

    private void endLine() {
        if (line == 0) {
            if (statusDigits != 3) {
                // No status line, or a code of fewer or more than three digits: no status.
                statusCode = 0;
            }
        } else if (lineState == L_VALUE_DIGITS || lineState == L_VALUE_TRAIL) {
            contentLength = negative && value != 0 ? -1 : value;
        } else if (lineState == L_VALUE_LEAD || lineState == L_VALUE_SIGN) {
            // "Content-Length:" with no number.
            contentLength = -1;
        }
        line++;
        lineState = L_NAME_LEAD;
        nameAt = 0;
        negative = false;
        value = 0;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }
}
