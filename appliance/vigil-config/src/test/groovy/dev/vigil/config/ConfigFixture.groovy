package dev.vigil.config

import java.nio.file.Files
import java.nio.file.Path

/** Writes configuration text to files and loads them with fixed options. */
class ConfigFixture {
    static LoadOptions options(Map<String, String> env = [:], String id = 'node1') {
        new LoadOptions(id, env, 'test-host', 'inst1', new Random(7))
    }

    static Path write(Path dir, String name, String text) {
        Path p = dir.resolve(name)
        Files.createDirectories(p.parent)
        Files.writeString(p, text.stripIndent())
        p
    }

    static LoadResult load(Path dir, String text, LoadOptions opts = options()) {
        ConfigLoader.load(write(dir, 'keepalived.conf', text), opts)
    }

    static List<String> messages(LoadResult r) {
        r.diagnostics().collect { it.severity().label() + ': ' + it.message() }
    }
}
