package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.util.List;

/**
 * An HTTP_GET / SSL_GET {@code url} block.
 *
 * @param path           {@code path}
 * @param digest         {@code digest} (MD5 hex, lower case) or {@code null}
 * @param statusCodes    {@code status_code} ranges; 200-299 when none given
 * @param virtualhost    {@code virtualhost} or {@code null} (then the checker's / virtual server's)
 * @param regex          {@code regex} or {@code null}
 * @param regexNoMatch   {@code regex_no_match}
 * @param regexOptions   {@code regex_options} words
 * @param regexStack     {@code regex_stack} or {@code null}
 * @param regexMinOffset {@code regex_min_offset} or {@code null}
 * @param regexMaxOffset {@code regex_max_offset} or {@code null}
 * @param ref            where the block starts
 */
public record UrlCheck(String path, String digest, List<StatusRange> statusCodes, String virtualhost,
                       String regex, boolean regexNoMatch, List<String> regexOptions, Integer regexStack,
                       Integer regexMinOffset, Integer regexMaxOffset, SourceRef ref) {
    public UrlCheck {
        statusCodes = List.copyOf(statusCodes);
        regexOptions = List.copyOf(regexOptions);
    }

    /**
     * An inclusive range of HTTP status codes.
     *
     * @param from first code
     * @param to   last code
     */
    public record StatusRange(int from, int to) {
        /** Whether {@code code} is in the range. */
        public boolean contains(int code) {
            return code >= from && code <= to;
        }
    }
}
