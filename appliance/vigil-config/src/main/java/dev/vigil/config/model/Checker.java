package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.SourceRef;

/**
 * A health checker of a real server. Every checker keeps the block it was read from ({@link #raw()}), so
 * that plugins can read keywords of their own.
 */
public sealed interface Checker permits HttpCheck, TcpCheck, SmtpCheck, DnsCheck, MiscCheck, UdpCheck, PingCheck,
        FileCheck, BfdCheck, GenericCheck {
    /** The block keyword, e.g. {@code HTTP_GET}. */
    default String keyword() {
        return raw().name();
    }

    /** Options shared by all checkers. */
    CheckerCommon common();

    /** The block as written. */
    ConfigNode raw();

    /** Where the block starts. */
    default SourceRef ref() {
        return raw().ref();
    }
}
