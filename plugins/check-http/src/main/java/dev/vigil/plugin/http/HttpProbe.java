package dev.vigil.plugin.http;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.Probe;
import dev.vigil.api.http.HttpGet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * One {@code HTTP_GET}/{@code SSL_GET} target: its urls fetched one after the other, each on a
 * connection of its own (its socket prepared by the host: {@code fwmark}, {@code bind_if}), on the
 * host's event loop. The probe passes when every url passes, and
 * fails at the first url that does not, with what was seen and what was expected. All urls share
 * one deadline, {@code connect_timeout} from the start of the probe, so that the probe ends within
 * the time the host allows it.
 */
final class HttpProbe implements Probe {

    private final CheckContext context;
    private final HttpConfig config;
    private volatile boolean closed;

    HttpProbe(CheckContext context, HttpConfig config) {
        this.context = context;
        this.config = config;
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        long start = context.nanoTime();
        next(0, start, new ArrayList<>(), result);
        return result;
    }

    /** Fetches url {@code index}, then the next, until one fails or all passed. */
    private void next(int index, long start, List<String> passed, CompletableFuture<CheckResult> result) {
        if (index == config.urls().size()) {
            result.complete(CheckResult.of(CheckResult.Status.L7OK, String.join("; ", passed) + " in "
                    + String.format(Locale.ROOT, "%.1f", (context.nanoTime() - start) / 1e6) + " ms"));
            return;
        }
        if (closed) {
            result.complete(CheckResult.of(CheckResult.Status.L4CON, "checker closed"));
            return;
        }
        Duration left = context.connectTimeout().minusNanos(context.nanoTime() - start);
        HttpConfig.Url url = config.urls().get(index);
        if (left.toMillis() < 1) {
            result.complete(CheckResult.of(CheckResult.Status.L7TOUT, "no time left for " + url.path()
                    + " within " + context.connectTimeout().toMillis() + " ms"));
            return;
        }
        var target = context.target();
        String inherited = context.inherited().virtualhost();
        HttpGet.Request request = new HttpGet.Request(target.address(), target.bindAddress(), url.path(),
                config.hostFor(url, inherited), config.protocol(), config.ssl(), config.serverNameFor(url, inherited));
        HttpGet.fetch(context.eventLoop(), context.socketChannels(), request, left).whenComplete((response, error) -> {
            if (error != null) {
                result.complete(failure(url, error));
                return;
            }
            if (!url.accepts(response.statusCode())) {
                result.complete(CheckResult.of(CheckResult.Status.L7RSP, "HTTP status " + response.statusCode()
                        + " (expected " + url.codesText() + ") for " + show(url)));
                return;
            }
            if (url.digest() != null && !url.digest().equals(response.digest())) {
                result.complete(CheckResult.of(CheckResult.Status.L7RSP, "MD5 digest " + response.digest()
                        + " of the body of " + show(url) + " (expected " + url.digest() + ", " + response.bodyBytes() + " bytes)"));
                return;
            }
            passed.add("HTTP status " + response.statusCode() + (url.digest() != null ? ", digest matched," : "") + " for " + show(url));
            next(index + 1, start, passed, result);
        });
    }

    /** The failure's status: no connection (L4), no answer in time (L7TOUT), or a broken answer (L7RSP). */
    private CheckResult failure(HttpConfig.Url url, Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(e instanceof HttpGet.Failure f)) {
            return CheckResult.of(CheckResult.Status.L7RSP, "GET " + show(url) + " failed: " + e);
        }
        CheckResult.Status status = switch (f.kind()) {
            case CONNECT_TIMEOUT -> CheckResult.Status.L4TOUT;
            case CONNECT -> CheckResult.Status.L4CON;
            case TIMEOUT -> CheckResult.Status.L7TOUT;
            case TLS, NO_DATA, IO -> CheckResult.Status.L7RSP;
        };
        String what = f.getMessage();
        return CheckResult.of(status, status == CheckResult.Status.L4CON || status == CheckResult.Status.L4TOUT
                ? what : what + " for " + show(url));
    }

    /** {@code /health}, or {@code /health (Host www.example.com)} when a virtualhost names the site. */
    private String show(HttpConfig.Url url) {
        String host = config.hostFor(url, context.inherited().virtualhost());
        return url.path() + (host != null ? " (Host " + host + ")" : "");
    }

    @Override
    public void close() {
        // A fetch in flight ends by its own deadline and closes its channel; no further url starts.
        closed = true;
    }
}
