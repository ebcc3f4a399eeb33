package dev.vigil.daemon.check;

import dev.vigil.config.model.CheckerCommon;

import java.time.Duration;
import java.util.Objects;

/**
 * When one checker probes and how its results become a state, keepalived's options plus Vigil's
 * {@code rise}/{@code fall}.
 *
 * @param delayLoop        {@code delay_loop}: from one verdict to the next probe
 * @param warmup           {@code warmup}: the first probe waits a random time up to this (zero: at once)
 * @param retry            {@code retry}/{@code nb_get_retry}: failed attempts tried again before a
 *                         failure counts (keepalived's check_*.c: {@code retry_it < retry})
 * @param delayBeforeRetry {@code delay_before_retry}: from a failed attempt to its retry
 * @param connectTimeout   {@code connect_timeout}: how long one probe may take
 * @param rise             consecutive passes that bring a down checker up
 * @param fall             consecutive counted failures that take an up checker down
 * @param alpha            {@code alpha}: the checker starts down
 */
public record CheckTiming(Duration delayLoop, Duration warmup, int retry, Duration delayBeforeRetry,
                          Duration connectTimeout, int rise, int fall, boolean alpha) {

    public CheckTiming {
        Objects.requireNonNull(delayLoop, "delayLoop");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(delayBeforeRetry, "delayBeforeRetry");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (retry < 0) {
            throw new IllegalArgumentException("retry: " + retry + " (expected: >= 0)");
        }
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise/fall: " + rise + "/" + fall + " (expected: >= 1)");
        }
    }

    /** The timing a checker block resolved to (checker, real server, virtual server, defaults). */
    public static CheckTiming of(CheckerCommon c) {
        return new CheckTiming(c.delayLoop(), c.warmup(), c.retry(), c.delayBeforeRetry(), c.connectTimeout(),
                c.rise(), c.fall(), c.alpha());
    }
}
