package dev.vigil.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vigil.api.Json;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
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

    /** How often the watch looks at the server's dispatcher thread. */
    static final long WATCH_MILLIS = 1000;

    /** The dispatcher threads of every server of this process, so that each server finds its own. */
    private static final Set<Thread> DISPATCHERS = ConcurrentHashMap.newKeySet();

    private final InetSocketAddress listen;
    private final Supplier<Object> status;
    private final Supplier<ServiceManager> services;
    private final Supplier<String> plugins;
    private final Object lock = new Object();
    private volatile HttpServer server;
    private volatile ExecutorService pool;
    private volatile Thread dispatcher;
    private volatile boolean closed;
    private volatile Throwable dispatcherDeath;
    private final Thread watch;
    private int restarts;

    /**
     * @param services the forwarder's manager, or {@code null} (then {@code /services} and
     *                 {@code /real-server} answer 503)
     */
    StatusServer(InetSocketAddress listen, Supplier<Object> status, Supplier<ServiceManager> services) throws IOException {
        this(listen, status, services, null);
    }

    /**
     * Listens, and watches its listener: the JDK server's one dispatcher thread ends for good on an
     * {@link Error} (an {@link OutOfMemoryError} that a plugin's runaway allocation left to whichever
     * thread allocated next, say), and with it every answer. The watch sees that within
     * {@value #WATCH_MILLIS} ms, logs it and listens again on the same address.
     *
     * @param plugins the {@code vigil plugins} listing for {@code GET /plugins}, or {@code null} (503)
     */
    StatusServer(InetSocketAddress listen, Supplier<Object> status, Supplier<ServiceManager> services,
                 Supplier<String> plugins) throws IOException {
        this.status = status;
        this.services = services;
        this.plugins = plugins;
        this.listen = listen(listen);
        watch = new Thread(this::watch, "vigil-api-watch");
        watch.setDaemon(true);
        watch.start();
    }

    /** Starts a server on {@code address}; returns the address it listens on (the port chosen when 0). */
    private InetSocketAddress listen(InetSocketAddress address) throws IOException {
        HttpServer s = HttpServer.create(address, 8);
        s.createContext("/plugins", exchange -> respondPlugins(exchange, plugins));
        s.createContext("/status", exchange -> respondStatus(exchange, status));
        s.createContext("/services", exchange -> respondServices(exchange, services));
        s.createContext("/real-server", exchange -> respondRealServer(exchange, services));
        ExecutorService p = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vigil-api");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(p);
        synchronized (DISPATCHERS) {
            Set<Thread> before = Thread.getAllStackTraces().keySet();
            s.start();
            Thread found = null;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("HTTP-Dispatcher") && !before.contains(t) && !DISPATCHERS.contains(t)) {
                    found = t;
                }
            }
            if (found != null) {
                DISPATCHERS.add(found);
                found.setUncaughtExceptionHandler((t, e) -> dispatcherDeath = e);
            }
            dispatcher = found;
        }
        server = s;
        pool = p;
        return s.getAddress();
    }

    private void watch() {
        while (!closed) {
            try {
                Thread.sleep(WATCH_MILLIS);
                Thread d = dispatcher;
                if (closed || d == null || d.isAlive()) {
                    continue;
                }
                relisten();
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                // The watch outlives what it watches, an exhausted heap included: try again next round.
            }
        }
    }

    /** The dispatcher ended: drops the dead server and listens again. */
    private void relisten() throws IOException {
        synchronized (lock) {
            if (closed) {
                return;
            }
            Throwable cause = dispatcherDeath;
            Log.warn("api", "the API's listener thread ended (" + (cause == null ? "no error reported" : cause.toString())
                    + "); listening again on " + listen.getHostString() + ":" + listen.getPort());
            DISPATCHERS.remove(dispatcher);
            dispatcher = null;
            server.stop(0);
            pool.shutdownNow();
            dispatcherDeath = null;
            listen(listen);
            restarts++;
        }
    }

    /** How many times the listener was started again after its thread ended. */
    int restarts() {
        synchronized (lock) {
            return restarts;
        }
    }

    /** The server's dispatcher thread, or {@code null} when it was not found. */
    Thread dispatcher() {
        return dispatcher;
    }

    /** Watches {@code thread} as if it were the dispatcher (specs end it with an error of their choice). */
    void watchInstead(Thread thread) {
        thread.setUncaughtExceptionHandler((t, e) -> dispatcherDeath = e);
        dispatcher = thread;
    }

    InetSocketAddress address() {
        return listen;
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
        synchronized (lock) {
            closed = true;
            watch.interrupt();
            DISPATCHERS.remove(dispatcher);
            server.stop(0);
            pool.shutdownNow();
        }
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
