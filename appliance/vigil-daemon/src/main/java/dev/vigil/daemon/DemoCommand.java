package dev.vigil.daemon;

import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vigil demo}: the network-namespace demo of {@code bin/vigil-demo} (two Vigil nodes and a
 * client on a bridge; hand-over and crash take-over with the outage the client saw).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Two Vigil nodes and a client in network namespaces (root): who owns the VIP,",
            "a graceful hand-over and a crash take-over, with the outage the client saw."})
final class DemoCommand implements Callable<Integer> {

    @Override
    public Integer call() throws IOException, InterruptedException {
        String home = System.getProperty("vigil.home");
        Path script = home != null ? Path.of(home, "bin", "vigil-demo") : null;
        if (script == null || !Files.isExecutable(script)) {
            System.err.println("vigil demo: bin/vigil-demo not found (run it as bin/vigil demo from the source tree)");
            return 2;
        }
        return new ProcessBuilder(script.toString()).inheritIO().start().waitFor();
    }
}
