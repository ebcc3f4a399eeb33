package dev.vigil.plugin.http;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.util.List;
import java.util.Set;

/**
 * {@code HTTP_GET} and {@code SSL_GET} (keepalived's check_http.c and check_ssl.c): a real server
 * is up when every {@code url} answers a {@code GET} with one of its {@code status_code}s (any 2xx
 * by default) and, when the url gives a {@code digest}, with a body whose MD5 is that digest.
 * {@code SSL_GET} does the same over TLS without verifying the server's certificate.
 *
 * <p>The block's own keywords: {@code url { path; digest; status_code; virtualhost }} (several
 * urls), {@code http_protocol} (1.0, 1.0C or 1.0c, 1.1), {@code virtualhost} (else the real
 * server's, else the virtual server's: {@link CheckContext#inherited()}), and for {@code SSL_GET}
 * {@code enable_sni} and {@code sni_name}. The request and the digest are the API's
 * {@link dev.vigil.api.http.HttpGet}, which {@code vigil genhash} uses too, so that a digest it
 * prints is the one this checker computes.
 */
@Extension
public final class HttpChecker implements HealthChecker {

    /** Plain HTTP. */
    public static final String HTTP_GET = "HTTP_GET";
    /** HTTP over TLS. */
    public static final String SSL_GET = "SSL_GET";

    @Override
    public Set<String> keywords() {
        return Set.of(HTTP_GET, SSL_GET);
    }

    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        return HttpConfig.read(block).problems();
    }

    @Override
    public Probe create(CheckContext context) {
        HttpConfig config = HttpConfig.read(context.config());
        if (config.hasErrors()) {
            throw new IllegalArgumentException(context.config().keyword() + " block has errors: " + config.problems().getFirst().message());
        }
        return new HttpProbe(context, config);
    }
}
