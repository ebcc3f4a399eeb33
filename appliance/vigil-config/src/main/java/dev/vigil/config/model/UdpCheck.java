package dev.vigil.config.model;

import dev.vigil.config.ConfigNode;

/**
 * {@code UDP_CHECK}.
 *
 * @param common         shared options
 * @param payload        {@code payload} hex or {@code null}
 * @param requireReply   {@code require_reply} given
 * @param replyPattern   the hex pattern given with {@code require_reply} ({@code X} wildcards) or {@code null}
 * @param minReplyLength {@code min_reply_length} (0)
 * @param maxReplyLength {@code max_reply_length} (255)
 * @param raw            the block as written
 */
public record UdpCheck(CheckerCommon common, String payload, boolean requireReply, String replyPattern,
                       int minReplyLength, int maxReplyLength, ConfigNode raw) implements Checker {
}
