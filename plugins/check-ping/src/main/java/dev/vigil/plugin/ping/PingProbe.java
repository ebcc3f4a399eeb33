package dev.vigil.plugin.ping;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.File;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

/**
 * One {@code PING_CHECK} target: {@code ping -n -c 1 -W connect_timeout} to the target's address
 * ({@code -I bind_if}, else {@code -I bindto}; {@code -m fwmark}). {@link #run()} only starts the
 * process; the stage completes from its exit ({@link Process#onExit()}), whose output, a few
 * hundred bytes already in the pipe, says why it failed. Should {@code ping} outlive its own
 * deadline by {@link #OVERRUN_MILLIS}, a timer on the event loop kills it and fails the probe.
 *
 * <p>Exit status 0 is a reply; 1 is no reply, either silence ({@code L4TOUT}) or an ICMP error
 * about the echo ({@code From 10.0.0.1 icmp_seq=1 Destination Host Unreachable}, {@code L4CON});
 * anything else is an error of {@code ping} itself ({@code connect: Network is unreachable}).
 */
final class PingProbe implements Probe {

    /** How long past {@code connect_timeout} {@code ping} may take to exit before it is killed. */
    static final long OVERRUN_MILLIS = 500;

    private static final java.util.regex.Pattern TIME = java.util.regex.Pattern.compile("time[=<]([0-9.]+) ms");

    private final CheckContext context;
    private final CheckTarget target;
    private final String address;
    private final long timeoutMillis;
    private final List<String> argv;
    /** The ping in flight, for {@link #close()}. */
    private volatile Process running;

    PingProbe(CheckContext context) {
        this.context = context;
        this.target = context.target();
        InetAddress to = target.address().getAddress();
        this.address = to.getHostAddress();
        this.timeoutMillis = Math.max(1, context.connectTimeout().toMillis());
        List<String> a = new ArrayList<>(List.of("ping", to instanceof Inet6Address ? "-6" : "-4", "-n", "-c", "1",
                "-W", String.format(Locale.ROOT, "%.3f", timeoutMillis / 1000.0)));
        if (target.bindInterface() != null) {
            a.addAll(List.of("-I", target.bindInterface()));
        } else if (target.bindAddress() != null && !target.bindAddress().getAddress().isAnyLocalAddress()) {
            a.addAll(List.of("-I", target.bindAddress().getAddress().getHostAddress()));
        }
        if (target.fwmark() != null) {
            a.addAll(List.of("-m", Integer.toUnsignedString(target.fwmark())));
        }
        a.add(address);
        this.argv = List.copyOf(a);
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        Process p;
        try {
            p = new ProcessBuilder(argv)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException | RuntimeException e) {
            result.complete(CheckResult.of(CheckResult.Status.L4CON, "cannot run ping: " + e.getMessage()));
            return result;
        }
        running = p;
        ScheduledFuture<?> guard = context.eventLoop().schedule(() -> {
            if (result.complete(CheckResult.of(CheckResult.Status.L4TOUT, "no echo reply from " + address + " within "
                    + timeoutMillis + " ms (ping did not exit)"))) {
                p.destroyForcibly();
            }
        }, timeoutMillis + OVERRUN_MILLIS, TimeUnit.MILLISECONDS);
        p.onExit().whenComplete((done, e) -> {
            guard.cancel(false);
            if (running == p) {
                running = null;
            }
            if (result.isDone()) {
                return;
            }
            String output;
            try {
                output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException ex) {
                output = "";
            }
            result.complete(verdict(p.exitValue(), output));
        });
        return result;
    }

    /** The result of a {@code ping} that exited with {@code status} and printed {@code output}. */
    CheckResult verdict(int status, String output) {
        if (status == 0) {
            Matcher m = TIME.matcher(output);
            return CheckResult.of(CheckResult.Status.L4OK, "echo reply from " + address + (m.find() ? " in " + m.group(1) + " ms" : ""));
        }
        if (status == 1) {
            for (String line : output.lines().toList()) {
                if (line.startsWith("From ")) {
                    // "From 10.0.0.1 icmp_seq=1 Destination Host Unreachable": who said what
                    String[] words = line.split(" ", 4);
                    String what = words.length == 4 ? words[3] : line;
                    return CheckResult.of(CheckResult.Status.L4CON, what + " (from " + words[1] + ", pinging " + address + ")");
                }
            }
            return CheckResult.of(CheckResult.Status.L4TOUT, "no echo reply from " + address + " within " + timeoutMillis + " ms");
        }
        String said = output.lines().filter(l -> l.startsWith("ping:")).findFirst()
                .orElse(output.lines().findFirst().orElse("exit status " + status)).trim();
        return CheckResult.of(CheckResult.Status.L4CON, said + " (pinging " + address + ")");
    }

    @Override
    public void close() {
        Process p = running;
        running = null;
        if (p != null) {
            p.destroyForcibly();
        }
    }
}
