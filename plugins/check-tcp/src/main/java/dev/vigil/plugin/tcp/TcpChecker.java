package dev.vigil.plugin.tcp;

import dev.vigil.api.CheckContext;
import dev.vigil.api.ConfigBlock;
import dev.vigil.api.ConfigProblem;
import dev.vigil.api.HealthChecker;
import dev.vigil.api.Probe;
import org.pf4j.Extension;

import java.util.List;
import java.util.Set;

/**
 * {@code TCP_CHECK} (keepalived's check_tcp.c): a real server is up when a TCP connection to it
 * succeeds within {@code connect_timeout}. The connection is closed as soon as it is established;
 * nothing is sent. The block has no keywords of its own: {@code connect_ip}, {@code connect_port},
 * {@code bindto}, {@code bind_port} and the timing options are the shared ones the host reads.
 */
@Extension
public final class TcpChecker implements HealthChecker {

    /** The keyword this checker owns. */
    public static final String KEYWORD = "TCP_CHECK";

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
        return new TcpProbe(context);
    }
}
