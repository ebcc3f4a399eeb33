package dev.vigil.dsl.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Every revision of every failover policy, which one of each runs, and the audit trail, in one
 * SQLite file (schema: {@code db/migration}, applied by Flyway).
 *
 * <p>Two pools, as STACK.md §7 sets them: a writer pool of one connection in WAL mode whose
 * transactions begin {@code IMMEDIATE} (the write lock is taken up front, so a second writer, in
 * this process or another, waits its turn for up to {@value #BUSY_TIMEOUT_MS} ms instead of failing
 * on a lock upgrade), and a read-only pool for the queries, which read the last committed state
 * while a write is under way. {@code synchronous=FULL}: a transaction reported as committed is on
 * disk, so a revision {@link #add} returned survives a crash or a power cut. Every change is one
 * transaction, its audit line included.
 *
 * <p>Opening looks at the file before anything writes to it: a file that is not SQLite, an SQLite
 * database of something else, or a store of a newer schema is refused with a one-line
 * {@link PolicyStoreException} and left as it was.
 *
 * <p>Errors are {@link PolicyStoreException}s naming the file, or the policy and revision
 * ({@code policy web r4: no such revision (latest r3)}). Thread-safe.
 */
public final class PolicyStore implements AutoCloseable {

    /** A policy's name: lower-case letters, digits, {@code _ . -}, up to 63 characters. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
    /** An audit line's kind. */
    public static final Pattern KIND = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    /** The newest schema this version knows (the highest {@code V<n>} migration). */
    static final int SCHEMA_VERSION = 1;
    /** How long a writer waits for another's write lock before giving up. */
    static final int BUSY_TIMEOUT_MS = 10_000;
    /** The largest policy text accepted. */
    static final int MAX_TEXT_BYTES = 1 << 20;

    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    /** A successful activation: what runs now, and what ran before ({@code null} when nothing did). */
    public record Activation(PolicyRevision revision, Integer previous) {
    }

    private final Path path;
    private final HikariDataSource writer;
    private final HikariDataSource readers;
    private final Clock clock;

    private PolicyStore(Path path, HikariDataSource writer, HikariDataSource readers, Clock clock) {
        this.path = path;
        this.writer = writer;
        this.readers = readers;
        this.clock = clock;
    }

    /** Opens the store at {@code file}, creating and migrating it when needed (its directory must exist). */
    public static PolicyStore open(Path file) {
        return open(file, Clock.systemUTC());
    }

    /** As {@link #open(Path)}, time-stamping with {@code clock}. */
    public static PolicyStore open(Path file, Clock clock) {
        Path p = file.toAbsolutePath().normalize();
        probe(p);
        HikariDataSource w = null;
        HikariDataSource r = null;
        try {
            w = pool(p, "policy-writer", 1, false, Map.of("journal_mode", "WAL", "transaction_mode", "IMMEDIATE"));
            migrate(p, w);
            r = pool(p, "policy-readers", 2, true, Map.of("open_mode", "1"));
            return new PolicyStore(p, w, r, clock);
        } catch (RuntimeException e) {
            if (r != null) {
                r.close();
            }
            if (w != null) {
                w.close();
            }
            throw e instanceof PolicyStoreException pse ? pse : new PolicyStoreException(p + ": cannot open: " + rootMessage(e), e);
        }
    }

    /** The store's file. */
    public Path path() {
        return path;
    }

    // ------------------------------------------------------------------ opening

    /**
     * Refuses, without writing, a file that is not an empty or Vigil store: not a regular file, not
     * SQLite, another application's database, or a schema newer than {@link #SCHEMA_VERSION}. The
     * look is read-only and sets no pragma (setting {@code journal_mode} would rewrite the file).
     */
    private static void probe(Path p) {
        if (!Files.exists(p)) {
            Path dir = p.getParent();
            if (dir != null && !Files.isDirectory(dir)) {
                throw new PolicyStoreException(p + ": cannot create the store: no directory " + dir);
            }
            return;
        }
        if (!Files.isRegularFile(p)) {
            throw new PolicyStoreException(p + ": not a Vigil policy store (not a regular file)");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(p)) {
            head = in.readNBytes(SQLITE_HEADER.length);
        } catch (IOException e) {
            throw new PolicyStoreException(p + ": cannot read: " + e.getMessage(), e);
        }
        if (head.length == 0) {
            return;
        }
        if (!Arrays.equals(head, SQLITE_HEADER)) {
            throw new PolicyStoreException(p + ": not a Vigil policy store (not an SQLite database); left unchanged");
        }
        Properties props = new Properties();
        props.setProperty("open_mode", "1");
        props.setProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + p, props); Statement s = c.createStatement()) {
            TreeSet<String> tables = new TreeSet<>();
            try (ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            if (tables.isEmpty()) {
                return;
            }
            if (!tables.contains("flyway_schema_history")) {
                throw new PolicyStoreException(p + ": not a Vigil policy store (an SQLite database with tables: "
                        + String.join(", ", tables) + "); left unchanged");
            }
            int version = 0;
            try (ResultSet rs = s.executeQuery("SELECT version FROM flyway_schema_history WHERE success = 1 AND version IS NOT NULL")) {
                while (rs.next()) {
                    try {
                        version = Math.max(version, Integer.parseInt(rs.getString(1).split("\\.")[0]));
                    } catch (NumberFormatException e) {
                        throw new PolicyStoreException(p + ": not a Vigil policy store (schema version \"" + rs.getString(1)
                                + "\"); left unchanged");
                    }
                }
            }
            if (version > SCHEMA_VERSION) {
                throw new PolicyStoreException(p + ": written by a newer Vigil (store schema version " + version
                        + ", this one knows up to " + SCHEMA_VERSION + "); left unchanged");
            }
        } catch (SQLException e) {
            throw new PolicyStoreException(p + ": not a readable Vigil policy store: " + e.getMessage(), e);
        }
    }

    private static HikariDataSource pool(Path p, String name, int size, boolean readOnly, Map<String, String> extra) {
        HikariConfig c = new HikariConfig();
        c.setPoolName(name);
        c.setJdbcUrl("jdbc:sqlite:" + p);
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(1);
        c.setReadOnly(readOnly);
        c.setConnectionTimeout(BUSY_TIMEOUT_MS * 3L);
        c.addDataSourceProperty("foreign_keys", "true");
        c.addDataSourceProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
        // A committed revision must survive a power cut, not only a crash (STACK.md §7.1).
        c.addDataSourceProperty("synchronous", "FULL");
        extra.forEach(c::addDataSourceProperty);
        return new HikariDataSource(c);
    }

    /**
     * Applies the migrations. Two processes creating one new store at once race on Flyway's history
     * table; the loser's attempt fails and, tried again, finds the schema in place.
     */
    private static void migrate(Path p, HikariDataSource w) {
        Flyway flyway = Flyway.configure(PolicyStore.class.getClassLoader())
                .dataSource(w)
                .locations("classpath:db/migration")
                .load();
        FlywayException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                flyway.migrate();
                return;
            } catch (FlywayException e) {
                last = e;
                try {
                    Thread.sleep(100L * (attempt + 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new PolicyStoreException(p + ": cannot migrate the store: " + firstLine(last.getMessage()), last);
    }

    // ------------------------------------------------------------------ changes

    /**
     * Stores {@code text} as the next revision of {@code name} (created on its first revision),
     * inactive; audited as {@code added}.
     */
    public PolicyRevision add(String name, String text, String author, String comment) {
        checkName(name);
        if (text == null) {
            throw new PolicyStoreException("policy " + name + ": no text");
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TEXT_BYTES) {
            throw new PolicyStoreException("policy " + name + ": the text is " + bytes.length + " bytes (at most "
                    + MAX_TEXT_BYTES + ")");
        }
        String who = actor(author);
        String note = comment == null ? "" : comment;
        String sha = sha256(bytes);
        Instant now = clock.instant();
        return write("policy " + name + ": add", c -> {
            update(c, "INSERT OR IGNORE INTO policy (name, created) VALUES (?, ?)", name, now.toString());
            update(c, "INSERT INTO revision_counter (policy, last) VALUES (?, 1) "
                    + "ON CONFLICT (policy) DO UPDATE SET last = last + 1", name);
            int number = queryInt(c, "SELECT last FROM revision_counter WHERE policy = ?", name);
            update(c, "INSERT INTO revision (policy, number, text, author, created, comment, sha256, active) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, 0)", name, number, text, who, now.toString(), note, sha);
            insertAudit(c, now, name, number, "added", note, who);
            return new PolicyRevision(name, number, text, who, now, note, sha, false);
        });
    }

    /**
     * Makes revision {@code number} of {@code name} the one that runs, once {@code check} accepts
     * it; audited as {@code activated}. A revision the check refuses changes nothing but the audit
     * trail, which records the refusal as an {@code error}: the running revision stays active.
     */
    public Activation activate(String name, int number, PolicyCheck check, String actor) {
        return swap(name, number, check, actor, "activated");
    }

    /**
     * Activates an earlier revision than the active one (any stored one when none is active), as
     * {@link #activate}; audited as {@code rolled-back}.
     */
    public Activation rollback(String name, int number, PolicyCheck check, String actor) {
        checkName(name);
        Integer active = activeNumber(name);
        if (active != null && number >= active) {
            throw new PolicyStoreException("policy " + name + " r" + number + ": not earlier than the active r" + active
                    + " (activate it instead)");
        }
        return swap(name, number, check, actor, "rolled-back");
    }

    private Activation swap(String name, int number, PolicyCheck check, String actor, String kind) {
        String who = actor(actor);
        PolicyRevision r = revision(name, number);
        try {
            check.check(name, number, r.text());
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getName() : firstLine(e.getMessage());
            Integer running = write("policy " + r.label() + ": audit", c -> {
                Integer a = queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND active = 1", name);
                insertAudit(c, clock.instant(), name, number, "error", kind.equals("activated") ? "not activated: " + why
                        : "not rolled back: " + why, who);
                return a;
            });
            throw new PolicyStoreException("policy " + r.label() + ": not " + (kind.equals("activated") ? "activated" : "rolled back")
                    + ": " + why + "; " + (running != null ? "r" + running + " stays active" : "no revision is active"), e);
        }
        return write("policy " + r.label() + ": " + kind, c -> {
            if (queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND number = ?", name, number) == null) {
                throw new PolicyStoreException("policy " + r.label() + ": deleted meanwhile");
            }
            Integer previous = queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND active = 1", name);
            if (previous != null && previous == number) {
                return new Activation(withActive(r, true), previous);
            }
            update(c, "UPDATE revision SET active = 0 WHERE policy = ? AND active = 1", name);
            update(c, "UPDATE revision SET active = 1 WHERE policy = ? AND number = ?", name, number);
            insertAudit(c, clock.instant(), name, number, kind, previous == null ? "nothing was active" : "r" + previous + " was active", who);
            return new Activation(withActive(r, true), previous);
        });
    }

    /**
     * Stops {@code name} running: no revision stays active; audited as {@code disabled}.
     *
     * @return the revision that was active, or {@code null} when none was (nothing is recorded then)
     */
    public Integer disable(String name, String actor) {
        checkName(name);
        String who = actor(actor);
        return write("policy " + name + ": disable", c -> {
            requirePolicy(c, name);
            Integer previous = queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND active = 1", name);
            if (previous != null) {
                update(c, "UPDATE revision SET active = 0 WHERE policy = ? AND active = 1", name);
                insertAudit(c, clock.instant(), name, previous, "disabled", "", who);
            }
            return previous;
        });
    }

    /**
     * Deletes {@code name} and all its revisions; audited as {@code deleted} (the trail stays, and
     * the name's revision numbers go on from where they were if it is added again).
     *
     * @return how many revisions were deleted
     */
    public int delete(String name, String actor) {
        checkName(name);
        String who = actor(actor);
        return write("policy " + name + ": delete", c -> {
            requirePolicy(c, name);
            int count = queryInt(c, "SELECT COUNT(*) FROM revision WHERE policy = ?", name);
            Integer active = queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND active = 1", name);
            update(c, "DELETE FROM policy WHERE name = ?", name);
            insertAudit(c, clock.instant(), name, active, "deleted",
                    count + " revision" + (count == 1 ? "" : "s") + (active != null ? ", r" + active + " was active" : ""), who);
            return count;
        });
    }

    /** Appends a line to the audit trail (the policy need not exist any more). */
    public AuditEntry audit(String policy, Integer revision, String kind, String detail, String actor) {
        checkName(policy);
        if (kind == null || !KIND.matcher(kind).matches()) {
            throw new PolicyStoreException("audit kind \"" + kind + "\": expected lower-case letters, digits and -");
        }
        String who = actor(actor);
        Instant now = clock.instant();
        String d = detail == null ? "" : detail;
        return write("policy " + policy + ": audit", c -> {
            long id = insertAudit(c, now, policy, revision, kind, d, who);
            return new AuditEntry(id, now, policy, revision, kind, d, who);
        });
    }

    // ------------------------------------------------------------------ queries

    /** Every policy, by name. */
    public List<PolicySummary> list() {
        return read("list the policies", c -> {
            List<PolicySummary> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT p.name, COUNT(r.number), MAX(r.number), "
                    + "MAX(CASE WHEN r.active = 1 THEN r.number END), MAX(r.created) "
                    + "FROM policy p JOIN revision r ON r.policy = p.name GROUP BY p.name ORDER BY p.name");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    int active = rs.getInt(4);
                    Integer running = rs.wasNull() ? null : active;
                    out.add(new PolicySummary(rs.getString(1), rs.getInt(2), rs.getInt(3), running,
                            Instant.parse(rs.getString(5))));
                }
            }
            return out;
        });
    }

    /** Every revision of {@code name}, oldest first. */
    public List<PolicyRevision> revisions(String name) {
        checkName(name);
        return read("policy " + name, c -> {
            requirePolicy(c, name);
            return revisions(c, "WHERE policy = ? ORDER BY number", name);
        });
    }

    /** Revision {@code number} of {@code name}. */
    public PolicyRevision revision(String name, int number) {
        checkName(name);
        return read("policy " + name + " r" + number, c -> {
            List<PolicyRevision> r = revisions(c, "WHERE policy = ? AND number = ?", name, number);
            if (!r.isEmpty()) {
                return r.getFirst();
            }
            requirePolicy(c, name);
            Integer latest = queryInteger(c, "SELECT MAX(number) FROM revision WHERE policy = ?", name);
            throw new PolicyStoreException("policy " + name + " r" + number + ": no such revision (latest r" + latest + ")");
        });
    }

    /** The newest revision of {@code name}. */
    public PolicyRevision latest(String name) {
        List<PolicyRevision> all = revisions(name);
        return all.getLast();
    }

    /** The active revision of {@code name}, empty when it is disabled. */
    public Optional<PolicyRevision> active(String name) {
        checkName(name);
        return read("policy " + name, c -> {
            requirePolicy(c, name);
            return revisions(c, "WHERE policy = ? AND active = 1", name).stream().findFirst();
        });
    }

    /** The active revision of every policy that has one, by name. */
    public Map<String, PolicyRevision> activeRevisions() {
        return read("the active policies", c -> {
            Map<String, PolicyRevision> out = new LinkedHashMap<>();
            for (PolicyRevision r : revisions(c, "WHERE active = 1 ORDER BY policy")) {
                out.put(r.policy(), r);
            }
            return out;
        });
    }

    /** The active set as numbers only, by name: cheap enough to poll. */
    public Map<String, Integer> activeNumbers() {
        return read("the active policies", c -> {
            Map<String, Integer> out = new LinkedHashMap<>();
            try (PreparedStatement s = c.prepareStatement("SELECT policy, number FROM revision WHERE active = 1 ORDER BY policy");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getInt(2));
                }
            }
            return out;
        });
    }

    /** The last {@code limit} lines of {@code name}'s audit trail, oldest first (the policy may have been deleted). */
    public List<AuditEntry> auditTrail(String name, int limit) {
        checkName(name);
        return read("policy " + name + ": audit trail", c -> {
            List<AuditEntry> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id, at, policy, revision, kind, detail, actor FROM audit "
                    + "WHERE policy = ? ORDER BY id DESC LIMIT ?")) {
                s.setString(1, name);
                s.setInt(2, Math.max(0, limit));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        int rev = rs.getInt(4);
                        Integer revision = rs.wasNull() ? null : rev;
                        out.add(new AuditEntry(rs.getLong(1), Instant.parse(rs.getString(2)), rs.getString(3), revision,
                                rs.getString(5), rs.getString(6), rs.getString(7)));
                    }
                }
            }
            return out.reversed();
        });
    }

    @Override
    public void close() {
        readers.close();
        writer.close();
    }

    // ------------------------------------------------------------------ plumbing

    /** Work inside one connection; SQL failures are turned into messages by the caller's context. */
    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Integer activeNumber(String name) {
        return read("policy " + name, c -> {
            requirePolicy(c, name);
            return queryInteger(c, "SELECT number FROM revision WHERE policy = ? AND active = 1", name);
        });
    }

    /** Runs {@code work} in one IMMEDIATE transaction on the writer; rolled back when it throws. */
    private <T> T write(String what, Work<T> work) {
        try (Connection c = writer.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // The connection is broken: the pool discards it; SQLite drops the open transaction.
                }
                throw e;
            }
        } catch (SQLException e) {
            throw new PolicyStoreException(what + ": " + sqlMessage(e), e);
        }
    }

    private <T> T read(String what, Work<T> work) {
        try (Connection c = readers.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new PolicyStoreException(what + ": " + sqlMessage(e), e);
        }
    }

    private String sqlMessage(SQLException e) {
        String m = e.getMessage() == null ? e.getClass().getName() : firstLine(e.getMessage());
        if (m.contains("SQLITE_BUSY")) {
            return path + " stays locked by another writer for more than " + BUSY_TIMEOUT_MS / 1000 + " s (" + m + ")";
        }
        return path + ": " + m;
    }

    private static void requirePolicy(Connection c, String name) throws SQLException {
        if (queryInteger(c, "SELECT 1 FROM policy WHERE name = ?", name) == null) {
            throw new PolicyStoreException("policy " + name + ": no such policy");
        }
    }

    private static List<PolicyRevision> revisions(Connection c, String where, Object... args) throws SQLException {
        List<PolicyRevision> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT policy, number, text, author, created, comment, sha256, active "
                + "FROM revision " + where)) {
            bind(s, args);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new PolicyRevision(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                            Instant.parse(rs.getString(5)), rs.getString(6), rs.getString(7), rs.getInt(8) == 1));
                }
            }
        }
        return out;
    }

    private static long insertAudit(Connection c, Instant at, String policy, Integer revision, String kind, String detail,
                                    String actor) throws SQLException {
        update(c, "INSERT INTO audit (at, policy, revision, kind, detail, actor) VALUES (?, ?, ?, ?, ?, ?)",
                at.toString(), policy, revision, kind, detail, actor);
        return queryInt(c, "SELECT last_insert_rowid()");
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            s.executeUpdate();
        }
    }

    private static int queryInt(Connection c, String sql, Object... args) throws SQLException {
        Integer v = queryInteger(c, sql, args);
        if (v == null) {
            throw new SQLException("no result for " + sql);
        }
        return v;
    }

    private static Integer queryInteger(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int v = rs.getInt(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    private static void bind(PreparedStatement s, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            if (args[i] == null) {
                s.setNull(i + 1, java.sql.Types.INTEGER);
            } else {
                s.setObject(i + 1, args[i]);
            }
        }
    }

    private static PolicyRevision withActive(PolicyRevision r, boolean active) {
        return new PolicyRevision(r.policy(), r.number(), r.text(), r.author(), r.created(), r.comment(), r.sha256(), active);
    }

    /** Refuses a name outside {@link #NAME}. */
    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new PolicyStoreException("policy name \"" + name + "\": expected 1 to 63 characters of a-z, 0-9, _, . "
                    + "and -, the first a letter or digit");
        }
    }

    private static String actor(String actor) {
        if (actor == null || actor.isBlank()) {
            throw new PolicyStoreException("no author or actor given");
        }
        return actor.strip();
    }

    /** SHA-256 of {@code bytes}, lower-case hex. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return firstLine(t.getMessage() != null ? t.getMessage() : t.getClass().getName());
    }
}
