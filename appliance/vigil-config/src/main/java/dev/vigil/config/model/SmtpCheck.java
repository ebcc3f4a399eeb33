package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import java.util.List;

/**
 * {@code SMTP_CHECK}: 220 greeting, HELO, 250, QUIT.
 *
 * @param common   shared options
 * @param heloName {@code helo_name} (smtpchecker.keepalived.org)
 * @param hosts    extra {@code host} blocks, each with its own connection options
 * @param raw      the block as written
 */
public record SmtpCheck(CheckerCommon common, String heloName, List<CheckerCommon> hosts, ConfigNode raw)
        implements Checker {
    public SmtpCheck {
        hosts = List.copyOf(hosts);
    }
}
