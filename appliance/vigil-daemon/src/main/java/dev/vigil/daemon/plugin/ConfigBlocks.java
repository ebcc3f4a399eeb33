package dev.vigil.daemon.plugin;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.Location;
import dev.vigil.config.ConfigNode;
import dev.vigil.config.SourceRef;
import dev.vigil.config.Token;

import java.nio.file.Path;

/** Turns the configuration's nodes into the API's {@link ConfigBlock} values, and locations back. */
public final class ConfigBlocks {

    private ConfigBlocks() {
    }

    /** The checker block {@code node} as the API shows it to a plugin. */
    public static ConfigBlock block(ConfigNode node) {
        return new ConfigBlock(node.name(), location(node.ref()),
                node.children().stream().map(ConfigBlocks::line).toList());
    }

    static ConfigLine line(ConfigNode node) {
        return new ConfigLine(node.name(), location(node.ref()), node.argTexts(),
                node.args().stream().map(Token::ref).map(ConfigBlocks::location).toList(),
                node.children().stream().map(ConfigBlocks::line).toList());
    }

    /** The API's location of a configuration position. */
    public static Location location(SourceRef ref) {
        return new Location(ref.file().toString(), Math.max(1, ref.line()), Math.max(1, ref.col()));
    }

    /** A configuration position from a location a plugin reported. */
    public static SourceRef ref(Location location) {
        return new SourceRef(Path.of(location.file()), location.line(), location.column());
    }

    /** The block as text without locations: two blocks written alike give the same text. */
    public static String text(ConfigBlock block) {
        StringBuilder out = new StringBuilder(block.keyword()).append(" {");
        block.lines().forEach(l -> text(out, l));
        return out.append(" }").toString();
    }

    private static void text(StringBuilder out, ConfigLine line) {
        out.append(' ').append(line.keyword());
        line.arguments().forEach(a -> out.append(" \"").append(a.replace("\"", "\\\"")).append('"'));
        if (!line.children().isEmpty()) {
            out.append(" {");
            line.children().forEach(c -> text(out, c));
            out.append(" }");
        }
        out.append(';');
    }
}
