package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.SourceRef;

/**
 * A {@code vigil_notifier NAME { type T ... }} block: one configured notifier. The parser checks the
 * name and that {@code type} is given once; the daemon checks the type against the installed
 * notifiers, its own keywords ({@code events}, {@code timeout}) and hands the block to the
 * notifier's plugin, which checks the rest.
 *
 * @param name the block's name, unique in the configuration
 * @param type the {@code type} word, e.g. {@code webhook}
 * @param raw  the block as written (keyword {@code vigil_notifier}, its lines as children)
 */
public record NotifierBlock(String name, String type, ConfigNode raw) {

    /** Where the block starts. */
    public SourceRef ref() {
        return raw.ref();
    }
}
