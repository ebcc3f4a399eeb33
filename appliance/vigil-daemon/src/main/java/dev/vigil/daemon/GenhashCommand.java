package dev.vigil.daemon;

import dev.vigil.api.http.HttpGet;
import dev.vigil.daemon.check.CheckIo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * {@code vigil genhash}: keepalived's {@code genhash}. Fetches a url the way {@code HTTP_GET} (or,
 * with {@code -S}, {@code SSL_GET}) does and prints the MD5 of its body, the value for the url's
 * {@code digest}. The request, the TLS and the digest are the API's {@link HttpGet}, the code the
 * checker plugin runs, so the printed digest is the one the checker will compute.
 */
@Command(name = "genhash", mixinStandardHelpOptions = true,
        description = {"Prints the MD5 digest of a url's body as HTTP_GET/SSL_GET compute it: the value for",
            "url { digest ... }. The same as keepalived's genhash, with its options."})
final class GenhashCommand implements Callable<Integer> {

    @Option(names = {"-s", "--server"}, required = true, paramLabel = "ADDRESS", description = "The server to connect to (an address or a name).")
    String server;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "The port (default: 80, or 443 with -S).")
    Integer port;

    @Option(names = {"-u", "--url"}, required = true, paramLabel = "PATH", description = "The url's path, e.g. /index.html.")
    String url;

    @Option(names = {"-S", "--use-ssl"}, description = "Use TLS (SSL_GET); the certificate is not verified.")
    boolean ssl;

    @Option(names = {"-V", "--use-virtualhost"}, paramLabel = "NAME", description = "The Host header's name (default: the address and port).")
    String virtualhost;

    @Option(names = {"-I", "--use-sni"}, description = "With -S, send the virtualhost (-V) as the TLS server name (SNI).")
    boolean sni;

    @Option(names = {"-P", "--protocol"}, paramLabel = "VERSION", defaultValue = "1.0",
            description = "http_protocol: 1.0, 1.0C (1.0 with Connection: close) or 1.1 (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = {"-t", "--timeout"}, paramLabel = "SECONDS", defaultValue = "5",
            description = "How long connection and answer may take together (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = {"-v", "--verbose"}, description = "Also print the status code and the body's length (on standard error).")
    boolean verbose;

    @Override
    public Integer call() throws InterruptedException {
        HttpGet.Protocol p = HttpGet.Protocol.parse(protocol).orElse(null);
        if (p == null) {
            System.err.println("vigil genhash: invalid --protocol \"" + protocol + "\" (expected 1.0, 1.0C or 1.1)");
            return 2;
        }
        int portNumber = port != null ? port : ssl ? 443 : 80;
        if (portNumber < 1 || portNumber > 65535) {
            System.err.println("vigil genhash: invalid --port " + portNumber + " (expected 1-65535)");
            return 2;
        }
        if (!(timeout > 0) || timeout > 3600) {
            System.err.println("vigil genhash: invalid --timeout " + timeout + " (expected more than 0 and at most 3600 seconds)");
            return 2;
        }
        if (sni && virtualhost == null) {
            System.err.println("vigil genhash: --use-sni sends the virtualhost as the server name: give it with -V");
            return 2;
        }
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(InetAddress.getByName(server), portNumber);
        } catch (UnknownHostException e) {
            System.err.println("vigil genhash: unknown server \"" + server + "\"");
            return 1;
        }
        HttpGet.Request request = new HttpGet.Request(address, null, url, virtualhost, p, ssl, ssl && sni ? virtualhost : null);
        try (CheckIo io = CheckIo.open(1)) {
            HttpGet.Response r = HttpGet.fetch(io.next(), io.socketChannelType(), request,
                    Duration.ofNanos((long) (timeout * 1e9))).toCompletableFuture().get();
            if (verbose) {
                System.err.println("HTTP status " + r.statusCode() + ", " + r.bodyBytes() + " body bytes"
                        + (r.contentLength() >= 0 ? " (Content-Length " + r.contentLength() + ")" : ""));
            }
            System.out.println(r.digest());
            return 0;
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            System.err.println("vigil genhash: " + (c instanceof HttpGet.Failure ? c.getMessage() : c.toString()));
            return 1;
        }
    }
}
