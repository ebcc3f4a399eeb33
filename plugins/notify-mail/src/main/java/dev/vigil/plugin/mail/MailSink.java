package dev.vigil.plugin.mail;

import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import dev.vigil.api.NotifierEvent;

import javax.net.ssl.SSLSocketFactory;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One configured {@code mail} notifier: each event becomes one mail to every recipient, sent in
 * one SMTP session that ends within the host's delivery timeout. No retry: a failed session is a
 * failed delivery (the host counts and logs it), as keepalived drops an alert it could not send.
 *
 * <p>A delivery that reached some recipients but was refused for others is reported as a failure
 * naming the refused ones and the server's replies; the others have their mail.
 */
final class MailSink implements Notifier.Sink {

    private final NotifierContext context;
    private final MailSettings settings;
    private final SSLSocketFactory tls;

    MailSink(NotifierContext context, MailSettings settings, SSLSocketFactory tls) {
        this.context = context;
        this.settings = settings;
        this.tls = tls;
    }

    @Override
    public void deliver(NotifierEvent event) throws Exception {
        long deadline = System.nanoTime() + context.deliveryTimeout().toNanos();
        AlertText text = AlertText.of(event);
        ZonedDateTime now = ZonedDateTime.now(context.clock());
        // RFC 5322 §3.6.4: unique on the right of the @ through the host's name.
        String messageId = "<" + now.toInstant().toEpochMilli() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".vigil@" + settings.heloName().replace("[", "").replace("]", "") + ">";
        SmtpClient.Delivery d = new SmtpClient(settings, tls).send(settings.from(), settings.recipients(),
                eightBit -> MailMessage.of(settings.from(), settings.recipients(), text.subject(), text.body(), now, messageId,
                        eightBit),
                deadline);
        List<String> to = d.accepted().stream().map(Address::mailbox).toList();
        if (!d.refused().isEmpty()) {
            List<String> why = new ArrayList<>();
            d.refused().forEach((a, r) -> why.add(a.mailbox() + ": " + r));
            throw new SmtpException("SMTP server " + settings.server() + " refused " + String.join("; ", why)
                    + "; \"" + text.subject() + "\" was mailed to " + String.join(", ", to));
        }
        context.logger().log(System.Logger.Level.INFO, "mailed \"" + text.subject() + "\" to " + String.join(", ", to)
                + " through " + settings.server() + (d.tls() ? " (TLS" + (d.auth() != null ? ", AUTH " + d.auth() : "") + ")"
                : d.auth() != null ? " (AUTH " + d.auth() + ")" : ""));
    }

    /** Nothing is held between deliveries: each opens and closes its own connection. */
    @Override
    public void close() {
    }
}
