package dev.vigil.daemon;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/** The commands' side of the daemon's local API ({@link StatusServer}). */
final class ApiClient {

    private final URI base;

    /** @param api {@code HOST:PORT} as {@code global_defs vigil_api} gives it */
    ApiClient(String api) {
        var address = StatusServer.parse(api);
        String host = address.getHostString().contains(":") ? "[" + address.getHostString() + "]" : address.getHostString();
        base = URI.create("http://" + host + ":" + address.getPort());
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    /** Says on stderr that no daemon answered {@code path} for {@code vigil <command>}; the exit code, 1. */
    int unreachable(String command, String path, IOException e) {
        System.err.println("vigil " + command + ": no daemon answers at " + uri(path) + " (" + e.getMessage() + ")");
        return 1;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> post(String path, Map<String, String> form) throws IOException, InterruptedException {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return client.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
