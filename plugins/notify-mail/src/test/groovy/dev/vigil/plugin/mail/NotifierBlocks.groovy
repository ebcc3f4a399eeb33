package dev.vigil.plugin.mail

import dev.vigil.api.ConfigBlock
import dev.vigil.config.Diagnostics
import dev.vigil.config.LoadOptions
import dev.vigil.config.lex.ConfigReader
import dev.vigil.config.lex.TreeBuilder
import dev.vigil.daemon.plugin.ConfigBlocks

import java.nio.file.Files
import java.nio.file.Path

/**
 * A {@code vigil_notifier} block as the daemon hands it to the plugin: written to a file, read by
 * the daemon's own configuration reader (comments, quotes, parameters, locations) and turned into
 * the API's {@link ConfigBlock} by {@link ConfigBlocks}.
 *
 * <p>The file's layout, which specs asserting locations count on:
 * <pre>
 * vigil_notifier ops-mail {      line 1
 *     type mail                  line 2, column 5
 *     FIRST LINE OF lines        line 3, column 5 (nested lines keep their own indent after the 4)
 * </pre>
 */
class NotifierBlocks {

    /** The block holding {@code type mail} and {@code lines} (each indented by four more), read from {@code dir}/keepalived.conf. */
    static ConfigBlock block(Path dir, String lines) {
        Path file = dir.resolve('keepalived.conf')
        String body = lines.stripIndent().readLines().findAll { it.trim() }.collect { '    ' + it }.join('\n')
        Files.writeString(file, "vigil_notifier ops-mail {\n    type mail\n${body}\n}\n")
        Diagnostics diags = new Diagnostics()
        def nodes = new TreeBuilder(diags).build(new ConfigReader(LoadOptions.defaults(), diags).read(file))
        assert diags.all().isEmpty(): diags.all()
        ConfigBlocks.block(nodes.find { it.name() == 'vigil_notifier' })
    }
}
