package dev.vigil.plugin.ping;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.util.List;
import java.util.Set;

/**
 * {@code PING_CHECK} (keepalived's check_ping.c): the real server is up when it answers one ICMP
 * echo request (RFC 792; ICMPv6, RFC 4443 §4, for an IPv6 address) within {@code connect_timeout}.
 * The block has no keywords of its own; {@code connect_ip}, {@code bindto}, {@code bind_if},
 * {@code fwmark} and the timing options are the shared ones the host reads.
 *
 * <p>The echo is sent by iputils {@code ping}, one process per probe, started without blocking
 * the event loop: an ICMP socket is either a datagram socket of protocol ICMP (allowed to groups
 * in {@code net.ipv4.ping_group_range}, Linux's "ping sockets") or a raw socket (root or
 * {@code CAP_NET_RAW}), and neither Netty nor the JDK can open one ({@code InetAddress.isReachable}
 * blocks a thread and falls back to a TCP connect to port 7). {@code ping} picks whichever of the
 * two the system allows, as keepalived does with its own socket.
 */
@Extension
public final class PingChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "PING_CHECK";

    @Override
    public Set<String> keywords() {
        return Set.of(KEYWORD);
    }

    /** Nothing beyond the shared options, which the host has checked already. */
    @Override
    public List<ConfigProblem> validate(ConfigBlock block) {
        return List.of();
    }

    @Override
    public Probe create(CheckContext context) {
        return new PingProbe(context);
    }
}
