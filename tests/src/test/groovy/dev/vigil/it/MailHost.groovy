package dev.vigil.it

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration

/**
 * Real mail servers on a host of a {@link NetnsLab}, listening on its address, for the specs that
 * mail from running daemons.
 *
 * <p>{@link OpenSmtpd}: Debian's OpenSMTPD in the foreground, in a mount namespace of its own
 * ({@code unshare}, inside the host's network namespace) with its queue and control socket on fresh
 * tmpfs, so that it shares neither with another smtpd on the machine. It takes mail from anyone for
 * the listed recipients of {@code vigil.test} (a virtual table mapping them to {@code nobody}) into
 * a maildir per recipient, recording the envelope in {@code Return-Path} and {@code Delivered-To}.
 *
 * <p>{@link Recorder}: aiosmtpd (Debian's {@code python3-aiosmtpd}) running
 * {@code smtp_recorder.py}, which writes each message with its envelope, in the order they came;
 * with a certificate it offers STARTTLS, and with a user AUTH over TLS. It stands in for OpenSMTPD
 * where TLS is needed: Debian 12's OpenSMTPD 6.8.0p2 fails every TLS handshake with OpenSSL 3
 * (OpenSMTPD issues #1171, #1239).
 */
class MailHost {

    static final String PYTHON = '/usr/bin/python3'

    /** Whether the servers can run here; says what is missing, loudly, and fails under vigil.requireNetns. */
    static boolean present() {
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
        if (new ProcessBuilder(PYTHON, '-c', 'import aiosmtpd').start().waitFor() != 0) {
            missing << 'python3-aiosmtpd (apt-get install python3-aiosmtpd)'
        }
        if (missing) {
            System.err.println("*** SKIPPING mail spec: missing ${missing.join(', ')} ***")
            if (Boolean.getBoolean('vigil.requireNetns')) {
                throw new IllegalStateException("vigil.requireNetns is set but these are missing: ${missing.join(', ')}")
            }
        }
        !missing
    }

    /** A self-signed certificate for {@code altNames} (openssl's subjectAltName syntax); returns [cert, key]. */
    static List<Path> certificate(Path dir, String name, String altNames) {
        Path cert = dir.resolve("${name}.pem")
        Path key = dir.resolve("${name}.key")
        NetnsLab.sh('/usr/bin/openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                '-keyout', key.toString(), '-out', cert.toString(), '-days', '2', '-subj', "/CN=${name}".toString(),
                '-addext', "subjectAltName=${altNames}".toString())
        [cert, key]
    }

    /** Waits until something listens on {@code port} in {@code host}'s namespace. */
    static void awaitListening(NetnsLab lab, String host, int port, Path log, Process process) {
        NetnsLab.waitFor(Duration.ofSeconds(30), "a listener on port ${port} in ${host} (log: ${-> Files.exists(log) ? Files.readString(log) : ''})") {
            assert process.alive: "exited: ${Files.exists(log) ? Files.readString(log) : ''}"
            lab.exec(host, 'ss', '-Hltn', "sport = :${port}".toString()).trim()
        }
    }

    /** A received message: its header fields (unfolded, in order) and its body, CRLF kept. */
    static class Received {
        final List<List<String>> fields = []
        final String body

        Received(byte[] raw) {
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

        /**
         * The body's event fields: the lines {@code name: value} after the first line and the blank
         * one ({@code event}, {@code node}, {@code time}, then every detail), in order.
         */
        Map<String, String> facts() {
            body.readLines().drop(2).findAll { it }.collectEntries { String l ->
                int colon = l.indexOf(': ')
                [l.substring(0, colon), l.substring(colon + 2)]
            }
        }
    }

    /** OpenSMTPD on {@code address}:{@code port} of {@code host}, plain SMTP, a maildir per recipient. */
    static class OpenSmtpd {
        final Process process
        final Path log
        final Path maildir

        OpenSmtpd(NetnsLab lab, String host, String address, int port, List<String> recipients) {
            Path home = Files.createDirectories(lab.dir.resolve("smtpd-${host}-${port}"))
            // OpenSMTPD delivers as nobody: the way down to the maildir must be open to it.
            Files.setPosixFilePermissions(lab.dir, PosixFilePermissions.fromString('rwxr-xr-x'))
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
            // unshare and sh exec into smtpd; the lab kills it with everything else in the namespace.
            process = lab.spawn(host, log, ['/usr/bin/unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c',
                    'mount -t tmpfs -o mode=0711 tmpfs /var/spool/smtpd && mount -t tmpfs tmpfs /run && exec /usr/sbin/smtpd -d -f "$0"',
                    conf.toString()])
            awaitListening(lab, host, port, log, process)
        }

        /** The messages delivered to {@code recipient} so far, oldest first (maildir names start with the time). */
        List<Received> mailbox(String recipient) {
            Path box = maildir.resolve(recipient).resolve('new')
            !Files.isDirectory(box) ? [] : Files.list(box).withCloseable { it.sorted().toList() }
                    .collect { new Received(Files.readAllBytes(it)) }
        }

        String logText() {
            Files.exists(log) ? Files.readString(log) : ''
        }
    }

    /** {@code smtp_recorder.py} on {@code address}:{@code port} of {@code host}, as the class comment says. */
    static class Recorder {
        final Process process
        final Path spill
        final Path log

        /**
         * @param certAndKey [certificate, key] for STARTTLS, or null for plain SMTP only
         * @param user       with {@code password}, the one login AUTH accepts; null for no AUTH
         */
        Recorder(NetnsLab lab, String host, String address, int port, List<Path> certAndKey = null,
                 String user = null, String password = null) {
            Path home = Files.createDirectories(lab.dir.resolve("recorder-${host}-${port}"))
            spill = Files.createDirectories(home.resolve('spill'))
            Path script = home.resolve('smtp_recorder.py')
            Files.write(script, MailHost.getResourceAsStream('smtp_recorder.py').bytes)
            log = home.resolve('server.log')
            List<String> cmd = [PYTHON, script.toString(), '--bind', address, '--port', port as String,
                                '--spill', spill.toString()]
            if (certAndKey) {
                cmd += ['--cert', certAndKey[0].toString(), '--key', certAndKey[1].toString()]
            }
            if (user) {
                cmd += ['--user', user, '--password', password]
            }
            process = lab.spawn(host, log, cmd)
            NetnsLab.waitFor(Duration.ofSeconds(60), "the SMTP recorder to listen (log: ${-> Files.exists(log) ? Files.readString(log) : ''})") {
                assert process.alive: "the SMTP recorder exited: ${Files.readString(log)}"
                Files.exists(log) && Files.readString(log).contains('ready')
            }
        }

        /**
         * Every message taken so far, in the order they came: each its envelope's facts (a list
         * for rcpt_to, text for the others) and the message as {@code message}.
         */
        List<Map> messages() {
            List<Map> got = []
            for (int n = 1; Files.exists(spill.resolve("${n}.env")); n++) {
                Map<String, Object> m = [rcpt_to: []]
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

        String logText() {
            Files.exists(log) ? Files.readString(log) : ''
        }
    }
}
