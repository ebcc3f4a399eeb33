package dev.vigil.daemon;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code vigil real-server VIRTUAL REAL up|down}: sets a real server's state in the running daemon. */
@Command(name = "real-server", mixinStandardHelpOptions = true,
        description = {"Takes a real server out of its virtual server (down) or puts it back (up) in the running",
            "daemon, which applies the change to the forwarder at once: a server taken down gets no new",
            "connections (existing ones finish). The state holds until changed again or the daemon restarts.",
            "VIRTUAL is IP:PORT, [IPv6]:PORT, fwmark N or group NAME; REAL is IP:PORT or IP (any port)."},
        customSynopsis = "vigil real-server [--api=HOST:PORT] [--protocol=TCP|UDP|SCTP] VIRTUAL REAL up|down")
final class RealServerCommand implements Callable<Integer> {

    @Parameters(paramLabel = "WORDS", arity = "3..4",
            description = "VIRTUAL (one word, or two for fwmark N and group NAME), REAL and up or down.")
    List<String> words = new ArrayList<>();

    @Option(names = "--protocol", paramLabel = "PROTO",
            description = "Only the virtual server with this protocol (default: every protocol on VIRTUAL).")
    String protocol;

    @Mixin
    ApiOption api;

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> form;
        try {
            form = form(words, protocol);
        } catch (IllegalArgumentException e) {
            System.err.println("vigil real-server: " + e.getMessage());
            return 2;
        }
        ApiClient client = api.client();
        try {
            HttpResponse<String> r = client.post("/real-server", form);
            (r.statusCode() == 200 ? System.out : System.err).print(r.body());
            return r.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            return client.unreachable("real-server", "/real-server", e);
        }
    }

    /**
     * The request's form fields from the command's words: VIRTUAL is one word, or two for
     * {@code fwmark N} and {@code group NAME}; then REAL and {@code up} or {@code down}.
     */
    static Map<String, String> form(List<String> w, String protocol) {
        boolean twoWords = w.size() == 4 && (w.get(0).equals("fwmark") || w.get(0).equals("group"));
        if (w.size() < 3 || w.size() > 4 || w.size() == 4 && !twoWords) {
            throw new IllegalArgumentException("expected VIRTUAL REAL up|down, got " + String.join(" ", w));
        }
        String state = w.get(w.size() - 1);
        if (!state.equals("up") && !state.equals("down")) {
            throw new IllegalArgumentException("state \"" + state + "\": expected up or down");
        }
        Map<String, String> form = new TreeMap<>();
        form.put("virtual", twoWords ? w.get(0) + " " + w.get(1) : w.get(0));
        form.put("real", w.get(w.size() - 2));
        form.put("state", state);
        if (protocol != null) {
            form.put("protocol", protocol);
        }
        return form;
    }
}
