package dev.vigil.daemon;

import dev.vigil.daemon.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code vigil plugins}: the plugins the running daemon loaded, or those of a plugins directory. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = {"Lists the plugins the running daemon loaded: id, version, provider, state and the checker",
            "keywords each provides (a plugin the checks disabled for its errors shows DISABLED). With --local or",
            "--dir, or when no daemon answers, loads the plugins directory itself and lists what it finds."})
final class PluginsCommand implements Callable<Integer> {

    @Option(names = "--local", description = "Load the plugins directory instead of asking the daemon.")
    boolean local;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "The plugins directory to load (implies --local; default: vigil.pluginsDir, else plugins next to the installation).")
    Path dir;

    @Mixin
    ApiOption api;

    @Override
    public Integer call() throws InterruptedException {
        if (!local && dir == null) {
            ApiClient client = api.client();
            try {
                HttpResponse<String> r = client.get("/plugins");
                (r.statusCode() == 200 ? System.out : System.err).print(r.body());
                return r.statusCode() == 200 ? 0 : 1;
            } catch (IOException e) {
                System.err.println("vigil plugins: no daemon answers at " + client.uri("/plugins") + " (" + e.getMessage()
                        + "); listing the plugins directory instead");
            }
        }
        Path d = dir != null ? dir : PluginHost.defaultDirectory();
        var previous = LogBridge.sink();
        LogBridge.sink((level, line) -> { });
        try (PluginHost host = PluginHost.open(d)) {
            System.out.print(table(host.directory(), host.plugins(), Map.of()));
            host.problems().forEach(p -> System.err.println("vigil plugins: " + (p.error() ? "error: " : "warning: ") + p.message()));
            return host.problems().stream().anyMatch(PluginHost.Problem::error) ? 1 : 0;
        } finally {
            LogBridge.sink(previous);
        }
    }

    /**
     * The listing: the directory, then one row per plugin ({@code ID VERSION PROVIDER STATE KEYWORDS}),
     * then why a plugin failed or was disabled.
     */
    static String table(Path directory, List<PluginHost.PluginInfo> plugins, Map<String, String> disabled) {
        StringBuilder out = new StringBuilder();
        out.append("plugins directory: ").append(directory == null ? "(none)" : directory).append('\n');
        if (plugins.isEmpty()) {
            return out.append("no plugins\n").toString();
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "VERSION", "PROVIDER", "STATE", "KEYWORDS"});
        List<String> notes = new ArrayList<>();
        for (PluginHost.PluginInfo p : plugins) {
            String state = disabled.containsKey(p.id()) ? "DISABLED" : p.state();
            rows.add(new String[] {p.id(), p.version(), p.provider().isEmpty() ? "-" : p.provider(), state,
                p.keywords().isEmpty() ? "-" : String.join(",", p.keywords())});
            if (p.problem() != null) {
                notes.add(p.id() + ": " + p.problem());
            }
            if (disabled.containsKey(p.id())) {
                notes.add(p.id() + ": disabled by the health checks: " + disabled.get(p.id()));
            }
        }
        int[] width = new int[5];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i < r.length - 1 ? String.format("%-" + (width[i] + 2) + "s", r[i]) : r[i]);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        notes.forEach(n -> out.append(n).append('\n'));
        return out.toString();
    }
}
