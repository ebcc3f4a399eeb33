package dev.vigil.config.model;

import dev.vigil.config.SourceRef;
import java.net.InetAddress;

/**
 * A {@code unicast_peer} entry.
 *
 * @param address the peer
 * @param minTtl  {@code min_ttl} or {@code null}
 * @param maxTtl  {@code max_ttl} or {@code null}
 * @param ref     where the entry is
 */
public record UnicastPeer(InetAddress address, Integer minTtl, Integer maxTtl, SourceRef ref) {
}
