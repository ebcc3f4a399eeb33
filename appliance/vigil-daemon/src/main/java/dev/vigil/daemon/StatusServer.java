package dev.vigil.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The local read-only API: {@code GET /status} answers the daemon's state and counters as JSON.
 * It listens on loopback by default ({@code vigil_api} in {@code global_defs}) and runs on its own
 * thread: a slow client never touches the engine.
 */
final class StatusServer implements AutoCloseable {

    /** Default listen address of the API. */
    static final InetSocketAddress DEFAULT = new InetSocketAddress("127.0.0.1", 9595);

    private final HttpServer server;

    StatusServer(InetSocketAddress listen, Supplier<Object> status) throws IOException {
        server = HttpServer.create(listen, 8);
        server.createContext("/status", exchange -> respond(exchange, status));
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

    private static void respond(HttpExchange exchange, Supplier<Object> status) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = (Json.write(status.get()) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
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
