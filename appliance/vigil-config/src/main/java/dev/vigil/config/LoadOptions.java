package dev.vigil.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Inputs to {@link ConfigLoader} beyond the file itself.
 *
 * @param configId     the id matched by {@code @ID} / {@code @^ID} lines (keepalived {@code -i}); default the
 *                     short host name
 * @param env          environment for {@code ${_ENV VAR}}
 * @param hostname     the host name, used for the {@code router_id} and e-mail defaults
 * @param instanceName the value of {@code ${_INSTANCE}}
 * @param random       source for {@code ${_RANDOM}}
 */
public record LoadOptions(String configId, Map<String, String> env, String hostname, String instanceName,
                          RandomGenerator random) {
    public LoadOptions {
        Objects.requireNonNull(configId, "configId");
        Objects.requireNonNull(hostname, "hostname");
        env = Map.copyOf(env);
        instanceName = instanceName == null ? "" : instanceName;
        random = random == null ? RandomGenerator.getDefault() : random;
    }

    /** Options for this host: config-id = short host name, the process environment. */
    public static LoadOptions defaults() {
        String host = localHostName();
        return new LoadOptions(shortName(host), System.getenv(), host, "", null);
    }

    /** Defaults with another config-id. */
    public LoadOptions withConfigId(String id) {
        return new LoadOptions(id, env, hostname, instanceName, random);
    }

    /** Defaults with another environment. */
    public LoadOptions withEnv(Map<String, String> newEnv) {
        return new LoadOptions(configId, newEnv, hostname, instanceName, random);
    }

    /** The part of a host name before the first dot. */
    public static String shortName(String host) {
        int dot = host.indexOf('.');
        return dot > 0 ? host.substring(0, dot) : host;
    }

    private static String localHostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
