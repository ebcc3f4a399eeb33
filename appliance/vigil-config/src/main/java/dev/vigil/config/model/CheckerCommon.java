package dev.vigil.config.model;

import java.net.InetAddress;
import java.time.Duration;

/**
 * Options every checker shares, resolved checker → real server → virtual server → checker default.
 *
 * @param connectIp        {@code connect_ip} (the real server's address)
 * @param connectPort      {@code connect_port} (the real server's port), or {@code null}
 * @param bindTo           {@code bindto} or {@code null}
 * @param bindPort         {@code bind_port} or {@code null}
 * @param bindIf           {@code bind_if} or {@code null}
 * @param fwmark           {@code fwmark} or {@code null}
 * @param connectTimeout   {@code connect_timeout} (5 s)
 * @param retry            {@code retry} / {@code nb_get_retry} (1; DNS 3; MISC 0)
 * @param delayBeforeRetry {@code delay_before_retry} (1 s; HTTP/SSL 3 s; DNS = delay_loop)
 * @param warmup           {@code warmup} (= delay_loop)
 * @param delayLoop        {@code delay_loop} (60 s)
 * @param alpha            {@code alpha}: start down until a check passes
 * @param logAllFailures   {@code log_all_failures}
 * @param rise             Vigil's {@code rise}: consecutive passed checks that bring a failed checker back up (1)
 * @param fall             Vigil's {@code fall}: consecutive failed checks (each after its {@code retry}
 *                         attempts) that take a checker down (1)
 */
public record CheckerCommon(InetAddress connectIp, Integer connectPort, InetAddress bindTo, Integer bindPort,
                            String bindIf, Integer fwmark, Duration connectTimeout, int retry,
                            Duration delayBeforeRetry, Duration warmup, Duration delayLoop, boolean alpha,
                            boolean logAllFailures, int rise, int fall) {
}
