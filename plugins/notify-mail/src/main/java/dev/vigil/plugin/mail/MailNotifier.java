package dev.vigil.plugin.mail;

import dev.vigil.api.ConfigProblem;
import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import org.pf4j.Extension;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code mail} notifier: every event it is given is mailed over SMTP, with keepalived's
 * configuration keywords and wording.
 *
 * <pre>
 * vigil_notifier ops-mail {
 *     type mail
 *     smtp_server 10.9.0.25 587
 *     notification_email {
 *         ops@example.com
 *         "On call &lt;oncall@example.com&gt;"
 *     }
 *     notification_email_from vigil@lb1.example.com
 *     starttls required
 *     smtp_user lb1
 *     smtp_password s3cret
 * }
 * </pre>
 *
 * The keywords and defaults are {@link MailSettings}'s; the subject and body {@link AlertText}'s;
 * the message {@link MailMessage}'s; the SMTP dialogue {@link SmtpClient}'s.
 */
@Extension
public final class MailNotifier implements Notifier {

    static final String TYPE = "mail";

    @Override
    public Set<String> types() {
        return Set.of(TYPE);
    }

    @Override
    public List<ConfigProblem> validate(dev.vigil.api.ConfigBlock block) {
        List<ConfigProblem> problems = new ArrayList<>();
        // No I/O here: the host name only fills defaults, which no problem mentions.
        MailSettings.read(block, "localhost", problems);
        return problems;
    }

    @Override
    public Sink create(NotifierContext context) throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        MailSettings settings = MailSettings.read(context.config(), hostName(), problems);
        var error = MailSettings.firstError(problems);
        if (error.isPresent()) {
            throw new IllegalArgumentException(error.get().location() + ": " + error.get().message());
        }
        try {
            return new MailSink(context, settings, TlsTrust.factory(settings));
        } catch (IOException | GeneralSecurityException e) {
            String at = context.config().last("tls_ca").map(l -> l.locationOf(0) + ": ").orElse("");
            throw new IllegalArgumentException(at + "tls_ca " + settings.tlsCa() + " cannot be used: " + SmtpClient.describe(e), e);
        }
    }

    /**
     * This machine's host name, as keepalived takes it for {@code smtp_helo_name} and
     * {@code notification_email_from} (uname's node name): the kernel's, else the JDK's, else
     * {@code localhost}.
     */
    static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException ignored) {
            // Not Linux, or no procfs: ask the JDK.
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException ignored) {
            return "localhost";
        }
    }
}
