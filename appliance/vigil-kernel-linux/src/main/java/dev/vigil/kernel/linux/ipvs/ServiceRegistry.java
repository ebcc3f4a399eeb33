package dev.vigil.kernel.linux.ipvs;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.ServiceKey;

/**
 * The file that records which IPVS services Vigil owns. IPVS has no tables or comments to mark
 * ownership in the kernel, so the keys live in a small text file (by default under {@code /run},
 * which is cleared at boot exactly when the kernel's IPVS table is).
 *
 * <p>Format: UTF-8, one service per line, {@code #} starts a comment line:
 * <pre>
 * tcp 192.0.2.10 80
 * udp 2001:db8::10 53
 * fwmark inet 5
 * fwmark inet6 7
 * </pre>
 * The file is replaced atomically (written beside it, then renamed), so a crash leaves either the
 * old or the new list. A listed key that the kernel does not hold is simply not reported.
 */
public final class ServiceRegistry {
    private final Path file;

    /** A registry kept in {@code file}; the file and its directory are created on first write. */
    public ServiceRegistry(Path file) {
        this.file = file;
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** The recorded keys; none when the file does not exist. */
    public SortedSet<ServiceKey> read() throws KernelException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return new TreeSet<>();
        } catch (IOException e) {
            throw new KernelException("read", 0, file + ": " + e.getMessage());
        }
        SortedSet<ServiceKey> keys = new TreeSet<>();
        int n = 0;
        for (String line : lines) {
            n++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            try {
                keys.add(parse(l));
            } catch (RuntimeException e) {
                throw new KernelException("read", 0, file + " line " + n + ": '" + l + "': " + e.getMessage());
            }
        }
        return keys;
    }

    /** Replaces the recorded keys with {@code keys}. */
    public void write(Collection<ServiceKey> keys) throws KernelException {
        List<String> lines = new ArrayList<>();
        lines.add("# IPVS services owned by Vigil; rewritten on every change");
        new TreeSet<>(keys).forEach(k -> lines.add(format(k)));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new KernelException("write", 0, file + ": " + e.getMessage());
        }
    }

    /** One line for {@code key}. */
    static String format(ServiceKey key) {
        if (key.isFwmark()) {
            return "fwmark " + (key.family() == AddressFamily.INET ? "inet" : "inet6") + " " + key.fwmark();
        }
        return key.protocol().name().toLowerCase(Locale.ROOT) + " " + key.address().getHostAddress() + " "
                + key.port();
    }

    /** The key on one line. */
    static ServiceKey parse(String line) {
        String[] w = line.strip().split("\\s+");
        if (w.length != 3) {
            throw new IllegalArgumentException("expected 3 words");
        }
        if (w[0].equals("fwmark")) {
            AddressFamily af = switch (w[1]) {
                case "inet" -> AddressFamily.INET;
                case "inet6" -> AddressFamily.INET6;
                default -> throw new IllegalArgumentException("family " + w[1] + " (expected: inet or inet6)");
            };
            return ServiceKey.fwmark(Integer.parseInt(w[2]), af);
        }
        Protocol protocol = Protocol.valueOf(w[0].toUpperCase(Locale.ROOT));
        if (!w[1].matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an address: " + w[1]);
        }
        try {
            return ServiceKey.of(InetAddress.getByName(w[1]), Integer.parseInt(w[2]), protocol);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }
}
