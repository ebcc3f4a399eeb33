package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code vigil status}: the running daemon's state and counters, as JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Prints the running daemon's instances, states, priorities and counters as JSON.")
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--api", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9595",
            description = "Address of the daemon's API (global_defs vigil_api; default: ${DEFAULT-VALUE}).")
    String api;

    @Override
    public Integer call() throws InterruptedException {
        var address = StatusServer.parse(api);
        String host = address.getHostString().contains(":") ? "[" + address.getHostString() + "]" : address.getHostString();
        URI uri = URI.create("http://" + host + ":" + address.getPort() + "/status");
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.print(r.body());
            return r.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            System.err.println("vigil status: no daemon answers at " + uri + " (" + e.getMessage() + ")");
            return 1;
        }
    }
}
