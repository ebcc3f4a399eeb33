package dev.vigil.api;

/**
 * What a checker block takes from the {@code real_server} and {@code virtual_server} enclosing it
 * and reads itself, resolved by the host as keepalived does: the real server's value, else the
 * virtual server's. An option the checker block sets itself overrides it; the plugin applies that
 * precedence, since only it reads its block.
 *
 * <p>keepalived lets a checker inherit little else, and what it does the host applies before the
 * plugin sees anything: {@code alpha}, {@code connect_timeout}, {@code retry},
 * {@code delay_before_retry}, {@code delay_loop} and {@code warmup} decide when probes run and how
 * their results count ({@link CheckContext#connectTimeout()} is already the resolved timeout).
 *
 * @param virtualhost {@code virtualhost}: the name {@code HTTP_GET} and {@code SSL_GET} send as
 *                    {@code Host} (and as the TLS server name with {@code enable_sni}) when neither
 *                    the url nor the checker block names one (keepalived's check_http.c); {@code null}
 *                    when neither server names one
 */
public record Inherited(String virtualhost) {

    /** Nothing inherited. */
    public static final Inherited NONE = new Inherited(null);

    public Inherited {
        if (virtualhost != null && virtualhost.isEmpty()) {
            throw new IllegalArgumentException("virtualhost: \"\" (expected: a name, or null for none)");
        }
    }
}
