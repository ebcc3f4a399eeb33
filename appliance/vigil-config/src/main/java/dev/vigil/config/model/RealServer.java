package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;
import java.util.List;

/**
 * A {@code real_server}.
 *
 * @param address          the address
 * @param port             the port (the virtual server's when not given), or {@code null}
 * @param weight           {@code weight} (1)
 * @param lvsMethod        {@code lvs_method}/{@code lb_kind}, else the virtual server's
 * @param inhibitOnFailure {@code inhibit_on_failure}, else the virtual server's
 * @param notifyUp         {@code notify_up} or {@code null}
 * @param notifyDown       {@code notify_down} or {@code null}
 * @param uthreshold       {@code uthreshold} (0 = none)
 * @param lthreshold       {@code lthreshold} (0 = none)
 * @param alpha            {@code alpha}, else the virtual server's
 * @param virtualhost      {@code virtualhost}, else the virtual server's, or {@code null}: the {@code Host}
 *                         its {@code HTTP_GET}/{@code SSL_GET} checkers send when they name none
 * @param smtpAlert        {@code smtp_alert}, or {@code null} when not given (the virtual server's, then
 *                         {@code global_defs} decide)
 * @param checkers         health checkers; the server is alive only when all are up
 * @param ref              where the block starts
 */
public record RealServer(InetAddress address, Integer port, int weight, LvsMethod lvsMethod,
                         boolean inhibitOnFailure, String notifyUp, String notifyDown, int uthreshold,
                         int lthreshold, boolean alpha, String virtualhost, Boolean smtpAlert, List<Checker> checkers,
                         SourceRef ref) {
    public RealServer {
        checkers = List.copyOf(checkers);
    }
}
