package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.http.HttpResponse;
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
        ApiClient client = new ApiClient(api);
        try {
            HttpResponse<String> r = client.get("/status");
            System.out.print(r.body());
            return r.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            System.err.println("vigil status: no daemon answers at " + client.uri("/status") + " (" + e.getMessage() + ")");
            return 1;
        }
    }
}
