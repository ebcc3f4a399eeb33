package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;

/** {@code vigil status}: the running daemon's state and counters, as JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Prints the running daemon's instances, states, priorities and counters as JSON.")
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ApiOption api;

    @Override
    public Integer call() throws InterruptedException {
        ApiClient client = api.client();
        try {
            HttpResponse<String> r = client.get("/status");
            System.out.print(r.body());
            return r.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            return client.unreachable("status", "/status", e);
        }
    }
}
