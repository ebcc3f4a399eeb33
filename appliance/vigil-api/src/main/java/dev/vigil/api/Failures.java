package dev.vigil.api;

import io.netty.channel.ConnectTimeoutException;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.util.Locale;
import java.util.concurrent.CancellationException;

/**
 * The words a probe puts in a {@link CheckResult#detail()} when its socket fails, the same in every
 * checker: the kernel's error without Netty's decoration, and the address in the form keepalived
 * logs.
 *
 * <p>Netty decorates a kernel error with the call that failed and, for a connect, the address:
 * {@code finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:80} on epoll,
 * {@code Connection refused: /127.0.0.1:80} on NIO, {@code sendToAddress(..) failed: Network is
 * unreachable} on a datagram channel. {@link #reason} keeps {@code connection refused} and
 * {@code network is unreachable}; the probe says which address itself, with {@link #show}.
 */
public final class Failures {

    private Failures() {
    }

    /**
     * The error's words without Netty's decoration, in lower case: {@code connection refused},
     * {@code no route to host}; its class's simple name when it has no message, and
     * {@code unknown error} for {@code null}.
     */
    public static String reason(Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String m = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        int addr = m.indexOf(": /");
        if (addr >= 0) {
            m = m.substring(0, addr);
        }
        int colon = m.lastIndexOf(": ");
        if (colon >= 0 && m.substring(0, colon).contains("(..)")) {
            m = m.substring(colon + 2);
        }
        return m.toLowerCase(Locale.ROOT);
    }

    /** {@code 10.0.0.2:80}, {@code [2001:db8::2]:443}: the address as written, never a host name looked up. */
    public static String show(InetSocketAddress address) {
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * Why a TCP connection to {@code to} was not made, as a result:
     * <ul>
     *   <li>Netty's connect timeout ({@code CONNECT_TIMEOUT_MILLIS}, set from {@code timeoutMillis}):
     *       {@code L4TOUT "no connection to 10.0.0.2:80 within 3000 ms"};</li>
     *   <li>a bind to {@code bind} ({@code bindto}/{@code bind_port}) that failed, when {@code bind}
     *       is given: {@code L4CON "cannot bind to 10.0.0.1:5000: address already in use"};</li>
     *   <li>a refusal, reset or unreachable route: {@code L4CON "connection refused (10.0.0.2:80)"};</li>
     *   <li>the attempt cancelled (the probe closed): {@code L4CON "connect to 10.0.0.2:80 cancelled"};</li>
     *   <li>anything else: {@code L4CON "connect to 10.0.0.2:80 failed: ..."}.</li>
     * </ul>
     *
     * @param cause         the connect future's cause
     * @param to            the address connected to
     * @param bind          the local address bound to, or {@code null} if none was asked for
     * @param timeoutMillis the connect timeout the probe set, for the message
     */
    public static CheckResult connectFailed(Throwable cause, InetSocketAddress to, InetSocketAddress bind, long timeoutMillis) {
        String at = show(to);
        if (cause instanceof ConnectTimeoutException) {
            return CheckResult.of(CheckResult.Status.L4TOUT, "no connection to " + at + " within " + timeoutMillis + " ms");
        }
        if (cause instanceof BindException && bind != null) {
            return CheckResult.of(CheckResult.Status.L4CON, "cannot bind to " + show(bind) + ": " + reason(cause));
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return CheckResult.of(CheckResult.Status.L4CON, reason(cause) + " (" + at + ")");
        }
        if (cause instanceof CancellationException) {
            return CheckResult.of(CheckResult.Status.L4CON, "connect to " + at + " cancelled");
        }
        return CheckResult.of(CheckResult.Status.L4CON, "connect to " + at + " failed: " + reason(cause));
    }
}
