package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;
import java.util.List;

/**
 * A {@code virtual_server_group}.
 *
 * @param name    the group name
 * @param entries its addresses, ranges and fwmarks
 * @param ref     where the block starts
 */
public record VirtualServerGroup(String name, List<Entry> entries, SourceRef ref) {
    public VirtualServerGroup {
        entries = List.copyOf(entries);
    }

    /**
     * One member: an address range (start = end for a single address, or a CIDR block) with an optional port,
     * or a fwmark.
     *
     * @param start  first address, or {@code null} for a fwmark entry
     * @param end    last address, or {@code null}
     * @param prefixLength CIDR prefix length, or {@code null}
     * @param port   port or {@code null}
     * @param fwmark fwmark or {@code null}
     * @param family {@code inet}/{@code inet6} for fwmark entries, or {@code null}
     * @param ref    where the line is
     */
    public record Entry(InetAddress start, InetAddress end, Integer prefixLength, Integer port, Integer fwmark,
                        String family, SourceRef ref) {
    }
}
