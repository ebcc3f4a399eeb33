package dev.vigil.plugin.mail

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The real mail servers the plugin's specs deliver to, started and stopped by the specs.
 *
 * <p>{@link OpenSmtpd}: Debian's OpenSMTPD in the foreground on 127.0.0.1, in a mount namespace of
 * its own ({@code unshare}) with its queue and control socket on fresh tmpfs, so that it shares
 * neither with another smtpd on the machine; it takes mail for the listed recipients of
 * {@code vigil.test} (a virtual table mapping them to {@code nobody}) into a maildir per
 * recipient, and refuses the others at RCPT.
 *
 * <p>{@link Submission}: a submission server with STARTTLS and AUTH. OpenSMTPD would be the
 * first choice, but Debian 12's OpenSMTPD 6.8.0p2 cannot do TLS with OpenSSL 3 (its privilege-
 * separated key engine fails every handshake with "EVP lib" / "missing private key",
 * OpenSMTPD issues #1171 and #1239), and GreenMail has no STARTTLS (its issue #135). So this one is
 * aiosmtpd (Debian's {@code python3-aiosmtpd}), run by {@code submission_server.py}: STARTTLS
 * (RFC 3207) with a certificate made here by openssl, AUTH PLAIN and LOGIN (RFC 4954) only after
 * it, each message written with its envelope to a spill directory.
 */
class MailServers {

    /** Whether the servers can run here; the missing parts, else empty. */
    static List<String> missing() {
        List<String> missing = []
        if (!new File('/usr/sbin/smtpd').canExecute()) {
            missing << '/usr/sbin/smtpd (apt-get install opensmtpd)'
        }
        if (!new File('/usr/bin/unshare').canExecute()) {
            missing << '/usr/bin/unshare (util-linux)'
        }
        if (!new File('/usr/bin/openssl').canExecute()) {
            missing << '/usr/bin/openssl'
        }
        if (new ProcessBuilder('/usr/bin/python3', '-c', 'import aiosmtpd').start().waitFor() != 0) {
            missing << 'python3-aiosmtpd (apt-get install python3-aiosmtpd)'
        }
        if (!'root'.equals(System.getProperty('user.name'))) {
            missing << 'root (OpenSMTPD starts as root and mounts its spool)'
        }
        missing
    }

    /** Runs {@code command}, failing with its output unless it exits 0. */
    static void run(List<String> command) {
        def p = new ProcessBuilder(command).redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor() == 0: "${command.join(' ')}: ${out}"
    }

    /** A self-signed certificate for {@code names} (openssl's subjectAltName syntax); returns [cert, key]. */
    static List<Path> certificate(Path dir, String name, String altNames) {
        Path cert = dir.resolve("${name}.pem")
        Path key = dir.resolve("${name}.key")
        run(['/usr/bin/openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
             '-keyout', key.toString(), '-out', cert.toString(), '-days', '2', '-subj', "/CN=${name}".toString(),
             '-addext', "subjectAltName=${altNames}".toString()])
        [cert, key]
    }

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    static void await(String what, Duration limit = Duration.ofSeconds(10), Closure<Boolean> condition) {
        long deadline = System.nanoTime() + limit.toNanos()
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}"
            Thread.sleep(20)
        }
    }

    /** A delivered message: its header fields (unfolded, in order) and its body, CRLF kept. */
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

        /** Every field's name, in order. */
        List<String> names() {
            fields*.getAt(0)
        }
    }

    /** OpenSMTPD on 127.0.0.1:{@code port}, plain SMTP, delivering to {@code maildir}/RECIPIENT. */
    static class OpenSmtpd implements Closeable {
        final Process process
        final Path log
        final Path maildir

        OpenSmtpd(Path dir, int port, List<String> recipients) {
            Path home = Files.createDirectories(dir.resolve("smtpd-${port}"))
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
                listen on 127.0.0.1 port ${port}
                action "deliver" maildir "${maildir}/%{rcpt}" virtual <users>
                match from any for domain "vigil.test" action "deliver"
                """.stripIndent())
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString('rw-------'))
            log = home.resolve('smtpd.log')
            // unshare and sh exec into smtpd: the process is smtpd itself, stopped by destroy().
            process = new ProcessBuilder('/usr/bin/unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c',
                    'mount -t tmpfs -o mode=0711 tmpfs /var/spool/smtpd && mount -t tmpfs tmpfs /run && exec /usr/sbin/smtpd -d -f "$0"',
                    conf.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start()
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
            while (true) {
                try {
                    new Socket('127.0.0.1', port).close()
                    break
                } catch (IOException ignored) {
                    assert process.alive: "smtpd exited: ${Files.readString(log)}"
                    assert System.nanoTime() < deadline: "smtpd did not listen on ${port}: ${Files.readString(log)}"
                    Thread.sleep(50)
                }
            }
        }

        /** The messages delivered to {@code recipient}, waiting up to 10 s for {@code count} of them. */
        List<Received> mailbox(String recipient, int count = 1) {
            Path box = maildir.resolve(recipient).resolve('new')
            await("${count} message(s) for ${recipient} (smtpd log: ${Files.exists(log) ? Files.readString(log) : ''})") {
                Files.isDirectory(box) && Files.list(box).withCloseable { it.count() } >= count
            }
            Files.list(box).withCloseable { it.sorted().toList() }.collect { new Received(Files.readAllBytes(it)) }
        }

        /** Whether anything at all was delivered. */
        boolean empty() {
            Files.list(maildir).withCloseable { it.count() } == 0
        }

        String logText() {
            Files.readString(log)
        }

        @Override
        void close() {
            if (process.alive) {
                process.destroy()
                assert process.waitFor(10, TimeUnit.SECONDS): 'smtpd did not stop'
            }
        }
    }

    /** aiosmtpd on 127.0.0.1:{@code port} with STARTTLS and AUTH, as the class comment says. */
    static class Submission implements Closeable {
        final Process process
        final Path spill
        final Path log

        Submission(Path dir, int port, List<Path> certAndKey, String user, String password, List<String> recipients,
                   List<String> hiddenMechanisms = []) {
            Path home = Files.createDirectories(dir.resolve("submission-${port}"))
            spill = Files.createDirectories(home.resolve('spill'))
            Path script = home.resolve('submission_server.py')
            Files.write(script, MailServers.getResourceAsStream('submission_server.py').bytes)
            log = home.resolve('server.log')
            List<String> cmd = ['/usr/bin/python3', script.toString(), port as String, certAndKey[0].toString(),
                                certAndKey[1].toString(), user, password, spill.toString(), recipients.join(',')]
            cmd.addAll(hiddenMechanisms)
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start()
            await("the submission server to listen: ${Files.exists(log) ? Files.readString(log) : ''}") {
                assert process.alive: "submission server exited: ${Files.readString(log)}"
                Files.readString(log).contains('ready')
            }
        }

        /**
     * The messages taken, waiting up to 10 s for {@code count} of them: each its envelope's facts
     * (lists for rcpt_to and mail_option, text for the others) and the message as {@code message}.
     */
        List<Map> messages(int count = 1) {
            await("${count} message(s) at the submission server (${Files.readString(log)})") {
                Files.list(spill).withCloseable { s -> s.filter { it.toString().endsWith('.env') }.count() } >= count
            }
            (1..count).collect { int n ->
                Map<String, Object> got = [rcpt_to: [], mail_option: []]
                Files.readAllLines(spill.resolve("${n}.env")).each { String line ->
                    def (String name, String value) = line.split(' ', 2) as List
                    if (got[name] instanceof List) {
                        got[name] << value
                    } else {
                        got[name] = value
                    }
                }
                got + [message: new Received(Files.readAllBytes(spill.resolve("${n}.eml")))]
            }
        }

        boolean empty() {
            Files.list(spill).withCloseable { it.count() } == 0
        }

        @Override
        void close() {
            if (process.alive) {
                process.destroy()
                assert process.waitFor(10, TimeUnit.SECONDS): 'submission server did not stop'
            }
        }
    }
}
