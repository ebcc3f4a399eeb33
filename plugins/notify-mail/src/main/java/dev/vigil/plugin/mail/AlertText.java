package dev.vigil.plugin.mail;

import dev.vigil.api.NotifierEvent;

import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;

/**
 * The subject and body of the mail for one event, in keepalived's words where keepalived mails
 * that event (core/smtp.c makes the subject, the callers in vrrp/vrrp_notify.c and the checkers
 * give the rest), and in the same style where it does not:
 *
 * <pre>
 * vrrp.instance     [node] VRRP Instance VI_1 - Entering MASTER state
 *                   => VRRP Instance is now owning VRRP VIPs &lt;=
 * vrrp.group        [node] VRRP Group G1 - Entering BACKUP state
 *                   => All VRRP group instances are now in BACKUP state &lt;=
 * real_server.down  [node] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN
 *                   => CHECK failed on service : connection refused &lt;=
 * real_server.up    [node] Realserver ... - UP
 *                   => CHECK succeed on service &lt;=
 * quorum.up/down    [node] Virtualserver [10.0.0.1]:tcp:80 - UP
 *                   => Gained quorum: healthy weight 3, quorum 2 &lt;=   (keepalived: 2+0=2 &lt;= 3)
 * tracker           [node] Tracker chk_nginx - FAULT
 *                   => Tracker chk_nginx changed from OK to FAULT &lt;=
 * policy.action     [node] Policy drain-eu - drain
 *                   => Policy drain-eu (revision 4) did drain on [10.0.0.2]:tcp:80 &lt;=
 * daemon.start      [node] Vigil - Starting
 * daemon.stop       [node] Vigil - Stopping
 * daemon.reload     [node] Vigil - Reload applied   (or: Reload refused)
 * </pre>
 *
 * keepalived's body is that one line; here a blank line and the event's fields follow it (node,
 * time and every detail, one per line), so that the mail holds everything an operator needs.
 * A type this plugin does not know gets {@code [node] Event TYPE} and the fields.
 *
 * @param subject the subject, one line
 * @param body    the body, lines separated by {@code \n}
 */
public record AlertText(String subject, String body) {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

    /** The text of {@code event}. */
    public static AlertText of(NotifierEvent event) {
        String node = event.node();
        String summary;
        String line;
        switch (event.type()) {
            case NotifierEvent.VRRP_INSTANCE -> {
                String to = upper(d(event, "to"));
                summary = "VRRP Instance " + d(event, "instance") + " - " + entering(to);
                // vrrp_notify.c vrrp_smtp_notifier: the VIPs are owned in MASTER only.
                line = switch (to) {
                    case "MASTER" -> "=> VRRP Instance is now owning VRRP VIPs <=";
                    case "BACKUP", "FAULT" -> "=> VRRP Instance is no longer owning VRRP VIPs <=";
                    case "STOP" -> "=> VRRP Instance stopping <=";
                    default -> "=> VRRP Instance is now in " + to + " state <=";
                };
            }
            case NotifierEvent.VRRP_GROUP -> {
                String to = upper(d(event, "to"));
                summary = "VRRP Group " + d(event, "group") + " - " + entering(to);
                line = "STOP".equals(to) ? "=> All VRRP group instances are now stopping <="
                        : "=> All VRRP group instances are now in " + to + " state <=";
            }
            case NotifierEvent.REAL_SERVER_UP, NotifierEvent.REAL_SERVER_DOWN -> {
                boolean up = NotifierEvent.REAL_SERVER_UP.equals(event.type());
                // smtp.c: "Realserver %s of virtual server %s - %s"; the checkers' bodies.
                summary = "Realserver " + d(event, "real_server") + " of virtual server " + d(event, "virtual_server")
                        + " - " + (up ? "UP" : "DOWN");
                String reason = event.detail("reason");
                line = up ? "=> CHECK succeed on service <="
                        : reason == null || reason.isBlank() ? "=> CHECK failed on service <="
                        : "=> CHECK failed on service : " + reason + " <=";
            }
            case NotifierEvent.QUORUM_UP, NotifierEvent.QUORUM_DOWN -> {
                boolean up = NotifierEvent.QUORUM_UP.equals(event.type());
                // ipwrapper.c do_vs_notifies: "Virtualserver %s - UP", "=> Gained quorum ... <=".
                summary = "Virtualserver " + d(event, "virtual_server") + " - " + (up ? "UP" : "DOWN");
                line = "=> " + (up ? "Gained quorum" : "Lost quorum") + ": healthy weight " + d(event, "healthy")
                        + ", quorum " + d(event, "quorum") + " <=";
            }
            case NotifierEvent.TRACKER -> {
                summary = "Tracker " + d(event, "tracker") + " - " + d(event, "to");
                line = "=> Tracker " + d(event, "tracker") + " changed from " + d(event, "from") + " to " + d(event, "to")
                        + " <=";
            }
            case NotifierEvent.POLICY_ACTION -> {
                summary = "Policy " + d(event, "policy") + " - " + d(event, "action");
                line = "=> Policy " + d(event, "policy") + " (revision " + d(event, "revision") + ") did "
                        + d(event, "action") + " on " + d(event, "target") + " <=";
            }
            case NotifierEvent.DAEMON_START -> {
                summary = "Vigil - Starting";
                line = "=> Vigil " + d(event, "version") + " started with " + d(event, "config") + " <=";
            }
            case NotifierEvent.DAEMON_STOP -> {
                summary = "Vigil - Stopping";
                line = "=> Vigil stopping: " + d(event, "reason") + " <=";
            }
            case NotifierEvent.DAEMON_RELOAD -> {
                boolean applied = !"refused".equalsIgnoreCase(d(event, "result"));
                summary = "Vigil - Reload " + (applied ? "applied" : "refused");
                line = applied ? "=> Configuration " + d(event, "config") + " reloaded <="
                        : "=> Reload of " + d(event, "config") + " refused: " + d(event, "reason") + " <=";
            }
            default -> {
                summary = "Event " + event.type();
                line = "=> " + event.type() + " <=";
            }
        }
        StringBuilder body = new StringBuilder(line).append("\n\n");
        body.append("event: ").append(event.type()).append('\n');
        body.append("node: ").append(node).append('\n');
        body.append("time: ").append(TIME.format(event.time())).append('\n');
        for (Map.Entry<String, String> e : event.details().entrySet()) {
            body.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        // smtp.c: "[router_id] " before every subject.
        return new AlertText("[" + node + "] " + summary, body.toString());
    }

    /** keepalived's subject tail for a state: {@code Entering MASTER state}, or {@code Stopping}. */
    private static String entering(String state) {
        return "STOP".equals(state) ? "Stopping" : "Entering " + state + " state";
    }

    /** A detail, or {@code ?} when the event lacks it (a mail is still better than none). */
    private static String d(NotifierEvent event, String name) {
        String v = event.detail(name);
        return v == null ? "?" : v;
    }

    private static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
