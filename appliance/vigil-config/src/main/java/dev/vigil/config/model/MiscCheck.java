package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import java.time.Duration;

/**
 * {@code MISC_CHECK}: a script whose exit status decides.
 *
 * @param common  shared options (retry 0)
 * @param path    {@code misc_path} command line
 * @param timeout {@code misc_timeout} (= delay_loop)
 * @param dynamic {@code misc_dynamic}: exit 2..255 sets weight exit-2
 * @param user    {@code user} or {@code null}
 * @param group   group given with {@code user} or {@code null}
 * @param raw     the block as written
 */
public record MiscCheck(CheckerCommon common, String path, Duration timeout, boolean dynamic, String user,
                        String group, ConfigNode raw) implements Checker {
}
