package dev.vigil.daemon.plugin;

import dev.vigil.api.ConfigProblem;
import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import dev.vigil.config.Severity;
import dev.vigil.config.SourceRef;
import dev.vigil.config.model.Checker;
import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.parse.Keywords;
import dev.vigil.config.parse.Suggest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Checks a configuration's checker blocks against the installed plugins, after the parser has read
 * the file (which knows keepalived's checkers but not what is installed):
 * <ul>
 *   <li>a keyword a plugin provides is handed to that plugin's {@code validate}, whose problems
 *       join the file's diagnostics at the locations it gives; the parser's "unknown checker"
 *       warning for it is dropped;</li>
 *   <li>a keyword no plugin provides and keepalived does not know either is an error at the
 *       block, naming the installed keywords (and the nearest one, for a typo);</li>
 *   <li>a keyword two plugins claim is an error naming both;</li>
 *   <li>a keepalived checker no installed plugin provides ({@code HTTP_GET} without its plugin,
 *       {@code FILE_CHECK}, {@code BFD_CHECK}) is a warning: it does not run and the real server's
 *       state does not depend on it.</li>
 * </ul>
 */
public final class CheckerValidation {

    private CheckerValidation() {
    }

    /** {@code result} with the checker diagnostics added, sorted like {@link dev.vigil.config.ConfigLoader}'s. */
    public static LoadResult apply(LoadResult result, PluginHost host) {
        List<Diagnostic> diags = new ArrayList<>(result.diagnostics());
        for (VirtualServer vs : result.config().virtualServers()) {
            for (RealServer rs : vs.realServers()) {
                for (Checker c : rs.checkers()) {
                    check(c, host, diags);
                }
            }
        }
        List<Path> order = result.config().sourceFiles();
        diags.sort(Comparator.<Diagnostic>comparingInt(x -> {
                    int i = order.indexOf(x.ref().file());
                    return i < 0 ? Integer.MAX_VALUE : i;
                })
                .thenComparingInt(x -> x.ref().line())
                .thenComparingInt(x -> x.ref().col()));
        return new LoadResult(result.config(), diags);
    }

    private static void check(Checker c, PluginHost host, List<Diagnostic> diags) {
        String kw = c.keyword();
        SourceRef at = c.ref();
        var owner = host.checker(kw);
        if (owner.isPresent() || !Keywords.CHECKERS.contains(kw)) {
            // The parser could not know the plugins: its verdict on this block is replaced.
            diags.removeIf(d -> d.severity() == Severity.WARNING && d.ref().equals(at)
                    && d.message().startsWith("unknown checker \"" + kw + "\""));
        }
        if (owner.isPresent()) {
            PluginHost.Checker ch = owner.get();
            if (ch.retired()) {
                diags.add(new Diagnostic(Severity.WARNING, at, "plugin " + ch.pluginId() + " was unloaded for abusing memory ("
                        + host.retired().getOrDefault(ch.pluginId(), "no reason kept") + "): this " + kw
                        + " block is not checked and does not run until the daemon restarts"));
                return;
            }
            List<ConfigProblem> problems;
            try {
                problems = ch.calls().call(ch.pluginId() + " validate(" + kw + ")", PluginHost.CALL_LIMIT,
                        () -> ch.extension().validate(ConfigBlocks.block(c.raw())));
            } catch (PluginCalls.Failure f) {
                diags.add(new Diagnostic(Severity.ERROR, at, "plugin " + ch.pluginId() + " cannot check this " + kw
                        + " block: " + f.getMessage()));
                return;
            }
            for (ConfigProblem p : problems == null ? List.<ConfigProblem>of() : problems) {
                if (p == null) {
                    continue;
                }
                Severity severity = p.severity() == ConfigProblem.Severity.ERROR ? Severity.ERROR : Severity.WARNING;
                SourceRef ref = ConfigBlocks.ref(p.location());
                // A keepalived checker's words were checked by the parser too: one complaint per word and severity.
                if (diags.stream().noneMatch(d -> d.severity() == severity && d.ref().equals(ref))) {
                    diags.add(new Diagnostic(severity, ref, p.message()));
                }
            }
            return;
        }
        List<String> claimants = host.claimants(kw);
        if (!claimants.isEmpty()) {
            diags.add(new Diagnostic(Severity.ERROR, at, "checker " + kw + " is claimed by more than one plugin ("
                    + String.join(", ", claimants) + "); remove all but one from " + host.directory()));
            return;
        }
        if (Keywords.CHECKERS.contains(kw)) {
            diags.add(new Diagnostic(Severity.WARNING, at, "checker " + kw + " is not installed (no plugin in "
                    + host.directory() + " provides it): it does not run, and the real server's state does not depend on it"));
            return;
        }
        String near = Suggest.nearest(kw, host.keywords());
        diags.add(new Diagnostic(Severity.ERROR, at, "unknown checker \"" + kw + "\""
                + (near != null ? " (did you mean \"" + near + "\"?)" : "") + "; " + installed(host)));
    }

    /** {@code installed checkers: HTTP_GET, TCP_CHECK}, or that there are none and where they were looked for. */
    static String installed(PluginHost host) {
        return host.keywords().isEmpty()
                ? "no checker plugin is installed in " + host.directory()
                : "installed checkers: " + String.join(", ", host.keywords());
    }
}
