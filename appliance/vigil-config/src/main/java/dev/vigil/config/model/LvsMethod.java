package dev.vigil.config.model;

/**
 * IPVS forwarding method ({@code lvs_method} / {@code lb_kind}), with tunnel options for TUN.
 *
 * @param kind       NAT, DR or TUN
 * @param tunnelType {@code ipip}, {@code gue} or {@code gre} for TUN, else {@code null}
 * @param tunnelPort the GUE port or {@code null}
 * @param checksum   {@code nocsum}, {@code csum} or {@code remcsum}, or {@code null}
 */
public record LvsMethod(Kind kind, String tunnelType, Integer tunnelPort, String checksum) {
    /** Forwarding kinds. */
    public enum Kind { NAT, DR, TUN }

    /** The default, NAT. */
    public static final LvsMethod NAT = new LvsMethod(Kind.NAT, null, null, null);
}
