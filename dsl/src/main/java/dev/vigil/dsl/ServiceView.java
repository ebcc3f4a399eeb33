package dev.vigil.dsl;

import java.util.List;
import java.util.Locale;

/**
 * A virtual server as a policy sees it.
 *
 * @param address     the virtual address, or {@code null} for fwmark and group services
 * @param port        the virtual port (0 when none)
 * @param protocol    {@code tcp}, {@code udp} or {@code sctp}
 * @param fwmark      the firewall mark, or 0
 * @param group       the {@code virtual_server_group} name, or {@code null}
 * @param realServers its real servers, in configuration order
 * @param quorumUp    whether its quorum is met (always true without a quorum)
 */
public record ServiceView(String address, int port, String protocol, int fwmark, String group,
                          List<RealServerView> realServers, boolean quorumUp) {

    public ServiceView {
        realServers = List.copyOf(realServers);
        protocol = protocol.toLowerCase(Locale.ROOT);
    }

    /** How many real servers are healthy. */
    public int healthyCount() {
        int n = 0;
        for (RealServerView r : realServers) {
            if (r.healthy()) {
                n++;
            }
        }
        return n;
    }

    /** The real server {@code query} names ({@link RealServerView#matches}), or {@code null}. */
    public RealServerView realServer(String query) {
        for (RealServerView r : realServers) {
            if (r.matches(query)) {
                return r;
            }
        }
        return null;
    }

    /** {@code 10.9.0.50:80/tcp}, {@code [2001:db8::1]:443/tcp}, {@code fwmark 5/tcp} or {@code group NAME/tcp}. */
    public String key() {
        return where() + "/" + protocol;
    }

    /** {@code 10.9.0.50:80}, {@code [2001:db8::1]:443}, {@code fwmark 5} or {@code group NAME}: the key without its protocol. */
    public String where() {
        if (group != null) {
            return "group " + group;
        }
        if (fwmark != 0) {
            return "fwmark " + fwmark;
        }
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    /**
     * Whether {@code query} names this virtual server: {@code 10.9.0.50:80} (any protocol),
     * {@code 10.9.0.50:80/udp}, {@code [2001:db8::1]:443}, {@code fwmark 5}, a group's name, or
     * {@link #key()} itself.
     */
    public boolean matches(String query) {
        String q = query.trim().toLowerCase(Locale.ROOT);
        String k = key().toLowerCase(Locale.ROOT);
        if (q.equals(k) || k.startsWith(q + "/")) {
            return true;
        }
        if (group != null && (q.equals(group.toLowerCase(Locale.ROOT)) || q.equals(group.toLowerCase(Locale.ROOT) + "/" + protocol))) {
            return true;
        }
        return address != null && address.indexOf(':') >= 0 && (q.equals(address + ":" + port) || q.equals(address + ":" + port + "/" + protocol));
    }
}
