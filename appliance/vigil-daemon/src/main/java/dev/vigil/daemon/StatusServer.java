package dev.vigil.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vigil.daemon.forward.RealServerSelector;
import dev.vigil.daemon.forward.ServiceManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The local API of the running daemon, on its own thread (a slow client never touches the engine):
 * <ul>
 *   <li>{@code GET /status}: the daemon's state and counters as JSON;</li>
 *   <li>{@code GET /plugins}: the loaded plugins, as {@code vigil plugins} prints them;</li>
 *   <li>{@code GET /services} ({@code ?stats=1}): the forwarder's table in {@code ipvsadm -Ln}
 *       ({@code --stats}) layout, as text;</li>
 *   <li>{@code POST /real-server} with form fields {@code virtual}, {@code real}, {@code state}
 *       ({@code up}/{@code down}) and optionally {@code protocol}: sets real servers' state. Only
 *       clients on loopback may post.</li>
 * </ul>
 * It listens on loopback by default ({@code vigil_api} in {@code global_defs}).
 */
final class StatusServer implements AutoCloseable {

    /** Default listen address of the API. */
    static final InetSocketAddress DEFAULT = new InetSocketAddress("127.0.0.1", 9595);

    /** How long a request waits for the forwarder thread. */
    private static final long FORWARDER_WAIT_SECONDS = 15;

    private final HttpServer server;

    /**
     * @param services the forwarder's manager, or {@code null} (then {@code /services} and
     *                 {@code /real-server} answer 503)
     */
    StatusServer(InetSocketAddress listen, Supplier<Object> status, Supplier<ServiceManager> services) throws IOException {
        this(listen, status, services, null);
    }

    /** @param plugins the {@code vigil plugins} listing for {@code GET /plugins}, or {@code null} (503) */
    StatusServer(InetSocketAddress listen, Supplier<Object> status, Supplier<ServiceManager> services,
                 Supplier<String> plugins) throws IOException {
        server = HttpServer.create(listen, 8);
        server.createContext("/plugins", exchange -> respondPlugins(exchange, plugins));
        server.createContext("/status", exchange -> respondStatus(exchange, status));
        server.createContext("/services", exchange -> respondServices(exchange, services));
        server.createContext("/real-server", exchange -> respondRealServer(exchange, services));
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vigil-api");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private static void respondStatus(HttpExchange exchange, Supplier<Object> status) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            send(exchange, 200, "application/json", Json.write(status.get()) + "\n");
        }
    }

    private static void respondPlugins(HttpExchange exchange, Supplier<String> plugins) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            if (plugins == null) {
                send(exchange, 503, "text/plain", "the plugin host is not running\n");
                return;
            }
            send(exchange, 200, "text/plain", plugins.get());
        }
    }

    private static void respondServices(HttpExchange exchange, Supplier<ServiceManager> services) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            ServiceManager m = services == null ? null : services.get();
            if (m == null) {
                send(exchange, 503, "text/plain", "the forwarder is not running\n");
                return;
            }
            String query = exchange.getRequestURI().getRawQuery();
            boolean stats = query != null && form(query).containsKey("stats");
            try {
                send(exchange, 200, "text/plain", m.services(stats).get(FORWARDER_WAIT_SECONDS, TimeUnit.SECONDS));
            } catch (ExecutionException | TimeoutException | InterruptedException e) {
                send(exchange, 500, "text/plain", "cannot read the forwarder: " + reason(e) + "\n");
            }
        }
    }

    private static void respondRealServer(HttpExchange exchange, Supplier<ServiceManager> services) throws IOException {
        try (exchange) {
            if (!"POST".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            if (!exchange.getRemoteAddress().getAddress().isLoopbackAddress()) {
                send(exchange, 403, "text/plain", "real server changes are accepted from loopback only\n");
                return;
            }
            ServiceManager m = services == null ? null : services.get();
            if (m == null) {
                send(exchange, 503, "text/plain", "the forwarder is not running\n");
                return;
            }
            Map<String, String> f;
            try (InputStream in = exchange.getRequestBody()) {
                f = form(new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8));
            }
            String state = f.getOrDefault("state", "");
            if (!state.equals("up") && !state.equals("down")) {
                send(exchange, 400, "text/plain", "state \"" + state + "\": expected up or down\n");
                return;
            }
            RealServerSelector selector;
            try {
                selector = RealServerSelector.parse(f.getOrDefault("virtual", ""), f.getOrDefault("real", ""),
                        f.get("protocol"));
            } catch (IllegalArgumentException e) {
                send(exchange, 400, "text/plain", e.getMessage() + "\n");
                return;
            }
            ServiceManager.StateResult r;
            try {
                r = m.setState(selector, state.equals("up")).get(FORWARDER_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException | InterruptedException e) {
                send(exchange, 500, "text/plain", "cannot change the real server: " + reason(e) + "\n");
                return;
            }
            if (r.changes().isEmpty()) {
                send(exchange, 404, "text/plain", "no real server " + selector + " in the configuration\n");
                return;
            }
            StringBuilder out = new StringBuilder();
            for (ServiceManager.Change c : r.changes()) {
                out.append("real server ").append(c.name()).append(": ")
                        .append(c.wasUp() == c.up() ? "already " + word(c.up()) : word(c.wasUp()) + " -> " + word(c.up()))
                        .append('\n');
            }
            if (!r.applied()) {
                out.append("the forwarder did not take the new state: ").append(r.error()).append('\n');
            }
            send(exchange, r.applied() ? 200 : 503, "text/plain", out.toString());
        }
    }

    private static String word(boolean up) {
        return up ? "up" : "down";
    }

    private static String reason(Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof TimeoutException) {
            return "no answer from the forwarder thread in " + FORWARDER_WAIT_SECONDS + " s";
        }
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    private static void send(HttpExchange exchange, int code, String type, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        exchange.sendResponseHeaders(code, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** {@code a=1&b=x%20y}: the fields of a form or query string. */
    static Map<String, String> form(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** Parses {@code HOST:PORT}, {@code [V6]:PORT} or {@code PORT}. */
    static InetSocketAddress parse(String text) {
        String host = DEFAULT.getHostString();
        String port = text;
        int colon = text.lastIndexOf(':');
        if (colon >= 0) {
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
        }
        return new InetSocketAddress(host, Integer.parseInt(port));
    }
}
