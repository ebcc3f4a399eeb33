package dev.vigil.daemon.forward;

import dev.vigil.config.model.RealServer;
import dev.vigil.config.model.VirtualServer;
import dev.vigil.config.model.VirtualServerGroup;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The lines keepalived writes to {@code notify_fifo} and {@code lvs_notify_fifo} for the forwarder's
 * events (KEEPALIVED.md §4; keepalived's {@code check/ipwrapper.c}: {@code notify_fifo_vs},
 * {@code notify_fifo_rs}), byte for byte:
 * <pre>
 * VS [192.168.201.15]:tcp:80 UP              a virtual server gained its quorum (DOWN: lost it)
 * RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 DOWN   a real server went down (UP: came up)
 * </pre>
 * Servers are named as keepalived names them ({@code check/check_data.c}: {@code format_vs},
 * {@code format_rs}; {@code lib/utils.c}: {@code inet_sockaddrtotrio}):
 * <ul>
 *   <li>a virtual server by address is {@code [ADDRESS]:PROTO:PORT}, the address as
 *       {@code inet_ntop} writes it ({@link AddressText}: IPv6 shortened, in brackets like IPv4),
 *       the protocol in lowercase;</li>
 *   <li>a fwmark virtual server is {@code FWM N}, whatever its family;</li>
 *   <li>a {@code virtual_server group G} is {@code [G]:N}, N its position (from 0) among the
 *       {@code virtual_server}s of that group in file order: keepalived keeps that sequence number
 *       in the virtual server's port;</li>
 *   <li>a real server is {@code [ADDRESS]:PROTO:PORT} with its virtual server's protocol, which is
 *       {@code none} for a fwmark virtual server and for a group of fwmark entries only (keepalived
 *       clears the protocol of services that have none), and the port its destination gets.</li>
 * </ul>
 * No NUL follows the newline: keepalived's {@code write()} length is the sum of the parts, the
 * separators and the newline, without the string's terminator.
 */
final class LvsFifoLines {

    private LvsFifoLines() {
    }

    /** {@code VS <name> UP|DOWN\n} for {@code vs}, one of {@code servers} (the configuration's, in file order). */
    static String virtualServer(VirtualServer vs, List<VirtualServer> servers, boolean up) {
        return "VS " + virtualName(vs, servers) + " " + state(up) + "\n";
    }

    /** {@code RS <real> <virtual> UP|DOWN\n} for {@code rs} of {@code vs}. */
    static String realServer(VirtualServer vs, RealServer rs, List<VirtualServer> servers,
                             Map<String, VirtualServerGroup> groups, boolean up) {
        String real = "[" + AddressText.of(rs.address()) + "]:" + realProtocol(vs, groups) + ":"
                + ServiceMapper.port(vs, rs);
        return "RS " + real + " " + virtualName(vs, servers) + " " + state(up) + "\n";
    }

    /** keepalived's name of a virtual server: {@code [10.0.0.1]:tcp:80}, {@code FWM 5} or {@code [G]:0}. */
    static String virtualName(VirtualServer vs, List<VirtualServer> servers) {
        if (vs.fwmark() != null) {
            return "FWM " + Integer.toUnsignedString(vs.fwmark());
        }
        if (vs.group() != null) {
            int position = 0;
            for (VirtualServer other : servers) {
                if (other == vs) {
                    break;
                }
                if (vs.group().equals(other.group())) {
                    position++;
                }
            }
            return "[" + vs.group() + "]:" + position;
        }
        return "[" + AddressText.of(vs.address()) + "]:" + protocol(vs) + ":" + (vs.port() == null ? 0 : vs.port());
    }

    /** The protocol keepalived pairs with a real server: its virtual server's, {@code none} for fwmark services. */
    private static String realProtocol(VirtualServer vs, Map<String, VirtualServerGroup> groups) {
        if (vs.fwmark() != null) {
            return "none";
        }
        if (vs.group() != null) {
            VirtualServerGroup g = groups.get(vs.group());
            if (g != null && !g.entries().isEmpty() && g.entries().stream().allMatch(e -> e.fwmark() != null)) {
                return "none";
            }
        }
        return protocol(vs);
    }

    private static String protocol(VirtualServer vs) {
        return vs.protocol() == null ? "tcp" : vs.protocol().toLowerCase(Locale.ROOT);
    }

    private static String state(boolean up) {
        return up ? "UP" : "DOWN";
    }
}
