package dev.vigil.config.model;

import dev.vigil.config.SourceRef;

/**
 * A notify FIFO and its optional reader script.
 *
 * @param path   the FIFO path
 * @param user   owner user or {@code null}
 * @param group  owner group or {@code null}
 * @param script the {@code *_fifo_script} command or {@code null}
 * @param ref    where the FIFO was configured
 */
public record NotifyFifo(String path, String user, String group, String script, SourceRef ref) {
}
