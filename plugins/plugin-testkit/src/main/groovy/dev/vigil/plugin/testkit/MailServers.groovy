package dev.vigil.plugin.testkit

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * Real mail servers for the specs that mail: the mail notifier's own, on loopback ({@link #LOCAL}),
 * and the network-namespace specs of running daemons, on a host of their lab (a {@link Place} of
 * theirs). The specs start them and read back what they were given.
 *
 * <p>{@link OpenSmtpd}: Debian's OpenSMTPD in the foreground, in a mount namespace of its own
 * ({@code unshare}) with its queue and control socket on fresh tmpfs, so that it shares neither
 * with another smtpd on the machine. It takes mail from anyone for the listed recipients of
 * {@code vigil.test} (a virtual table mapping them to {@code nobody}) into a maildir per
 * recipient, recording the envelope in {@code Return-Path} and {@code Delivered-To}, and refuses
 * the others at RCPT.
 *
 * <p>{@link Recorder}: aiosmtpd (Debian's {@code python3-aiosmtpd}) running
 * {@code smtp_recorder.py}, which writes each message with its envelope, in the order they came;
 * with a certificate it offers STARTTLS (RFC 3207), and with a user AUTH PLAIN and LOGIN (RFC 4954)
 * only over TLS. It stands in for OpenSMTPD where TLS is needed: Debian 12's OpenSMTPD 6.8.0p2
 * cannot do TLS with OpenSSL 3 (its privilege-separated key engine fails every handshake with
 * "EVP lib" / "missing private key", OpenSMTPD issues #1171 and #1239), and GreenMail has no
 * STARTTLS (its issue #135).
 *
 * <p>{@link Scripted}: a listener of the spec's own, on loopback, for the replies no real server
 * gives on demand (a refusing or missing greeting, a hang-up mid-dialogue).
 */
class MailServers {

    /**
     * Where a server runs: this machine's network namespace ({@link #LOCAL}), or another one (a
     * host of a network-namespace lab, which stops what it started when it closes).
     */
    interface Place {
        /** Starts {@code command} there, its output and errors appended to {@code log}. */
        Process spawn(List<String> command, Path log)

        /** Whether something listens on TCP {@code address}:{@code port} there. */
        boolean listening(String address, int port)
    }

    /** This machine's network namespace: processes of the spec's own, a listener found by connecting to it. */
    static final Place LOCAL = new Place() {
        @Override
        Process spawn(List<String> command, Path log) {
            new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start()
        }

        @Override
        boolean listening(String address, int port) {
            try {
                new Socket(address, port).close()
                true
            } catch (IOException ignored) {
                false
            }
        }
    }

    /** What {@link OpenSmtpd} needs that is missing here, else empty. */
    static List<String> missingForOpenSmtpd() {
        List<String> missing = []
        if (!new File('/usr/sbin/smtpd').canExecute()) {
            missing << '/usr/sbin/smtpd (apt-get install opensmtpd)'
        }
        if (!new File('/usr/bin/unshare').canExecute()) {
            missing << '/usr/bin/unshare (util-linux)'
        }
        if (!'root'.equals(System.getProperty('user.name'))) {
            missing << 'root (OpenSMTPD starts as root and mounts its spool)'
        }
        missing
    }

    /** Whether the servers can run here; the missing parts, else empty. */
    static List<String> missing() {
        List<String> missing = missingForOpenSmtpd()
        if (!new File('/usr/bin/openssl').canExecute()) {
            missing << '/usr/bin/openssl'
        }
        if (new ProcessBuilder('/usr/bin/python3', '-c', 'import aiosmtpd').start().waitFor() != 0) {
            missing << 'python3-aiosmtpd (apt-get install python3-aiosmtpd)'
        }
        missing
    }

    /**
     * Whether the servers can run here, for {@code what} (a spec): as
     * {@link CheckPluginSpecification#requireOrSkip}, loud when they cannot and a failure under
     * {@code -Dvigil.requireNetns=true}. A spec that starts only {@link OpenSmtpd} passes
     * {@link #missingForOpenSmtpd()} as {@code missing}.
     */
    static boolean usable(String what, List<String> missing = missing()) {
        CheckPluginSpecification.requireOrSkip(what, missing)
    }

    /** Runs {@code command} here, failing with its output unless it exits 0. */
    static void run(List<String> command) {
        def p = new ProcessBuilder(command).redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor() == 0: "${command.join(' ')}: ${out}"
    }

    /** A self-signed certificate for {@code altNames} (openssl's subjectAltName syntax); returns [cert, key]. */
    static List<Path> certificate(Path dir, String name, String altNames) {
        Path cert = dir.resolve("${name}.pem")
        Path key = dir.resolve("${name}.key")
        run(['/usr/bin/openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
             '-keyout', key.toString(), '-out', cert.toString(), '-days', '2', '-subj', "/CN=${name}".toString(),
             '-addext', "subjectAltName=${altNames}".toString()])
        [cert, key]
    }

    /**
     * Waits up to {@code limit} for {@code condition}, checked every 20 ms; fails naming {@code what}
     * (a GString's lazy parts, {@code ${-> ...}}, are read when it fails).
     */
    static void await(Object what, Duration limit = Duration.ofSeconds(10), Closure<Boolean> condition) {
        long deadline = System.nanoTime() + limit.toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}"
            Thread.sleep(20)
        }
    }

    /** {@code log}'s text, or empty while there is none. */
    static String textOf(Path log) {
        Files.exists(log) ? Files.readString(log) : ''
    }

    /** Stops {@code process} (SIGTERM) if it still runs, waiting up to 10 s for it to end. */
    static void stop(Process process, String what) {
        if (process.alive) {
            process.destroy()
            assert process.waitFor(10, TimeUnit.SECONDS): "${what} did not stop"
        }
    }

    /** A received message: its header fields (unfolded, in order) and its body, CRLF kept. */
    static class Received {
        final List<List<String>> fields = []
        final String body
        final byte[] raw

        Received(byte[] raw) {
            this.raw = raw
            String text = new String(raw, StandardCharsets.UTF_8)
            int end = text.indexOf('\r\n\r\n')
            String head = end >= 0 ? text.substring(0, end) : text.substring(0, text.indexOf('\n\n'))
            body = end >= 0 ? text.substring(end + 4) : text.substring(text.indexOf('\n\n') + 2)
            head.split(/\r?\n(?![ \t])/).each { String f ->
                int colon = f.indexOf(':')
                fields << [f.substring(0, colon), f.substring(colon + 1).replaceAll(/\r?\n[ \t]/, ' ').trim()]
            }
        }

        /** The first field named {@code name}, unfolded. */
        String header(String name) {
            fields.find { it[0].equalsIgnoreCase(name) }?.getAt(1)
        }

        /** Every value of the fields named {@code name}. */
        List<String> headers(String name) {
            fields.findAll { it[0].equalsIgnoreCase(name) }*.getAt(1)
        }

        /** Every field's name, in order. */
        List<String> names() {
            fields*.getAt(0)
        }

        /**
         * The body's event fields, as the mail notifier writes them: the lines {@code name: value}
         * after the first line and the blank one ({@code event}, {@code node}, {@code time}, then
         * every detail), in order.
         */
        Map<String, String> facts() {
            body.readLines().drop(2).findAll { it }.collectEntries { String l ->
                int colon = l.indexOf(': ')
                [l.substring(0, colon), l.substring(colon + 2)]
            }
        }
    }

    /** OpenSMTPD on {@code address}:{@code port} of a {@link Place}, plain SMTP, a maildir per recipient. */
    static class OpenSmtpd implements Closeable {
        final Process process
        final Path log
        final Path maildir

        /** Starts it with its files in a directory of {@code dir}, and waits up to 30 s until it listens. */
        OpenSmtpd(Place place, Path dir, String address, int port, List<String> recipients) {
            Path home = Files.createDirectories(dir.resolve("smtpd-${address}-${port}"))
            // OpenSMTPD delivers as nobody: the way down to the maildir must be open to it.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString('rwxr-xr-x'))
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString('rwxr-xr-x'))
            maildir = Files.createDirectories(home.resolve('mail'))
            Files.setPosixFilePermissions(maildir, PosixFilePermissions.fromString('rwxrwxrwx'))
            Path users = home.resolve('users')
            Files.writeString(users, recipients.collect { "${it} nobody\n" }.join(''))
            Path conf = home.resolve('smtpd.conf')
            Files.writeString(conf, """\
                table users file:${users}
                listen on ${address} port ${port}
                action "deliver" maildir "${maildir}/%{rcpt}" virtual <users>
                match from any for domain "vigil.test" action "deliver"
                """.stripIndent())
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString('rw-------'))
            log = home.resolve('smtpd.log')
            // unshare and sh exec into smtpd: the process is smtpd itself, stopped by close().
            process = place.spawn(['/usr/bin/unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c',
                    'mount -t tmpfs -o mode=0711 tmpfs /var/spool/smtpd && mount -t tmpfs tmpfs /run && exec /usr/sbin/smtpd -d -f "$0"',
                    conf.toString()], log)
            await("smtpd to listen on ${address}:${port} (log: ${-> textOf(log)})", Duration.ofSeconds(30)) {
                assert process.alive: "smtpd exited: ${textOf(log)}"
                place.listening(address, port)
            }
        }

        /** The messages delivered to {@code recipient} so far, oldest first (maildir names start with the time). */
        List<Received> mailbox(String recipient) {
            Path box = maildir.resolve(recipient).resolve('new')
            !Files.isDirectory(box) ? [] : Files.list(box).withCloseable { it.sorted().toList() }
                    .collect { new Received(Files.readAllBytes(it)) }
        }

        /** The messages delivered to {@code recipient}, as {@link #mailbox}, once there are {@code count}; waits up to 10 s. */
        List<Received> awaitMailbox(String recipient, int count = 1) {
            await("${count} message(s) for ${recipient} (smtpd log: ${-> textOf(log)})") {
                mailbox(recipient).size() >= count
            }
            mailbox(recipient)
        }

        String logText() {
            textOf(log)
        }

        @Override
        void close() {
            stop(process, 'smtpd')
        }
    }

    /** {@code smtp_recorder.py} on {@code address}:{@code port} of a {@link Place}, as the class comment says. */
    static class Recorder implements Closeable {
        final Process process
        final Path spill
        final Path log

        /**
         * Starts it with its files in a directory of {@code dir}, and waits up to 60 s until it is ready.
         *
         * @param certAndKey       [certificate, key] for STARTTLS, or null for plain SMTP only
         * @param user             with {@code password}, the one login AUTH accepts; null for no AUTH
         * @param recipients       the only recipients it takes (the others refused at RCPT); null for any
         * @param hiddenMechanisms AUTH mechanisms it does not offer ({@code PLAIN}, {@code LOGIN})
         */
        Recorder(Place place, Path dir, String address, int port, List<Path> certAndKey = null,
                 String user = null, String password = null, List<String> recipients = null,
                 List<String> hiddenMechanisms = []) {
            Path home = Files.createDirectories(dir.resolve("recorder-${address}-${port}"))
            spill = Files.createDirectories(home.resolve('spill'))
            Path script = home.resolve('smtp_recorder.py')
            Files.write(script, MailServers.getResourceAsStream('smtp_recorder.py').bytes)
            log = home.resolve('server.log')
            List<String> cmd = ['/usr/bin/python3', script.toString(), '--bind', address, '--port', port as String,
                                '--spill', spill.toString()]
            if (certAndKey) {
                cmd += ['--cert', certAndKey[0].toString(), '--key', certAndKey[1].toString()]
            }
            if (user) {
                cmd += ['--user', user, '--password', password]
            }
            if (recipients != null) {
                cmd += ['--recipients', recipients.join(',')]
            }
            hiddenMechanisms.each { cmd.addAll(['--hide', it]) }
            process = place.spawn(cmd, log)
            await("the SMTP recorder to listen (log: ${-> textOf(log)})", Duration.ofSeconds(60)) {
                assert process.alive: "the SMTP recorder exited: ${textOf(log)}"
                textOf(log).contains('ready')
            }
        }

        /**
         * Every message taken so far, in the order they came: each its envelope's facts (lists for
         * rcpt_to and mail_option, text for the others) and the message as {@code message}.
         */
        List<Map> messages() {
            List<Map> got = []
            for (int n = 1; Files.exists(spill.resolve("${n}.env")); n++) {
                Map<String, Object> m = [rcpt_to: [], mail_option: []]
                Files.readAllLines(spill.resolve("${n}.env")).each { String line ->
                    def (String name, String value) = line.split(' ', 2) as List
                    if (m[name] instanceof List) {
                        m[name] << value
                    } else {
                        m[name] = value
                    }
                }
                got << (m + [message: new Received(Files.readAllBytes(spill.resolve("${n}.eml")))])
            }
            got
        }

        /** The messages taken, as {@link #messages}, once there are {@code count}; waits up to 10 s. */
        List<Map> awaitMessages(int count = 1) {
            await("${count} message(s) at the SMTP recorder (log: ${-> textOf(log)})") {
                messages().size() >= count
            }
            messages()
        }

        /** Whether it took nothing at all. */
        boolean empty() {
            Files.list(spill).withCloseable { it.count() } == 0
        }

        String logText() {
            textOf(log)
        }

        @Override
        void close() {
            stop(process, 'the SMTP recorder')
        }
    }

    /**
     * A listener on 127.0.0.1 of this machine ({@link TcpListener}) speaking just enough SMTP for
     * what no real server does on demand: a greeting refusing service ({@code 554}, RFC 5321
     * section 3.1), one that never comes, a connection dropped mid-dialogue. To each connection it
     * sends {@code greeting} (the raw text, CRLFs included; empty for none), then answers each line
     * it hears with what {@code reply} returns for that line (raw text again), or hangs up where it
     * returns {@code null}, as it does by default after the first line. Every line heard is kept in
     * {@link #heard}, without its CRLF. A client silent for 2 s is hung up on.
     */
    static class Scripted implements Closeable {
        final List<String> heard = new CopyOnWriteArrayList<>()
        final TcpListener listener

        Scripted(String greeting, Closure<String> reply = { String line -> null }) {
            listener = new TcpListener('127.0.0.1', 0, 50, { Socket s ->
                s.soTimeout = 2000
                def reader = new BufferedReader(new InputStreamReader(s.inputStream, StandardCharsets.ISO_8859_1))
                String answer = greeting
                while (answer != null) {
                    s.outputStream.write(answer.getBytes(StandardCharsets.ISO_8859_1))
                    s.outputStream.flush()
                    String line = reader.readLine()
                    if (line == null) {
                        break
                    }
                    heard << line
                    answer = reply(line)
                }
            })
        }

        int port() {
            listener.port()
        }

        @Override
        void close() {
            listener.close()
        }
    }
}
