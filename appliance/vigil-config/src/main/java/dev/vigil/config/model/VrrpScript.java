package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.time.Duration;

/**
 * A {@code vrrp_script}.
 *
 * @param name     the script name
 * @param script   the command line
 * @param interval {@code interval} (1 s)
 * @param timeout  {@code timeout} (= interval)
 * @param weight   {@code weight} -253..253 (0: FAULT on failure)
 * @param reverse  {@code weight ... reverse}
 * @param rise     {@code rise} (1)
 * @param fall     {@code fall} (1)
 * @param user     {@code user} or {@code null} (then {@code script_user})
 * @param group    the group given with {@code user} or {@code null}
 * @param initFail {@code init_fail}
 * @param ref      where the block starts
 */
public record VrrpScript(String name, String script, Duration interval, Duration timeout, int weight,
                         boolean reverse, int rise, int fall, String user, String group, boolean initFail,
                         SourceRef ref) {
}
