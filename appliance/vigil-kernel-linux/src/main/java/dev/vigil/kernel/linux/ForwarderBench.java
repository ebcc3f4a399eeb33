package dev.vigil.kernel.linux;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.vigil.kernel.forward.ApplyReport;
import dev.vigil.kernel.forward.DesiredState;
import dev.vigil.kernel.forward.Destination;
import dev.vigil.kernel.forward.Forwarder;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.Service;
import dev.vigil.kernel.forward.ServiceKey;
import dev.vigil.kernel.forward.VirtualService;
import dev.vigil.kernel.linux.ipvs.IpvsForwarder;
import dev.vigil.kernel.linux.nft.NftScript;
import dev.vigil.kernel.linux.nft.NftablesForwarder;

/**
 * The driver of bench/forwarder-apply: times a forwarder applying a synthetic state of N services
 * with D NAT destinations each (wrr, weights 1..D) from empty, then one-destination changes on top
 * of it; and writes the same rules as an {@code nft -f} script or an {@code ipvsadm-restore} file,
 * so that the reference tools apply exactly what the forwarder does.
 *
 * <pre>
 * ForwarderBench apply  --backend nft|ipvs --services N [--destinations D] [--changes R]
 *                       [--registry FILE] [--no-verify]
 * ForwarderBench script --backend nft|ipvs --services N [--destinations D]
 * </pre>
 *
 * {@code apply} works in the calling process's network namespace (run it under
 * {@code ip netns exec}) and prints one {@code name value...} line per figure, times in
 * milliseconds of wall clock: {@code bulk_ms}, then the R samples each of {@code weight_ms} (one
 * destination's weight toggled), {@code add_ms} (a destination added) and {@code remove_ms} (that
 * destination removed), all on the service in the middle. It then applies the first state again,
 * so that the rules can be compared with the reference tool's, and unless {@code --no-verify} reads
 * the state back and prints {@code verified yes} when it equals that state. Every change must
 * report exactly one operation, or the run fails. {@code script} prints the reference rules.
 */
public final class ForwarderBench {
    private ForwarderBench() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "";
        String backend = null;
        int services = 0;
        int destinations = 4;
        int changes = 10;
        Path registry = null;
        boolean verify = true;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--services" -> services = Integer.parseInt(args[++i]);
                case "--destinations" -> destinations = Integer.parseInt(args[++i]);
                case "--changes" -> changes = Integer.parseInt(args[++i]);
                case "--registry" -> registry = Path.of(args[++i]);
                case "--no-verify" -> verify = false;
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (!List.of("nft", "ipvs").contains(String.valueOf(backend)) || services <= 0 || destinations <= 0
                || services > 65536 * 150) {
            usage("--backend nft|ipvs and --services N (1..9830400) are required");
        }
        DesiredState state = state(services, destinations);
        switch (mode) {
            case "script" -> System.out.print(backend.equals("nft") ? NftScript.of(state) : ipvsadmRules(state));
            case "apply" -> apply(backend, registry, state, services / 2, changes, verify);
            default -> usage("mode must be apply or script");
        }
    }

    private static void usage(String why) {
        System.err.println("ForwarderBench: " + why);
        System.err.println("usage: ForwarderBench apply|script --backend nft|ipvs --services N [--destinations D]"
                + " [--changes R] [--registry FILE] [--no-verify]");
        System.exit(2);
    }

    /**
     * N TCP services on port 80 of 10.100.0.0 onwards, each with D NAT destinations on ports 8000
     * onwards of their own addresses from 10.200.0.0 on, weights 1..D, scheduler wrr.
     */
    static DesiredState state(int services, int destinations) throws UnknownHostException {
        List<VirtualService> all = new ArrayList<>(services);
        for (int i = 0; i < services; i++) {
            ServiceKey key = ServiceKey.of(address(100, i), 80, Protocol.TCP);
            List<Destination> ds = new ArrayList<>(destinations);
            for (int k = 0; k < destinations; k++) {
                ds.add(Destination.nat(address(200, i * destinations + k), 8000 + k).withWeight(k + 1));
            }
            all.add(VirtualService.of(Service.of(key, "wrr"), ds));
        }
        return DesiredState.of(all);
    }

    /** 10.{base + n / 65536}.{n / 256 % 256}.{n % 256}. */
    private static InetAddress address(int base, int n) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, (byte) (base + n / 65536), (byte) (n / 256), (byte) n});
    }

    private static void apply(String backend, Path registry, DesiredState state, int middle, int changes,
                              boolean verify) throws Exception {
        Path reg = registry != null ? registry : Files.createTempFile("vigil-bench-ipvs", ".services");
        if (registry == null) {
            Files.delete(reg);
        }
        try (Forwarder f = backend.equals("nft") ? new NftablesForwarder() : new IpvsForwarder(reg)) {
            long t0 = System.nanoTime();
            ApplyReport bulk = f.apply(state);
            long t1 = System.nanoTime();
            System.out.printf(Locale.ROOT, "bulk_ms %.2f%n", (t1 - t0) / 1e6);
            System.out.println("bulk_ops " + bulk.operations().size());

            VirtualService vs = state.services().values().stream().skip(middle).findFirst().orElseThrow();
            Destination first = vs.destinations().values().iterator().next();
            Destination extra = Destination.nat(InetAddress.getByName("10.250.0.1"), 9000);
            List<Double> weight = new ArrayList<>();
            List<Double> add = new ArrayList<>();
            List<Double> remove = new ArrayList<>();
            DesiredState now = state;
            for (int rep = 0; rep < changes; rep++) {
                int w = rep % 2 == 0 ? first.weight() + 1 : first.weight();
                now = change(f, now, withDestination(vs, first.withWeight(w), null), weight);
                VirtualService base = now.services().get(vs.key());
                now = change(f, now, withDestination(base, extra, null), add);
                now = change(f, now, withDestination(base, null, extra), remove);
            }
            print("weight_ms", weight);
            print("add_ms", add);
            print("remove_ms", remove);
            // Back to the state the reference tool made, so that their rules can be compared.
            f.apply(state);
            if (verify) {
                System.out.println("verified " + (f.current().equals(state) ? "yes" : "no"));
            }
        }
    }

    /** {@code vs} with {@code put} added or replaced and {@code drop} removed. */
    private static VirtualService withDestination(VirtualService vs, Destination put, Destination drop) {
        var ds = new java.util.TreeMap<>(vs.destinations());
        if (put != null) {
            ds.put(put.key(), put);
        }
        if (drop != null) {
            ds.remove(drop.key());
        }
        return new VirtualService(vs.service(), ds);
    }

    private static DesiredState change(Forwarder f, DesiredState now, VirtualService changed, List<Double> times)
            throws Exception {
        DesiredState next = now.with(changed);
        long t0 = System.nanoTime();
        ApplyReport r = f.apply(next);
        long t1 = System.nanoTime();
        if (r.operations().size() != 1) {
            throw new IllegalStateException("a one-destination change made " + r.operations());
        }
        times.add((t1 - t0) / 1e6);
        return next;
    }

    private static void print(String name, List<Double> samples) {
        StringBuilder b = new StringBuilder(name);
        samples.forEach(s -> b.append(String.format(Locale.ROOT, " %.3f", s)));
        System.out.println(b);
    }

    /**
     * The state as {@code ipvsadm-restore} input (ipvsadm(8), "--save" format): one {@code -A} line
     * per service, one {@code -a} per destination.
     */
    static String ipvsadmRules(DesiredState state) {
        StringBuilder b = new StringBuilder();
        for (VirtualService vs : state.services().values()) {
            ServiceKey k = vs.key();
            String svc = (k.protocol() == Protocol.TCP ? "-t " : k.protocol() == Protocol.UDP ? "-u " : "--sctp-service ")
                    + k.address().getHostAddress() + ":" + k.port();
            b.append("-A ").append(svc).append(" -s ").append(vs.service().scheduler()).append('\n');
            for (Destination d : vs.destinations().values()) {
                b.append("-a ").append(svc).append(" -r ").append(d.address().getHostAddress()).append(':').append(d.port())
                        .append(" -m -w ").append(d.weight()).append('\n');
            }
        }
        return b.toString();
    }
}
