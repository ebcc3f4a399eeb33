package dev.vigil.kernel.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkManager;

/**
 * {@link LinkManager} over rtnetlink and {@code /proc/sys/net}. The netlink socket belongs to the
 * network namespace of the constructing thread; {@code /proc/sys/net} shows the namespace of the
 * process, which is the daemon's. Calls are serialised by the socket.
 */
public final class NetlinkLinkManager implements LinkManager, AutoCloseable {
    private static final Path PROC_NET = Path.of("/proc/sys/net");
    /** A sysctl path: words of letters, digits, '.', '_' and '-' separated by '/', no "..". */
    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    private final RtNetlink rtnl;

    /** Opens the rtnetlink request socket in the calling thread's network namespace. */
    public NetlinkLinkManager() throws KernelException {
        this.rtnl = new RtNetlink("rtnetlink link requests");
    }

    @Override
    public void createMacvlan(String name, String lower, byte[] mac) throws KernelException {
        if (mac.length != 6) {
            throw new IllegalArgumentException("mac: " + mac.length + " bytes (expected: 6)");
        }
        rtnl.createMacvlan(name, rtnl.link(lower).index(), mac, MACVLAN_MODE_PRIVATE);
    }

    @Override
    public void setUp(String name) throws KernelException {
        rtnl.setUp(rtnl.link(name).index(), name);
    }

    @Override
    public void deleteLink(String name) throws KernelException {
        Optional<LinkInfo> link = link(name);
        if (link.isEmpty()) {
            return;
        }
        try {
            rtnl.deleteLink(link.get().index(), name);
        } catch (KernelException e) {
            if (e.errno() != Sys.ENODEV) {
                throw e;
            }
        }
    }

    @Override
    public Optional<LinkInfo> link(String name) throws KernelException {
        try {
            return Optional.of(rtnl.link(name));
        } catch (KernelException e) {
            if (e.errno() == Sys.ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public List<LinkInfo> links() throws KernelException {
        return rtnl.links();
    }

    @Override
    public Optional<String> sysctl(String path) throws KernelException {
        Path file = file(path);
        try {
            return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new KernelException("read " + file, 0, String.valueOf(e.getMessage()));
        }
    }

    @Override
    public void sysctl(String path, String value) throws KernelException {
        Path file = file(path);
        try {
            Files.writeString(file, value + "\n", StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new KernelException("write " + file, Sys.ENODEV, "no such setting");
        } catch (IOException e) {
            throw new KernelException("write " + file, 0, value + ": " + e.getMessage());
        }
    }

    private static Path file(String path) {
        if (!PATH.matcher(path).matches() || path.contains("..")) {
            throw new IllegalArgumentException("sysctl path: " + path + " (expected: e.g. ipv4/conf/eth0/arp_ignore)");
        }
        return PROC_NET.resolve(path);
    }

    @Override
    public void close() {
        rtnl.close();
    }
}
