package dev.vigil.daemon.forward;

import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;
import dev.vigil.kernel.forward.Protocol;
import dev.vigil.kernel.forward.ServiceKey;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The real servers a {@code vigil real-server} command names: a virtual server (by address and
 * port, by fwmark or by group) and a real server address with an optional port.
 *
 * @param virtual     which virtual servers
 * @param realAddress the real server's address
 * @param realPort    the real server's port, or {@code null} for any
 */
public record RealServerSelector(Virtual virtual, InetAddress realAddress, Integer realPort) {

    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

    /** Which virtual servers a command names. */
    public sealed interface Virtual {
        /** Whether {@code vs} is named, its group (if any) expanded through {@code groups}. */
        boolean matches(VirtualServer vs, Map<String, VirtualServerGroup> groups);

        /**
         * A virtual address and port (null = any), optionally one protocol; also matches a group
         * virtual server one of whose members it is.
         */
        record Address(InetAddress address, Integer port, Protocol protocol) implements Virtual {
            @Override
            public boolean matches(VirtualServer vs, Map<String, VirtualServerGroup> groups) {
                if (vs.fwmark() != null) {
                    return false;
                }
                List<ServiceKey> keys = ServiceMapper.keys(vs, groups, new ArrayList<>());
                return keys.stream().anyMatch(k -> k.address().equals(address)
                        && (port == null || k.port() == port) && (protocol == null || k.protocol() == protocol));
            }

            @Override
            public String toString() {
                String a = address.getHostAddress();
                return (a.contains(":") ? "[" + a + "]" : a) + (port == null ? "" : ":" + port)
                        + (protocol == null ? "" : " " + protocol);
            }
        }

        /** {@code virtual_server fwmark N}. */
        record Fwmark(int mark) implements Virtual {
            @Override
            public boolean matches(VirtualServer vs, Map<String, VirtualServerGroup> groups) {
                return vs.fwmark() != null && vs.fwmark() == mark;
            }

            @Override
            public String toString() {
                return "fwmark " + mark;
            }
        }

        /** {@code virtual_server group NAME}. */
        record Group(String name) implements Virtual {
            @Override
            public boolean matches(VirtualServer vs, Map<String, VirtualServerGroup> groups) {
                return name.equals(vs.group());
            }

            @Override
            public String toString() {
                return "group " + name;
            }
        }
    }

    /**
     * Reads a selector.
     *
     * @param virtual  {@code IP:PORT}, {@code [IPv6]:PORT}, {@code IP}, {@code fwmark N} or {@code group NAME}
     * @param real     {@code IP:PORT}, {@code [IPv6]:PORT} or {@code IP}
     * @param protocol {@code TCP}, {@code UDP}, {@code SCTP} or {@code null} for any
     * @throws IllegalArgumentException with a message naming what is wrong
     */
    public static RealServerSelector parse(String virtual, String real, String protocol) {
        String v = virtual.trim();
        Virtual which;
        if (v.startsWith("fwmark ") || v.startsWith("fwmark:")) {
            String n = v.substring(7).trim();
            try {
                which = new Virtual.Fwmark(Integer.parseInt(n));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("fwmark \"" + n + "\" is not a number");
            }
        } else if (v.startsWith("group ") || v.startsWith("group:")) {
            which = new Virtual.Group(v.substring(6).trim());
        } else {
            Object[] ap = addressPort(v, "virtual server");
            Protocol p = null;
            if (protocol != null && !protocol.isBlank()) {
                try {
                    p = Protocol.valueOf(protocol.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("protocol \"" + protocol + "\" (expected TCP, UDP or SCTP)");
                }
            }
            which = new Virtual.Address((InetAddress) ap[0], (Integer) ap[1], p);
        }
        Object[] rp = addressPort(real.trim(), "real server");
        return new RealServerSelector(which, (InetAddress) rp[0], (Integer) rp[1]);
    }

    /**
     * The selector that names {@code rs} of {@code vs} and nothing else of the configuration
     * (the health checks' way to set one real server's state).
     */
    public static RealServerSelector of(VirtualServer vs, RealServer rs) {
        Virtual which;
        if (vs.fwmark() != null) {
            which = new Virtual.Fwmark(vs.fwmark());
        } else if (vs.group() != null) {
            which = new Virtual.Group(vs.group());
        } else {
            which = new Virtual.Address(vs.address(), vs.port(), Protocol.valueOf(vs.protocol()));
        }
        return new RealServerSelector(which, rs.address(), ServiceMapper.port(vs, rs));
    }

    /** Whether {@code rs} of {@code vs} is named. */
    public boolean matches(VirtualServer vs, RealServer rs, Map<String, VirtualServerGroup> groups) {
        return rs.address().equals(realAddress) && (realPort == null || ServiceMapper.port(vs, rs) == realPort)
                && virtual.matches(vs, groups);
    }

    @Override
    public String toString() {
        String a = realAddress.getHostAddress();
        return (a.contains(":") ? "[" + a + "]" : a) + (realPort == null ? "" : ":" + realPort) + " of " + virtual;
    }

    /** {@code IP}, {@code IP:PORT} or {@code [IPv6]:PORT}: address and port (or null). */
    private static Object[] addressPort(String text, String what) {
        String host = text;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(what + " \"" + text + "\": missing ]");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (rest.startsWith(":")) {
                port = rest.substring(1);
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException(what + " \"" + text + "\": expected [ADDRESS]:PORT");
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = text.substring(text.indexOf(':') + 1);
        }
        if (host.isEmpty() || !LITERAL.matcher(host).matches()) {
            throw new IllegalArgumentException(what + " \"" + text + "\": expected an IP address");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(what + " \"" + text + "\": invalid IP address");
        }
        Integer p = null;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException(what + " \"" + text + "\": invalid port \"" + port + "\"");
            }
        }
        return new Object[] {address, p};
    }
}
