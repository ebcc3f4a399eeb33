package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import java.util.List;

/**
 * {@code HTTP_GET} or {@code SSL_GET}.
 *
 * @param common       shared options
 * @param ssl          true for SSL_GET
 * @param urls         the {@code url} blocks
 * @param httpProtocol {@code http_protocol}: 1.0 (the default), 1.0C (also written 1.0c) or 1.1
 * @param virtualhost  {@code virtualhost}, else the real server's, else the virtual server's, or {@code null}
 * @param fastRecovery {@code fast_recovery}
 * @param enableSni    {@code enable_sni}
 * @param sniName      {@code sni_name} or {@code null}
 * @param tlsCompliant {@code tls_compliant}
 * @param raw          the block as written
 */
public record HttpCheck(CheckerCommon common, boolean ssl, List<UrlCheck> urls, String httpProtocol,
                        String virtualhost, boolean fastRecovery, boolean enableSni, String sniName,
                        boolean tlsCompliant, ConfigNode raw) implements Checker {
    public HttpCheck {
        urls = List.copyOf(urls);
    }
}
