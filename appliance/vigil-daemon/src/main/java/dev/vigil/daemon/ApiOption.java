package dev.vigil.daemon;

import picocli.CommandLine.Option;

/** The {@code --api} option of the commands that talk to a running daemon, and its client. */
final class ApiOption {

    @Option(names = "--api", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9595",
            description = "Address of the daemon's API (global_defs vigil_api; default: ${DEFAULT-VALUE}).")
    String api;

    ApiClient client() {
        return new ApiClient(api);
    }
}
