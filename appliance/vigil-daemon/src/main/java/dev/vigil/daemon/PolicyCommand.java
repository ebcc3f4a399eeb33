package dev.vigil.daemon;

import dev.vigil.config.LoadOptions;
import dev.vigil.config.ConfigLoader;
import dev.vigil.daemon.policy.PolicyHost;
import dev.vigil.dsl.PolicyCompiler;
import dev.vigil.dsl.ScenarioRunner;
import dev.vigil.dsl.store.AuditEntry;
import dev.vigil.dsl.store.PolicyCheck;
import dev.vigil.dsl.store.PolicyRevision;
import dev.vigil.dsl.store.PolicyStore;
import dev.vigil.dsl.store.PolicyStoreException;
import dev.vigil.dsl.store.PolicySummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code vigil policy ...}: the failover policies in their store. Every command takes
 * {@code --store PATH}; without it the store is the {@code vigil_policy_store} of the
 * configuration's {@code global_defs} ({@code -f}, as the daemon reads it), else
 * {@value PolicyHost#DEFAULT_STORE_TEXT}. A change made here reaches a running daemon within a
 * second (it polls the store). Errors are one line on standard error: exit 1, or 2 for usage.
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = {"Manages the failover policies: every revision is kept; one revision of each policy runs.",
            "A revision is compiled before it is activated; one that does not compile leaves the running one in place."},
        subcommands = {PolicyCommand.Add.class, PolicyCommand.ListPolicies.class, PolicyCommand.Show.class,
            PolicyCommand.Diff.class, PolicyCommand.Activate.class, PolicyCommand.Rollback.class,
            PolicyCommand.Disable.class, PolicyCommand.Delete.class, PolicyCommand.Audit.class, PolicyCommand.Test.class})
final class PolicyCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** The check a revision passes before it runs: the policy compiler's. */
    static final PolicyCheck COMPILE = (name, revision, text) -> new PolicyCompiler().compile(name, revision, text);

    /** {@code --store} and the configuration it defaults from. */
    static final class StoreOptions {

        @Option(names = "--store", paramLabel = "PATH",
                description = "The policy store (default: global_defs vigil_policy_store of the configuration, else "
                        + PolicyHost.DEFAULT_STORE_TEXT + ").")
        Path store;

        @Option(names = {"-f", "--use-file"}, paramLabel = "FILE", defaultValue = "/etc/keepalived/keepalived.conf",
                description = "Configuration file whose vigil_policy_store is the default store (default: ${DEFAULT-VALUE}).")
        Path file;

        /** The store's path: --store, else the configuration's, else the default. */
        Path path() {
            if (store != null) {
                return store;
            }
            if (Files.isRegularFile(file) && Files.isReadable(file)) {
                Optional<Path> configured = PolicyHost.storePath(ConfigLoader.load(file, LoadOptions.defaults()).config());
                if (configured.isEmpty()) {
                    throw new PolicyStoreException(file + " turns the policies off (vigil_policy_store off); name a store with --store");
                }
                return configured.get();
            }
            return PolicyHost.defaultStore();
        }
    }

    /** What every subcommand shares: the store options, one-line errors, the log kept off the terminal. */
    abstract static class Sub implements Callable<Integer> {

        @Mixin
        StoreOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract int run() throws IOException;

        /** Whether a missing store file is created (only by {@code add}). */
        boolean creates() {
            return false;
        }

        @Override
        public final Integer call() {
            // Hikari's and Flyway's lines would break the one-line errors; what matters reaches the user as one.
            PrintStream log = Log.stream();
            Log.to(new PrintStream(OutputStream.nullOutputStream()));
            String command = "vigil policy " + spec.name();
            try {
                return run();
            } catch (PolicyStoreException e) {
                System.err.println(command + ": " + e.getMessage());
            } catch (IOException | java.io.UncheckedIOException e) {
                System.err.println(command + ": " + e.getMessage());
            } catch (RuntimeException e) {
                System.err.println(command + ": " + e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : ""));
            } finally {
                Log.to(log);
            }
            return 1;
        }

        PolicyStore open() throws IOException {
            Path p = options.path().toAbsolutePath().normalize();
            if (!Files.exists(p)) {
                if (!creates()) {
                    throw new PolicyStoreException(p + ": no policy store here (vigil policy add creates it)");
                }
                if (p.getParent() != null) {
                    Files.createDirectories(p.getParent());
                }
            }
            return PolicyStore.open(p);
        }

        static String author(String given) {
            if (given != null && !given.isBlank()) {
                return given;
            }
            String sudo = System.getenv("SUDO_USER");
            if (sudo != null && !sudo.isBlank()) {
                return sudo;
            }
            String user = System.getenv("USER");
            return user != null && !user.isBlank() ? user : System.getProperty("user.name", "unknown");
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Stores FILE as the next revision of policy NAME (inactive until activated) and prints NAME rREV saved.")
    static final class Add extends Sub {
        @Parameters(index = "0", paramLabel = "NAME", description = "Policy name: a-z, 0-9, _ . -, up to 63 characters.")
        String name;
        @Parameters(index = "1", paramLabel = "FILE", description = "The policy's text.")
        Path file;
        @Option(names = "--comment", paramLabel = "C", description = "Why this revision.")
        String comment;
        @Option(names = "--author", paramLabel = "A", description = "Who (default: $SUDO_USER, else $USER).")
        String author;

        @Override
        boolean creates() {
            return true;
        }

        @Override
        int run() throws IOException {
            PolicyStore.checkName(name);
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IOException("cannot read " + file + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() != null && !e.getMessage().equals(file.toString()) ? " " + e.getMessage() : ""), e);
            }
            try (PolicyStore store = open()) {
                PolicyRevision r = store.add(name, text, author(author), comment);
                System.out.println(r.label() + " saved (sha256 " + r.sha256().substring(0, 12) + ")");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the policies: active revision, latest, count, last change.")
    static final class ListPolicies extends Sub {
        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                List<PolicySummary> all = store.list();
                System.out.println("store: " + store.path());
                if (all.isEmpty()) {
                    System.out.println("no policies");
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "ACTIVE", "LATEST", "REVISIONS", "UPDATED"});
                for (PolicySummary p : all) {
                    rows.add(new String[] {p.name(), p.active() == null ? "-" : "r" + p.active(), "r" + p.latest(),
                        Integer.toString(p.revisions()), p.updated().toString()});
                }
                System.out.print(table(rows));
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = {"Prints a revision: its particulars as // comments, then its text.",
                "REV defaults to the active revision, else the latest."})
    static final class Show extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "REV", arity = "0..1", description = "Revision number (3 or r3).")
        String rev;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                PolicyRevision r = rev != null ? store.revision(name, number(rev))
                        : store.active(name).orElseGet(() -> store.latest(name));
                System.out.println("// " + r.label() + (r.active() ? " (active)" : ""));
                System.out.println("// author " + r.author() + ", " + r.created() + ", sha256 " + r.sha256());
                if (!r.comment().isEmpty()) {
                    System.out.println("// comment: " + r.comment());
                }
                System.out.println();
                System.out.print(r.text());
                if (!r.text().isEmpty() && !r.text().endsWith("\n")) {
                    System.out.println();
                }
            }
            return 0;
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = {"Unified diff between two revisions. With no REV: the active revision (else the one",
                "before the latest) to the latest; with REV1: REV1 to the latest; with both: REV1 to REV2."})
    static final class Diff extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1..2", paramLabel = "REV", arity = "0..2")
        List<String> revs = new ArrayList<>();

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                PolicyRevision latest = store.latest(name);
                PolicyRevision a;
                PolicyRevision b;
                if (revs.size() == 2) {
                    a = store.revision(name, number(revs.get(0)));
                    b = store.revision(name, number(revs.get(1)));
                } else if (revs.size() == 1) {
                    a = store.revision(name, number(revs.get(0)));
                    b = latest;
                } else {
                    Optional<PolicyRevision> active = store.active(name);
                    a = active.isPresent() && active.get().number() != latest.number() ? active.get()
                            : latest.number() > 1 ? store.revisions(name).reversed().stream()
                                    .filter(r -> r.number() < latest.number()).findFirst().orElse(latest) : latest;
                    b = latest;
                }
                System.out.print(UnifiedDiff.diff(a.label(), a.text(), b.label(), b.text()));
            }
            return 0;
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = "Compiles revision REV of NAME and, when it compiles, makes it the one that runs.")
    static final class Activate extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "REV")
        String rev;
        @Option(names = "--author", paramLabel = "A", description = "Who (default: $SUDO_USER, else $USER).")
        String author;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                PolicyStore.Activation a = store.activate(name, number(rev), COMPILE, author(author));
                System.out.println(a.revision().label() + " active" + (a.previous() == null ? ""
                        : a.previous() == a.revision().number() ? " (it already was)" : " (was r" + a.previous() + ")"));
            }
            return 0;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Compiles an earlier revision REV of NAME and, when it compiles, makes it the one that runs.")
    static final class Rollback extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "REV")
        String rev;
        @Option(names = "--author", paramLabel = "A", description = "Who (default: $SUDO_USER, else $USER).")
        String author;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                PolicyStore.Activation a = store.rollback(name, number(rev), COMPILE, author(author));
                System.out.println(a.revision().label() + " active (rolled back" + (a.previous() == null ? "" : " from r" + a.previous()) + ")");
            }
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Stops NAME: no revision of it runs.")
    static final class Disable extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Option(names = "--author", paramLabel = "A", description = "Who (default: $SUDO_USER, else $USER).")
        String author;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                Integer was = store.disable(name, author(author));
                System.out.println(name + " disabled" + (was == null ? " (no revision was active)" : " (r" + was + " was active)"));
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Deletes NAME and all its revisions (the audit trail stays).")
    static final class Delete extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Option(names = "--author", paramLabel = "A", description = "Who (default: $SUDO_USER, else $USER).")
        String author;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                int n = store.delete(name, author(author));
                System.out.println(name + " deleted (" + n + " revision" + (n == 1 ? "" : "s") + ")");
            }
            return 0;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = "Prints NAME's audit trail, oldest first: time, kind, revision, actor, detail.")
    static final class Audit extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Option(names = {"-n", "--limit"}, paramLabel = "N", defaultValue = "100", description = "The last N lines (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        int run() throws IOException {
            try (PolicyStore store = open()) {
                List<AuditEntry> trail = store.auditTrail(name, limit);
                if (trail.isEmpty()) {
                    throw new PolicyStoreException("policy " + name + ": no audit trail");
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"TIME", "KIND", "REV", "ACTOR", "DETAIL"});
                for (AuditEntry e : trail) {
                    rows.add(new String[] {e.at().toString(), e.kind(), e.revision() == null ? "-" : "r" + e.revision(),
                        e.actor(), e.detail().isEmpty() ? "-" : e.detail()});
                }
                System.out.print(table(rows));
            }
            return 0;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Runs the policy in FILE against the events of a scenario (JSON lines) and prints what it",
                "would do; nothing is touched. Exit status: 0 ran, 1 the policy or the scenario is broken."})
    static final class Test implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;
        @Option(names = "--events", paramLabel = "SCENARIO", required = true, description = "The scenario, JSON lines.")
        Path events;

        @Override
        public Integer call() {
            String source;
            try {
                source = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                System.err.println("vigil policy test: cannot read " + file + ": " + e.getClass().getSimpleName());
                return 1;
            }
            try (Reader scenario = Files.newBufferedReader(events, StandardCharsets.UTF_8)) {
                return ScenarioRunner.run(file.toString(), source, events.toString(), scenario, System.out, System.err);
            } catch (IOException e) {
                System.err.println("vigil policy test: cannot read " + events + ": " + e.getClass().getSimpleName());
                return 1;
            } catch (RuntimeException e) {
                System.err.println("vigil policy test: " + e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : ""));
                return 1;
            }
        }
    }

    /** {@code 3} or {@code r3}. */
    static int number(String text) {
        String t = text.startsWith("r") ? text.substring(1) : text;
        try {
            int n = Integer.parseInt(t);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PolicyStoreException("revision \"" + text + "\": expected a number such as 3 or r3");
    }

    static String table(List<String[]> rows) {
        int[] width = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i < r.length - 1 ? String.format("%-" + (width[i] + 2) + "s", r[i]) : r[i]);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
