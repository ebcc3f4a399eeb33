package dev.vigil.plugin.http;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.Probe;
import dev.vigil.api.http.HttpGet;
import io.netty.channel.ChannelFactory;
import io.netty.channel.socket.SocketChannel;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One {@code HTTP_GET}/{@code SSL_GET} target: its urls fetched one after the other, each on a
 * connection of its own (its socket prepared by the host: {@code fwmark}, {@code bind_if}), on the
 * host's event loop. The probe passes when every url passes, and
 * fails at the first url that does not, with what was seen and what was expected. All urls share
 * one deadline, {@code connect_timeout} from the start of the probe, so that the probe ends within
 * the time the host allows it.
 *
 * <p>Everything that does not change from probe to probe is made once, here: each url's
 * {@link HttpGet.Fetcher} (its request's bytes, the host's channel factory), which hashes the body
 * only for a url with a {@code digest}, and the words of its results. {@link #run()} starts the
 * first fetch and returns; the rest happens on the event loop. A target without {@code fwmark} or
 * {@code bind_if} has nothing to set on its sockets, and its plain {@code HTTP_GET} fetches open
 * their sockets on the epoll loop without a Netty channel (see {@link HttpGet.Fetcher}): the
 * same exchange in about half the system calls.
 */
final class HttpProbe implements Probe {

    private final CheckContext context;
    private final Step[] steps;
    private volatile boolean closed;

    /** One url: its fetcher and the words of its results. */
    private record Step(HttpConfig.Url url, HttpGet.Fetcher fetcher, String shown, String passed) {
    }

    HttpProbe(CheckContext context, HttpConfig config) {
        this.context = context;
        String inherited = context.inherited().virtualhost();
        ChannelFactory<SocketChannel> channels = context.socketChannels();
        var target = context.target();
        List<HttpConfig.Url> urls = config.urls();
        steps = new Step[urls.size()];
        for (int i = 0; i < steps.length; i++) {
            HttpConfig.Url url = urls.get(i);
            String host = config.hostFor(url, inherited);
            HttpGet.Request request = new HttpGet.Request(target.address(), target.bindAddress(), url.path(),
                    host, config.protocol(), config.ssl(), config.serverNameFor(url, inherited));
            // /health, or /health (Host www.example.com) when a virtualhost names the site.
            String shown = url.path() + (host != null ? " (Host " + host + ")" : "");
            // Without fwmark or bind_if the channels' factory sets nothing: the fetch may open its socket itself.
            boolean plain = target.fwmark() == null && target.bindInterface() == null;
            steps[i] = new Step(url, new HttpGet.Fetcher(context.eventLoop(), channels, request, url.digest() != null, plain), shown,
                    (url.digest() != null ? ", digest matched," : "") + " for " + shown);
        }
    }

    @Override
    public CompletionStage<CheckResult> run() {
        Run r = new Run(context.nanoTime());
        r.next(0);
        return r.result;
    }

    /** One probe: the urls in turn, each fetch's end heard as a {@link HttpGet.Callback}. */
    private final class Run implements HttpGet.Callback {
        final CompletableFuture<CheckResult> result = new CompletableFuture<>();
        private final long start;
        /** What the urls that passed said, joined by "; " (only with several urls). */
        private StringBuilder passed;
        private int index;

        Run(long start) {
            this.start = start;
        }

        /** Fetches url {@code i}, or completes with what the urls said once all passed. */
        void next(int i) {
            index = i;
            if (i == steps.length) {
                String seen = passed != null ? passed.toString() : "";
                result.complete(CheckResult.of(CheckResult.Status.L7OK, seen + " in " + millis(context.nanoTime() - start) + " ms"));
                return;
            }
            if (closed) {
                result.complete(CheckResult.of(CheckResult.Status.L4CON, "checker closed"));
                return;
            }
            long leftNanos = context.connectTimeout().toNanos() - (context.nanoTime() - start);
            Step step = steps[i];
            if (leftNanos < 1_000_000) {
                result.complete(CheckResult.of(CheckResult.Status.L7TOUT, "no time left for " + step.url().path()
                        + " within " + context.connectTimeout().toMillis() + " ms"));
                return;
            }
            step.fetcher().fetch(leftNanos / 1_000_000, this);
        }

        @Override
        public void done(HttpGet.Response response, HttpGet.Failure failure) {
            Step step = steps[index];
            HttpConfig.Url url = step.url();
            if (failure != null) {
                result.complete(failed(step, failure));
                return;
            }
            if (!url.accepts(response.statusCode())) {
                result.complete(CheckResult.of(CheckResult.Status.L7RSP, "HTTP status " + response.statusCode()
                        + " (expected " + url.codesText() + ") for " + step.shown()));
                return;
            }
            if (url.digest() != null && !url.digest().equals(response.digest())) {
                result.complete(CheckResult.of(CheckResult.Status.L7RSP, "MD5 digest " + response.digest()
                        + " of the body of " + step.shown() + " (expected " + url.digest() + ", " + response.bodyBytes() + " bytes)"));
                return;
            }
            String said = "HTTP status " + response.statusCode() + step.passed();
            if (steps.length == 1) {
                result.complete(CheckResult.of(CheckResult.Status.L7OK, said + " in " + millis(context.nanoTime() - start) + " ms"));
                return;
            }
            passed = passed == null ? new StringBuilder(said) : passed.append("; ").append(said);
            next(index + 1);
        }
    }

    /** The failure's status: no connection (L4), no answer in time (L7TOUT), or a broken answer (L7RSP). */
    private static CheckResult failed(Step step, HttpGet.Failure f) {
        CheckResult.Status status = switch (f.kind()) {
            case CONNECT_TIMEOUT -> CheckResult.Status.L4TOUT;
            case CONNECT -> CheckResult.Status.L4CON;
            case TIMEOUT -> CheckResult.Status.L7TOUT;
            case TLS, NO_DATA, IO -> CheckResult.Status.L7RSP;
        };
        String what = f.getMessage();
        return CheckResult.of(status, status == CheckResult.Status.L4CON || status == CheckResult.Status.L4TOUT
                ? what : what + " for " + step.shown());
    }

    /** {@code nanos} in milliseconds with one decimal, rounded half up: {@code 0.4}, {@code 12.0}. */
    static String millis(long nanos) {
        long tenths = (Math.max(0, nanos) + 50_000) / 100_000;
        return tenths / 10 + "." + tenths % 10;
    }

    @Override
    public void close() {
        // A fetch in flight ends by its own deadline and closes its channel; no further url starts.
        closed = true;
    }
}
