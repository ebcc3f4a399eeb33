package dev.vigil.daemon.event;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigProblem;
import dev.vigil.config.ConfigNode;
import dev.vigil.config.Diagnostic;
import dev.vigil.config.LoadResult;
import dev.vigil.config.Severity;
import dev.vigil.config.SourceRef;
import dev.vigil.config.Token;
import dev.vigil.config.model.KeepalivedConfig;
import dev.vigil.config.model.NotifierBlock;
import dev.vigil.config.parse.Suggest;
import dev.vigil.daemon.plugin.ConfigBlocks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * Checks a configuration's notifiers against the installed types, after the parser has read the
 * file (which checks the name and the {@code type} line but not what is installed), and turns them
 * into {@link NotifierSpec}s:
 * <ul>
 *   <li>a type nobody implements is an error at its word, naming the installed types (and the
 *       nearest one, for a typo); a type two plugins claim is an error naming both;</li>
 *   <li>{@code events} names types ({@code vrrp.instance}) or prefixes ({@code vrrp.*}, {@code *}),
 *       as arguments or one per line of its block; an unknown one is an error at its word;</li>
 *   <li>{@code timeout SECONDS}: a number above 0, at most 3600; default 10;</li>
 *   <li>the rest of the block goes to the notifier's {@code validate}, whose problems become
 *       diagnostics at the locations it gives;</li>
 *   <li>keepalived's mail keywords ({@code smtp_server} set) make the {@link MailAlerts} notifier;
 *       a block named {@value MailAlerts#NAME} is refused. Without an installed {@code mail} type,
 *       or without recipients, no mail is sent: a note ({@link Result#notes()}) rather than a
 *       diagnostic, since the file is right and only the installation decides.</li>
 * </ul>
 */
public final class NotifierValidation {

    private static final double MAX_TIMEOUT_SECONDS = 3600;

    private NotifierValidation() {
    }

    /**
     * The outcome: the load result with the notifier diagnostics added, and the notifiers to run
     * (only the blocks without errors).
     */
    public record Result(LoadResult load, List<NotifierSpec> specs, List<String> notes) {
        public Result {
            specs = List.copyOf(specs);
            notes = List.copyOf(notes);
        }
    }

    /** Checks {@code result}'s notifiers against {@code types}. */
    public static Result apply(LoadResult result, NotifierTypes types) {
        KeepalivedConfig config = result.config();
        List<Diagnostic> diags = new ArrayList<>(result.diagnostics());
        List<NotifierSpec> specs = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (NotifierBlock b : config.notifiers()) {
            NotifierSpec s = check(b, types, diags);
            if (s != null) {
                specs.add(s);
            }
        }
        if (MailAlerts.wanted(config)) {
            var named = config.notifiers().stream().filter(b -> b.name().equals(MailAlerts.NAME)).findFirst();
            if (named.isPresent()) {
                diags.add(new Diagnostic(Severity.ERROR, named.get().raw().args().getFirst().ref(), "the name "
                        + MailAlerts.NAME + " is the notifier of keepalived's mail keywords (smtp_server in global_defs);"
                        + " choose another"));
                specs.removeIf(s -> s.name().equals(MailAlerts.NAME));
            } else if (types.provider(MailAlerts.TYPE).isEmpty()) {
                notes.add("smtp_server is set but no installed plugin provides the mail notifier ("
                        + installed(types) + "): no mail is sent");
            } else if (config.globalDefs().notificationEmail().isEmpty()) {
                notes.add("smtp_server is set but notification_email names nobody: no mail is sent");
            } else {
                ConfigBlock block = MailAlerts.block(config);
                if (validate(MailAlerts.NAME, block, types.provider(MailAlerts.TYPE).get(), diags)) {
                    Duration timeout = config.globalDefs().smtpConnectTimeout();
                    specs.add(new NotifierSpec(MailAlerts.NAME, MailAlerts.TYPE, block, timeout, MailAlerts.filter(config)));
                }
            }
        }
        List<Path> order = config.sourceFiles();
        diags.sort(Comparator.<Diagnostic>comparingInt(x -> {
                    int i = order.indexOf(x.ref().file());
                    return i < 0 ? Integer.MAX_VALUE : i;
                })
                .thenComparingInt(x -> x.ref().line())
                .thenComparingInt(x -> x.ref().col()));
        return new Result(new LoadResult(config, diags), specs, notes);
    }

    private static NotifierSpec check(NotifierBlock b, NotifierTypes types, List<Diagnostic> diags) {
        int before = errors(diags);
        ConfigNode typeLine = b.raw().children().stream().filter(c -> c.name().equals("type")).findFirst().orElseThrow();
        Token typeWord = typeLine.args().getFirst();
        var provider = types.provider(b.type());
        if (provider.isEmpty()) {
            List<String> claimants = types.claimants(b.type());
            if (!claimants.isEmpty()) {
                diags.add(new Diagnostic(Severity.ERROR, typeWord.ref(), "notifier type " + b.type()
                        + " is claimed by more than one plugin (" + String.join(", ", claimants)
                        + "); remove all but one from " + types.where()));
            } else {
                String near = Suggest.nearest(b.type(), types.types());
                diags.add(new Diagnostic(Severity.ERROR, typeWord.ref(), "unknown notifier type \"" + b.type() + "\""
                        + (near != null ? " (did you mean \"" + near + "\"?)" : "") + "; " + installed(types)));
            }
        }
        List<String> patterns = new ArrayList<>();
        Duration timeout = NotifierSpec.DEFAULT_TIMEOUT;
        for (ConfigNode c : b.raw().children()) {
            switch (c.name()) {
                case "events" -> {
                    List<Token> words = new ArrayList<>(c.args());
                    c.children().forEach(x -> words.addAll(x.words()));
                    if (words.isEmpty()) {
                        diags.add(new Diagnostic(Severity.ERROR, c.ref(), "\"events\" expects event types, e.g. "
                                + "events vrrp.* real_server.down"));
                    }
                    for (Token t : words) {
                        if (EventFilter.known(t.text())) {
                            patterns.add(t.text());
                        } else {
                            String near = Suggest.nearest(t.text(), dev.vigil.api.NotifierEvent.TYPES);
                            diags.add(new Diagnostic(Severity.ERROR, t.ref(), "unknown event type \"" + t.text() + "\""
                                    + (near != null ? " (did you mean \"" + near + "\"?)" : "") + "; expected: "
                                    + String.join(", ", new TreeSet<>(dev.vigil.api.NotifierEvent.TYPES))
                                    + ", or a prefix such as vrrp.*"));
                        }
                    }
                }
                case "timeout" -> {
                    Duration t = seconds(c, diags);
                    if (t != null) {
                        timeout = t;
                    }
                }
                default -> {
                }
            }
        }
        ConfigBlock block = ConfigBlocks.block(b.raw());
        if (provider.isPresent()) {
            validate(b.name(), block, provider.get(), diags);
        }
        if (errors(diags) > before || provider.isEmpty()) {
            return null;
        }
        return new NotifierSpec(b.name(), b.type(), block, timeout, new EventFilter(patterns, e -> true));
    }

    private static Duration seconds(ConfigNode c, List<Diagnostic> diags) {
        if (c.args().size() != 1) {
            diags.add(new Diagnostic(Severity.ERROR, c.ref(), "\"timeout\" expects one number of seconds, got "
                    + c.args().size() + " words"));
            return null;
        }
        Token t = c.args().getFirst();
        try {
            double s = Double.parseDouble(t.text());
            if (!(s > 0) || s > MAX_TIMEOUT_SECONDS) {
                throw new NumberFormatException();
            }
            return Duration.ofNanos((long) (s * 1e9));
        } catch (NumberFormatException e) {
            diags.add(new Diagnostic(Severity.ERROR, t.ref(), "\"timeout\" expected seconds above 0 and at most "
                    + (int) MAX_TIMEOUT_SECONDS + ", got \"" + t.text() + "\""));
            return null;
        }
    }

    /** Hands the block to the notifier's {@code validate}; false when it reported an error or failed. */
    private static boolean validate(String name, ConfigBlock block, NotifierTypes.Provider p, List<Diagnostic> diags) {
        SourceRef at = ConfigBlocks.ref(block.location());
        List<ConfigProblem> problems;
        try {
            problems = Contained.call(p.pluginId() + " validate(" + name + ")", p.loader(), NotifierHost.CALL_LIMIT,
                    () -> p.extension().validate(block));
        } catch (Contained.Failure f) {
            diags.add(new Diagnostic(Severity.ERROR, at, "plugin " + p.pluginId() + " cannot check notifier " + name
                    + ": " + f.getMessage()));
            return false;
        }
        boolean ok = true;
        for (ConfigProblem pr : problems == null ? List.<ConfigProblem>of() : problems) {
            if (pr == null) {
                continue;
            }
            Severity severity = pr.severity() == ConfigProblem.Severity.ERROR ? Severity.ERROR : Severity.WARNING;
            ok &= severity != Severity.ERROR;
            diags.add(new Diagnostic(severity, ConfigBlocks.ref(pr.location()), pr.message()));
        }
        return ok;
    }

    private static int errors(List<Diagnostic> diags) {
        return (int) diags.stream().filter(d -> d.severity() == Severity.ERROR).count();
    }

    /** {@code installed notifiers: mail, script}. */
    static String installed(NotifierTypes types) {
        return types.types().isEmpty() ? "no notifier is installed" : "installed notifiers: " + String.join(", ", types.types());
    }
}
