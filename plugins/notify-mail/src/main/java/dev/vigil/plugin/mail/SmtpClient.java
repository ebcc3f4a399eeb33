package dev.vigil.plugin.mail;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * One SMTP session (RFC 5321) on a blocking socket, sending one message: greeting, {@code EHLO}
 * (or {@code HELO} when the server refuses it), {@code STARTTLS} (RFC 3207) and a second
 * {@code EHLO}, {@code AUTH PLAIN} or {@code AUTH LOGIN} (RFC 4954), {@code MAIL FROM}, one
 * {@code RCPT TO} per recipient, {@code DATA}, {@code QUIT}. No pipelining: each command waits for
 * its reply.
 *
 * <p><b>Time.</b> The connection attempt and each wait for a reply are bounded by
 * {@code smtp_connect_timeout} (as keepalived's {@code smtp_connection_to}) and, whatever that is,
 * by the deadline of the whole delivery; just past the deadline the socket is closed, so that a
 * write to a server that stopped reading cannot outlast it either. A host name is resolved on a thread of its
 * own, which the deadline bounds too.
 *
 * <p><b>Outcome.</b> A session that could not deliver to anyone throws {@link SmtpException} with
 * the step and the server's reply. Recipients the server refuses are left out and reported in the
 * returned {@link Delivery}; the message still goes to the others.
 */
final class SmtpClient {

    /** RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; more than this is not a mail server. */
    private static final int MAX_REPLY_LINE = 4096;
    private static final int MAX_REPLY_LINES = 200;
    /**
     * How long after the deadline the socket is closed: the reads' own timeouts end the session
     * at the deadline with the step named; the close is for a write that blocks.
     */
    private static final long CLOSE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /** One reply: its code and the text of its lines (after the code and separator). */
    record Reply(int code, List<String> lines) {

        /** The lines' text joined by a space. */
        String text() {
            return String.join(" ", lines).strip();
        }

        /** As errors quote it: {@code 550 "5.1.1 unknown user"}. */
        @Override
        public String toString() {
            return code + " \"" + text() + "\"";
        }
    }

    /**
     * What the session achieved.
     *
     * @param accepted the recipients the message was delivered to (the server took responsibility)
     * @param refused  the recipients the server refused, with its reply to {@code RCPT TO}
     * @param tls      whether the message went over TLS
     * @param auth     the AUTH mechanism used, or {@code null}
     * @param queued   the server's reply to the end of the data, e.g. {@code 250 "2.0.0 1a2b3c Message accepted"}
     */
    record Delivery(List<Address> accepted, Map<Address, Reply> refused, boolean tls, String auth, Reply queued) {
    }

    private final MailSettings settings;
    private final SSLSocketFactory tls;
    private final String server;

    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] buffer = new byte[8192];
    private int pos;
    private int limit;
    private long deadline;

    /**
     * @param tls the factory of the TLS layer, with the trust decisions of the settings made;
     *            {@code null} when {@code starttls no}
     */
    SmtpClient(MailSettings settings, SSLSocketFactory tls) {
        this.settings = settings;
        this.tls = tls;
        this.server = "SMTP server " + settings.server();
    }

    /**
     * Delivers one message.
     *
     * @param from          the envelope sender
     * @param recipients    the envelope recipients
     * @param message       makes the message once the server's extensions are known; its argument
     *                      says whether the server announced 8BITMIME
     * @param deadlineNanos {@link System#nanoTime()} by which the whole session ends
     */
    Delivery send(Address from, List<Address> recipients, Function<Boolean, MailMessage> message, long deadlineNanos)
            throws IOException {
        this.deadline = deadlineNanos;
        connect();
        Thread guard = Thread.ofVirtual().name("mail-deadline").start(this::closeAtDeadline);
        try {
            return session(from, recipients, message);
        } catch (SmtpException e) {
            quietQuit();
            throw e;
        } catch (IOException e) {
            if (remainingNanos() <= 0) {
                throw new SmtpException(server + ": the delivery timeout ran out", e);
            }
            throw new SmtpException(server + ": " + describe(e), e);
        } finally {
            guard.interrupt();
            close();
        }
    }

    private Delivery session(Address from, List<Address> recipients, Function<Boolean, MailMessage> message)
            throws IOException {
        expect(reply("the greeting"), "greeted with", 220);
        Map<String, List<String>> ext = hello();
        boolean secure = false;
        if (settings.startTls() != MailSettings.StartTls.NO) {
            if (ext.containsKey("STARTTLS")) {
                command("STARTTLS");
                expect(reply("STARTTLS"), "answered STARTTLS with", 220);
                startTls();
                secure = true;
                // RFC 3207 §4.2: what the server said before TLS is forgotten; EHLO again.
                ext = hello();
            } else if (settings.startTls() == MailSettings.StartTls.REQUIRED) {
                throw new SmtpException(server + " does not offer STARTTLS (starttls required)"
                        + (ext.isEmpty() ? ": it refused EHLO" : "; it offers " + String.join(", ", ext.keySet())));
            }
        }
        String mechanism = null;
        if (settings.authenticates()) {
            mechanism = authenticate(ext, secure);
        }
        MailMessage m = message.apply(ext.containsKey("8BITMIME"));
        // RFC 6152 §3: an 8bit body is announced on MAIL FROM.
        command("MAIL FROM:<" + from.mailbox() + ">" + (m.encoding() == MailMessage.Encoding.EIGHT_BIT ? " BODY=8BITMIME" : ""));
        expect(reply("MAIL FROM"), "answered MAIL FROM:<" + from.mailbox() + "> with", 250);
        List<Address> accepted = new ArrayList<>();
        Map<Address, Reply> refused = new LinkedHashMap<>();
        for (Address to : recipients) {
            command("RCPT TO:<" + to.mailbox() + ">");
            Reply r = reply("RCPT TO");
            if (r.code() == 250 || r.code() == 251) {
                accepted.add(to);
            } else if (r.code() == 421) {
                // RFC 5321 §3.8: the server is closing the session.
                throw new SmtpException(server + " answered RCPT TO:<" + to.mailbox() + "> with " + r + " and closes the session");
            } else {
                refused.put(to, r);
            }
        }
        if (accepted.isEmpty()) {
            List<String> why = new ArrayList<>();
            refused.forEach((a, r) -> why.add(a.mailbox() + ": " + r));
            throw new SmtpException(server + " refused every recipient (" + String.join("; ", why) + ")");
        }
        command("DATA");
        expect(reply("DATA"), "answered DATA with", 354);
        write(m.dotStuffed());
        Reply queued = reply("the end of the message");
        expect(queued, "answered the end of the message with", 250);
        command("QUIT");
        try {
            reply("QUIT");
        } catch (IOException ignored) {
            // The message is the server's now (RFC 5321 §4.1.1.10); the QUIT reply changes nothing.
        }
        return new Delivery(accepted, refused, secure, mechanism, queued);
    }

    /** EHLO, or HELO when the server does not take EHLO (RFC 5321 §3.2); returns the extensions, keyword to parameters. */
    private Map<String, List<String>> hello() throws IOException {
        command("EHLO " + settings.heloName());
        Reply r = reply("EHLO");
        if (r.code() == 250) {
            Map<String, List<String>> ext = new LinkedHashMap<>();
            for (String line : r.lines().subList(1, r.lines().size())) {
                // RFC 5321 §4.1.1.1 ehlo-line; "AUTH=LOGIN" is what some servers still send for AUTH.
                String[] words = line.strip().split("[ =]+");
                if (words.length > 0 && !words[0].isEmpty()) {
                    List<String> params = new ArrayList<>();
                    for (int i = 1; i < words.length; i++) {
                        params.add(words[i].toUpperCase(Locale.ROOT));
                    }
                    ext.merge(words[0].toUpperCase(Locale.ROOT), params, (a, b) -> {
                        List<String> all = new ArrayList<>(a);
                        all.addAll(b);
                        return all;
                    });
                }
            }
            return ext;
        }
        if (r.code() >= 500 && r.code() < 600) {
            command("HELO " + settings.heloName());
            expect(reply("HELO"), "answered HELO with", 250);
            return Map.of();
        }
        throw new SmtpException(server + " answered EHLO with " + r + " (expected 250)");
    }

    /** RFC 4954: PLAIN when offered (RFC 4616, with the initial response), else LOGIN. */
    private String authenticate(Map<String, List<String>> ext, boolean secure) throws IOException {
        if (!secure && !settings.authCleartext()) {
            throw new SmtpException(server + " offers no STARTTLS, and the password of smtp_user is not sent in the clear"
                    + " (smtp_auth_cleartext no)");
        }
        List<String> mechanisms = ext.get("AUTH");
        if (mechanisms == null) {
            throw new SmtpException(server + " does not offer AUTH" + (secure ? "" : " (before STARTTLS, servers often do not)"));
        }
        Base64.Encoder b64 = Base64.getEncoder();
        if (mechanisms.contains("PLAIN")) {
            byte[] response = ("\0" + settings.user() + "\0" + settings.password()).getBytes(StandardCharsets.UTF_8);
            command("AUTH PLAIN " + b64.encodeToString(response));
            expect(reply("AUTH PLAIN"), "refused AUTH PLAIN for " + settings.user() + ":", 235);
            return "PLAIN";
        }
        if (mechanisms.contains("LOGIN")) {
            command("AUTH LOGIN");
            expect(reply("AUTH LOGIN"), "answered AUTH LOGIN with", 334);
            command(b64.encodeToString(settings.user().getBytes(StandardCharsets.UTF_8)));
            expect(reply("AUTH LOGIN"), "refused AUTH LOGIN user " + settings.user() + ":", 334);
            command(b64.encodeToString(settings.password().getBytes(StandardCharsets.UTF_8)));
            expect(reply("AUTH LOGIN"), "refused AUTH LOGIN for " + settings.user() + ":", 235);
            return "LOGIN";
        }
        throw new SmtpException(server + " offers neither AUTH PLAIN nor AUTH LOGIN (AUTH " + String.join(" ", mechanisms) + ")");
    }

    private void connect() throws IOException {
        List<InetAddress> addresses = resolve();
        IOException last = null;
        for (InetAddress a : addresses) {
            long wait = waitMillis();
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(a, settings.port()), (int) wait);
                s.setTcpNoDelay(true);
                socket = s;
                in = s.getInputStream();
                out = s.getOutputStream();
                return;
            } catch (IOException e) {
                s.close();
                last = e instanceof SocketTimeoutException
                        ? new SmtpException(server + ": no connection to " + a.getHostAddress() + " within " + wait + " ms"
                        + limitName(wait), e)
                        : new SmtpException(server + ": cannot connect to " + a.getHostAddress() + ": " + describe(e), e);
                if (remainingNanos() <= 0) {
                    break;
                }
            }
        }
        throw last != null ? last : new SmtpException(server + ": " + settings.host() + " has no address");
    }

    /** The server's addresses: a literal at once, a name by the system's resolver within the deadline. */
    private List<InetAddress> resolve() throws SmtpException {
        String host = settings.host();
        if (host.indexOf(':') >= 0 || host.matches("[0-9.]+")) {
            try {
                return List.of(InetAddress.getByName(host));
            } catch (UnknownHostException e) {
                throw new SmtpException(server + ": not an address: " + host, e);
            }
        }
        CompletableFuture<InetAddress[]> lookup = new CompletableFuture<>();
        Thread.ofVirtual().name("mail-resolve").start(() -> {
            try {
                lookup.complete(InetAddress.getAllByName(host));
            } catch (Throwable e) {
                lookup.completeExceptionally(e);
            }
        });
        long wait = waitMillis();
        try {
            return List.of(lookup.get(wait, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            throw new SmtpException(server + ": " + host + " not resolved within " + wait + " ms" + limitName(wait));
        } catch (ExecutionException e) {
            throw new SmtpException(server + ": cannot resolve " + host + ": " + describe(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmtpException(server + ": interrupted while resolving " + host, e);
        }
    }

    /** Turns the connection into TLS, verifying what the settings ask (RFC 3207 §4.1). */
    private void startTls() throws IOException {
        SSLSocket s = (SSLSocket) tls.createSocket(socket, settings.host(), settings.port(), true);
        SSLParameters p = s.getSSLParameters();
        if (settings.tlsVerify()) {
            // The server's name (or address) must be in its certificate, as RFC 6125 has it for
            // any TLS client; the JDK's HTTPS rule is that check.
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (!settings.host().contains(":") && !settings.host().matches("[0-9.]+")) {
            p.setServerNames(List.of(new SNIHostName(settings.host())));
        }
        s.setSSLParameters(p);
        long wait = waitMillis();
        s.setSoTimeout((int) wait);
        try {
            s.startHandshake();
        } catch (SocketTimeoutException e) {
            throw new SmtpException(server + ": no TLS handshake within " + wait + " ms" + limitName(wait), e);
        } catch (IOException e) {
            throw new SmtpException(server + ": TLS handshake failed: " + handshakeFailure(e), e);
        }
        socket = s;
        in = s.getInputStream();
        out = s.getOutputStream();
        // RFC 3207 §4.2 / RFC 5321 §4.5.3: anything read before the handshake is discarded.
        pos = 0;
        limit = 0;
    }

    private void command(String line) throws IOException {
        write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one reply (RFC 5321 §4.2: lines "ddd-text" then "ddd text", all with the same code). */
    private Reply reply(String waitingFor) throws IOException {
        List<String> lines = new ArrayList<>();
        int code = -1;
        while (true) {
            String line = line(waitingFor);
            if (line.length() < 3 || !Character.isDigit(line.charAt(0)) || !Character.isDigit(line.charAt(1))
                    || !Character.isDigit(line.charAt(2)) || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
                throw new SmtpException(server + " sent \"" + printable(line) + "\" as the reply to " + waitingFor
                        + " (expected: a reply line, three digits and text)");
            }
            int c = Integer.parseInt(line.substring(0, 3));
            if (code >= 0 && c != code) {
                throw new SmtpException(server + " changed the code within its reply to " + waitingFor + " (" + code + ", then " + c + ")");
            }
            code = c;
            lines.add(line.length() > 4 ? printable(line.substring(4)) : "");
            if (line.length() == 3 || line.charAt(3) == ' ') {
                return new Reply(code, List.copyOf(lines));
            }
            if (lines.size() >= MAX_REPLY_LINES) {
                throw new SmtpException(server + " sent more than " + MAX_REPLY_LINES + " lines in its reply to " + waitingFor);
            }
        }
    }

    /** One line without its CRLF (a bare LF ends it too), each read bounded by the time left. */
    private String line(String waitingFor) throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos == limit) {
                long wait = waitMillis();
                socket.setSoTimeout((int) wait);
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    throw new SmtpException(server + " did not answer " + waitingFor + " within " + wait + " ms" + limitName(wait), e);
                }
                if (n < 0) {
                    throw new SmtpException(server + " closed the connection while waiting for the reply to " + waitingFor);
                }
                pos = 0;
                limit = n;
            }
            byte c = buffer[pos++];
            if (c == '\n') {
                int len = b.length();
                return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
            }
            b.append((char) (c & 0xff));
            if (b.length() > MAX_REPLY_LINE) {
                throw new SmtpException(server + " sent a reply line longer than " + MAX_REPLY_LINE + " octets to " + waitingFor);
            }
        }
    }

    private void expect(Reply r, String what, int code) throws SmtpException {
        if (r.code() != code) {
            throw new SmtpException(server + " " + what + " " + r + " (expected " + code + ")");
        }
    }

    /** How long the next wait may be: smtp_connect_timeout, cut to what the deadline leaves; at least 1 ms. */
    private long waitMillis() throws SmtpException {
        long left = remainingNanos();
        if (left <= 0) {
            throw new SmtpException(server + ": the delivery timeout ran out");
        }
        return Math.max(1, Math.min(settings.connectTimeout().toMillis(), TimeUnit.NANOSECONDS.toMillis(left)));
    }

    /** Names the limit a timeout of {@code wait} ms came from. */
    private String limitName(long wait) {
        return wait == settings.connectTimeout().toMillis() ? " (smtp_connect_timeout)" : " (the delivery timeout)";
    }

    private long remainingNanos() {
        return deadline - System.nanoTime();
    }

    private void closeAtDeadline() {
        try {
            long left = remainingNanos() + CLOSE_MARGIN_NANOS;
            if (left > 0) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
            close();
        } catch (InterruptedException ignored) {
            // The session ended first.
        }
    }

    /** A failed session still says goodbye when it can, without waiting for the answer. */
    private void quietQuit() {
        try {
            if (socket != null && !socket.isClosed()) {
                command("QUIT");
            }
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }

    private void close() {
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Nothing more to do with it.
            }
        }
    }

    /** Why a handshake failed, in the settings' terms when the certificate was the reason. */
    private static String handshakeFailure(IOException e) {
        Throwable root = e;
        CertificateException certificate = null;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            if (root instanceof CertificateException c && certificate == null) {
                certificate = c;
            }
        }
        if (root instanceof CertPathBuilderException) {
            return "its certificate is not trusted (tls_ca, else the JDK's trust store): " + describe(root);
        }
        if (certificate != null && root == certificate && certificate.getMessage() != null
                && certificate.getMessage().startsWith("No ")) {
            // HostnameChecker: "No subject alternative DNS name matching ... found." and the like.
            return "its certificate does not name it: " + describe(certificate);
        }
        return describe(e);
    }

    static String describe(Throwable e) {
        if (e instanceof ConnectException && e.getMessage() != null && e.getMessage().startsWith("Connection refused")) {
            return "connection refused";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** Server text as it may be quoted in a log line: control and non-ASCII octets escaped. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else {
                b.append(String.format("\\x%02x", (int) c));
            }
        }
        return b.toString();
    }
}
