package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code virtual_server}: one of address+port, fwmark or group identifies the IPVS service.
 *
 * @param address                the virtual address, or {@code null}
 * @param port                   the virtual port, or {@code null}
 * @param fwmark                 the fwmark, or {@code null}
 * @param group                  the {@code virtual_server_group} name, or {@code null}
 * @param lbAlgo                 {@code lb_algo}/{@code lvs_sched} (wlc)
 * @param lvsMethod              {@code lb_kind}/{@code lvs_method} (NAT)
 * @param protocol               {@code protocol} (TCP)
 * @param persistenceTimeout     {@code persistence_timeout} (360 s when given without value), or {@code null}
 * @param persistenceGranularity {@code persistence_granularity} or {@code null}
 * @param persistenceEngine      {@code persistence_engine} or {@code null}
 * @param sorryServer            {@code sorry_server} or {@code null}
 * @param sorryServerLvsMethod   {@code sorry_server_lvs_method} or {@code null}
 * @param sorryServerInhibit     {@code sorry_server_inhibit}
 * @param quorum                 {@code quorum} (1)
 * @param hysteresis             {@code hysteresis} (0)
 * @param quorumUp               {@code quorum_up} or {@code null}
 * @param quorumDown             {@code quorum_down} or {@code null}
 * @param alpha                  {@code alpha}
 * @param omega                  {@code omega}
 * @param inhibitOnFailure       {@code inhibit_on_failure}
 * @param delayLoop              {@code delay_loop} (60 s)
 * @param virtualhost            {@code virtualhost} or {@code null}
 * @param haSuspend              {@code ha_suspend}
 * @param ipFamily               {@code ip_family} or {@code null}
 * @param flags                  service flags ({@code ops}, {@code sh-port}, ...)
 * @param realServers            the real servers
 * @param other                  other recognised keywords, by name, with their words
 * @param ref                    where the block starts
 */
public record VirtualServer(InetAddress address, Integer port, Integer fwmark, String group, String lbAlgo,
                            LvsMethod lvsMethod, String protocol, Duration persistenceTimeout,
                            String persistenceGranularity, String persistenceEngine, ServerAddress sorryServer,
                            LvsMethod sorryServerLvsMethod, boolean sorryServerInhibit, int quorum,
                            int hysteresis, String quorumUp, String quorumDown, boolean alpha, boolean omega,
                            boolean inhibitOnFailure, Duration delayLoop, String virtualhost, boolean haSuspend,
                            String ipFamily, Set<String> flags, List<RealServer> realServers,
                            Map<String, List<String>> other, SourceRef ref) {
    public VirtualServer {
        flags = Set.copyOf(flags);
        realServers = List.copyOf(realServers);
        other = Map.copyOf(other);
    }

    /** A short identity: {@code 10.0.0.1:80}, {@code fwmark 5} or {@code group G}. */
    public String key() {
        if (fwmark != null) {
            return "fwmark " + fwmark;
        }
        if (group != null) {
            return "group " + group;
        }
        return new ServerAddress(address, port).toString();
    }
}
