package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;

/** {@code vigil services}: the forwarder's table, as {@code ipvsadm -Ln} prints it. */
@Command(name = "services", mixinStandardHelpOptions = true,
        description = {"Prints the virtual services and real servers the running daemon's forwarder holds,",
            "read from the active backend (IPVS or nftables), in the layout of ipvsadm -Ln."})
final class ServicesCommand implements Callable<Integer> {

    @Option(names = "--stats", description = "Counters instead of scheduler and weights (ipvsadm -Ln --stats).")
    boolean stats;

    @Mixin
    ApiOption api;

    @Override
    public Integer call() throws InterruptedException {
        ApiClient client = api.client();
        String path = stats ? "/services?stats=1" : "/services";
        try {
            HttpResponse<String> r = client.get(path);
            if (r.statusCode() != 200) {
                System.err.print("vigil services: " + r.body());
                return 1;
            }
            System.out.print(r.body());
            return 0;
        } catch (IOException e) {
            return client.unreachable("services", path, e);
        }
    }
}
