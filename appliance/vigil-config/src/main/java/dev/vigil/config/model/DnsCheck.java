package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code DNS_CHECK}: a query with RD set answered with RCODE 0.
 *
 * @param common shared options (retry 3, delay_before_retry = delay_loop)
 * @param type   {@code type} (SOA)
 * @param name   {@code name} (".")
 * @param raw    the block as written
 */
public record DnsCheck(CheckerCommon common, String type, String name, ConfigNode raw) implements Checker {
}
