package dev.vigil.plugin.webhook;

import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigLine;
import dev.vigil.api.Notifier;
import dev.vigil.api.NotifierContext;
import dev.vigil.api.NotifierEvent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One configured webhook: POSTs each event to every URL of the block.
 *
 * <p><b>Delivery.</b> {@link #deliver} has the host's delivery timeout for everything: it sets a
 * deadline and every wait (connecting, the answer, a back-off) ends by it. To each URL, at the
 * same time (a virtual thread each when there are several), in attempts:
 * <ul>
 *   <li>a 2xx answer is success;</li>
 *   <li>a refused or reset connection, no answer in time, 429 or a 5xx is retried, after
 *       {@code retry_delay}, then twice that, and so on, each back-off cut to half the time left so
 *       that the attempt after it has the other half; at most {@code retries} retries, and none
 *       once less than {@value #MIN_LEFT_MS} ms is left;</li>
 *   <li>any other answer (a 4xx but 429, a 3xx: redirects are not followed for a POST) fails at
 *       once, as sending the same bytes again cannot change it.</li>
 * </ul>
 * An attempt may use all the time left: a receiver that takes the connection and never answers
 * costs one attempt and the whole timeout, not more. Each attempt's reason is kept, and a failed
 * delivery throws with all of them per failed URL:
 * {@code POST http://10.9.0.100:8080/hook: HTTP 503 after 4 attempts in 7.0 s (connection refused,
 * HTTP 503, HTTP 503, HTTP 503); retries 3 used}. With several URLs each is delivered on its own,
 * and the delivery fails if any failed, naming those. URLs are written without their query, which
 * may hold a token.
 *
 * <p>Every attempt sends the same bytes ({@link WebhookPayload}): {@code Content-Type:
 * application/json}, {@code User-Agent: Vigil/VERSION}, {@code X-Vigil-Signature} with a secret,
 * and the block's {@code header} lines. One HTTP/1.1 client per sink, its connections kept alive
 * between events, closed by {@link #close}.
 */
final class WebhookSink implements Notifier.Sink {

    /** No retry once less than this is left: the back-off (half of it) would leave the attempt too little. */
    static final long MIN_LEFT_MS = 100;
    /** The part of an answer's body kept for a failure's reason. */
    static final int SNIPPET = 200;
    static final String USER_AGENT = "Vigil/" + version();

    private final NotifierContext context;
    private final Settings settings;
    private final HttpClient client;

    /**
     * A block's values, as {@link WebhookNotifier#validate} accepted them.
     *
     * @param urls       every {@code url}, in order
     * @param secret     the last {@code secret}'s UTF-8 bytes, or {@code null} for none
     * @param retries    the last {@code retries}, else 3
     * @param retryDelay the last {@code retry_delay}, else 1 s
     * @param headers    every {@code header}, name then value
     */
    record Settings(List<URI> urls, byte[] secret, int retries, Duration retryDelay, List<Map.Entry<String, String>> headers) {

        static Settings of(ConfigBlock block) {
            List<URI> urls = block.lines("url").stream().map(l -> URI.create(l.arguments().get(0))).toList();
            byte[] secret = block.last("secret").map(l -> l.arguments().get(0).getBytes(StandardCharsets.UTF_8)).orElse(null);
            int retries = block.last("retries").map(l -> WebhookNotifier.retries(l.arguments().get(0)))
                    .orElse(WebhookNotifier.DEFAULT_RETRIES);
            Duration delay = block.last("retry_delay").map(l -> WebhookNotifier.seconds(l.arguments().get(0)))
                    .orElse(WebhookNotifier.DEFAULT_RETRY_DELAY);
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            for (ConfigLine l : block.lines("header")) {
                headers.add(Map.entry(l.arguments().get(0), WebhookNotifier.headerValue(l)));
            }
            return new Settings(urls, secret, retries, delay, List.copyOf(headers));
        }
    }

    WebhookSink(NotifierContext context, Settings settings) {
        this.context = context;
        this.settings = settings;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(context.deliveryTimeout())
                .build();
    }

    @Override
    public void deliver(NotifierEvent event) throws Exception {
        long start = System.nanoTime();
        long deadline = start + context.deliveryTimeout().toNanos();
        String id = WebhookPayload.id(event);
        byte[] body = WebhookPayload.json(event, id);
        String signature = settings.secret() == null ? null : WebhookPayload.signature(settings.secret(), body);
        List<URI> urls = settings.urls();
        if (urls.size() == 1) {
            String failure = post(urls.get(0), body, signature, event, start, deadline);
            if (failure != null) {
                throw new IOException(failure);
            }
            return;
        }
        List<Thread> threads = new ArrayList<>();
        String[] results = new String[urls.size()];
        for (int i = 0; i < urls.size(); i++) {
            int n = i;
            threads.add(Thread.ofVirtual().name("webhook-" + context.name() + "-" + n).start(() -> {
                try {
                    results[n] = post(urls.get(n), body, signature, event, start, deadline);
                } catch (InterruptedException e) {
                    results[n] = "POST " + shown(urls.get(n)) + ": interrupted";
                }
            }));
        }
        try {
            for (Thread t : threads) {
                t.join();
            }
        } catch (InterruptedException e) {
            threads.forEach(Thread::interrupt);
            throw e;
        }
        List<String> failures = new ArrayList<>();
        for (String r : results) {
            if (r != null) {
                failures.add(r);
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException(failures.size() + " of " + urls.size() + " URLs failed: " + String.join("; ", failures));
        }
    }

    /** Delivers to one URL: {@code null} once it took the event, else why not, with every attempt's reason. */
    private String post(URI url, byte[] body, String signature, NotifierEvent event, long start, long deadline)
            throws InterruptedException {
        List<String> reasons = new ArrayList<>();
        long backoff = settings.retryDelay().toNanos();
        for (int attempt = 1; ; attempt++) {
            Attempt a = attempt(url, body, signature, deadline);
            if (a.reason == null) {
                if (attempt > 1) {
                    context.logger().log(System.Logger.Level.INFO, "{0} at {1} delivered to {2} at attempt {3}, after: {4}",
                            event.type(), event.time(), shown(url), attempt, String.join(", ", reasons));
                }
                return null;
            }
            reasons.add(a.reason);
            String stop;
            long left = deadline - System.nanoTime();
            if (!a.retryable) {
                stop = "not retried: the same request gets the same answer";
            } else if (attempt > settings.retries()) {
                stop = "retries " + settings.retries() + " used";
            } else if (left < TimeUnit.MILLISECONDS.toNanos(MIN_LEFT_MS)) {
                stop = "the delivery timeout (" + seconds(context.deliveryTimeout().toNanos()) + " s) is over";
            } else {
                long sleep = Math.min(backoff, left / 2);
                context.logger().log(System.Logger.Level.INFO, "{0} at {1} to {2}: {3}; retrying in {4} s",
                        event.type(), event.time(), shown(url), a.reason, seconds(sleep));
                TimeUnit.NANOSECONDS.sleep(sleep);
                backoff = backoff > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : backoff * 2;
                continue;
            }
            return "POST " + shown(url) + ": " + a.reason + " after " + attempt + (attempt == 1 ? " attempt" : " attempts")
                    + " in " + seconds(System.nanoTime() - start) + " s"
                    + (reasons.size() > 1 ? " (" + String.join(", ", reasons) + ")" : "") + "; " + stop;
        }
    }

    /** The outcome of one POST: {@code reason} null for success, else why it failed and whether to try again. */
    private record Attempt(String reason, boolean retryable) {
    }

    private Attempt attempt(URI url, byte[] body, String signature, long deadline) throws InterruptedException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return new Attempt("no time left", true);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(Duration.ofNanos(left))
                .header("Content-Type", "application/json")
                .header("User-Agent", USER_AGENT)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            request.header(WebhookPayload.SIGNATURE_HEADER, signature);
        }
        for (Map.Entry<String, String> h : settings.headers()) {
            request.header(h.getKey(), h.getValue());
        }
        CompletableFuture<HttpResponse<String>> sent = client.sendAsync(request.build(), info -> new Snippet());
        HttpResponse<String> response;
        try {
            // The client's own timeout covers the wait for the answer's head; this covers everything.
            response = sent.get(left, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            sent.cancel(true);
            return new Attempt("no answer within " + seconds(left) + " s", true);
        } catch (InterruptedException e) {
            sent.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            return new Attempt(reason(e.getCause(), left), true);
        }
        int status = response.statusCode();
        if (status >= 200 && status <= 299) {
            return new Attempt(null, false);
        }
        String text = "HTTP " + status + (response.body().isEmpty() ? "" : " \"" + response.body() + "\"");
        // RFC 9110 §15.5, §15.6 and RFC 6585 §4: a 4xx is the request's fault and stays so; 429 and a 5xx may pass.
        return new Attempt(text, status == 429 || (status >= 500 && status <= 599));
    }

    /** A short reason for an I/O failure: {@code connection refused}, {@code no answer within 2.0 s}, ... */
    static String reason(Throwable t, long left) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof HttpConnectTimeoutException) {
                return "no connection within " + seconds(left) + " s";
            }
            if (c instanceof HttpTimeoutException) {
                return "no answer within " + seconds(left) + " s";
            }
            if (c instanceof ConnectException) {
                return "connection refused" + (c.getMessage() == null || c.getMessage().equalsIgnoreCase("connection refused")
                        ? "" : " (" + c.getMessage() + ")");
            }
        }
        Throwable root = t;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.toLowerCase(Locale.ROOT);
    }

    /** The URL as written in reasons and the log: without its query, which may hold a token. */
    static String shown(URI url) {
        return url.getScheme() + "://" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath());
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
    }

    @Override
    public void close() throws InterruptedException {
        client.shutdownNow();
        client.awaitTermination(Duration.ofSeconds(1));
    }

    private static String version() {
        try (InputStream in = WebhookSink.class.getResourceAsStream("webhook.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An answer's body: its first {@value #SNIPPET} bytes' first line kept, the rest read and dropped. */
    private static final class Snippet implements HttpResponse.BodySubscriber<String> {
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                int n = Math.min(b.remaining(), SNIPPET - kept.size());
                if (n > 0) {
                    byte[] bytes = new byte[n];
                    b.get(bytes);
                    kept.write(bytes, 0, n);
                }
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            String text = kept.toString(StandardCharsets.UTF_8).strip();
            int eol = text.indexOf('\n');
            result.complete((eol < 0 ? text : text.substring(0, eol)).strip().replaceAll("\\p{Cntrl}", "?"));
        }
    }
}
