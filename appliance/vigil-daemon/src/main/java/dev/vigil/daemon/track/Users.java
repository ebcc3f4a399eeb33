package dev.vigil.daemon.track;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Primary-group lookup through NSS ({@code getent passwd}), cached per user. */
final class Users {

    private static final ConcurrentHashMap<String, String> PRIMARY_GROUP = new ConcurrentHashMap<>();

    private Users() {
    }

    /**
     * The numeric primary group of {@code user}.
     *
     * @throws IOException when the user is unknown
     */
    static String primaryGroup(String user) throws IOException {
        String cached = PRIMARY_GROUP.get(user);
        if (cached != null) {
            return cached;
        }
        Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("unknown user " + user);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted looking up user " + user);
        }
        String[] fields = out.split(":");
        if (fields.length < 4) {
            throw new IOException("unknown user " + user);
        }
        PRIMARY_GROUP.put(user, fields[3]);
        return fields[3];
    }
}
