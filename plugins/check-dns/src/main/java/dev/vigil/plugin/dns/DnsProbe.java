package dev.vigil.plugin.dns;

import dev.vigil.api.CheckContext;
import dev.vigil.api.CheckResult;
import dev.vigil.api.CheckTarget;
import dev.vigil.api.Probe;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryEncoder;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.BindException;
import java.net.PortUnreachableException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static dev.vigil.api.Failures.reason;
import static dev.vigil.api.Failures.show;

/**
 * One {@code DNS_CHECK} target: a connected UDP socket on the host's event loop (so that an ICMP
 * port unreachable comes back as an error, RFC 1122 §4.1.3.3), one query with a random id and
 * recursion desired, and the first response with that id, judged by {@link DnsAnswers}; all within
 * {@code connect_timeout}. Encoding and decoding are Netty's codec-dns. One datagram per probe:
 * the host's {@code retry} resends.
 */
final class DnsProbe implements Probe {

    private final CheckContext context;
    private final CheckTarget target;
    private final DnsRecordType type;
    private final String name;
    private final String question;
    private final long timeoutMillis;
    /** The socket of the probe in flight, for {@link #close()}. */
    private volatile Channel inFlight;

    DnsProbe(CheckContext context, DnsRecordType type, String name) {
        this.context = context;
        this.target = context.target();
        this.type = type;
        this.name = name;
        this.question = type.name() + " " + name;
        this.timeoutMillis = Math.max(1, context.connectTimeout().toMillis());
    }

    @Override
    public CompletionStage<CheckResult> run() {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        long start = context.nanoTime();
        // RFC 1035 §4.1.1: ID, "a 16 bit identifier assigned by the program that generates any kind of query".
        int id = ThreadLocalRandom.current().nextInt(0x10000);
        Exchange exchange = new Exchange(id, start, result);
        Bootstrap b = new Bootstrap()
                .group(context.eventLoop())
                .channelFactory(context.datagramChannels())
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsResponseDecoder(), new DatagramDnsQueryEncoder(), exchange);
                    }
                });
        ChannelFuture connect = target.bindAddress() == null
                ? b.connect(target.address())
                : b.connect(target.address(), target.bindAddress());
        Channel ch = connect.channel();
        inFlight = ch;
        exchange.deadline = context.eventLoop().schedule(() -> exchange.finish(CheckResult.of(CheckResult.Status.L7TOUT,
                "no DNS answer for " + question + " from " + show(target.address()) + " within " + timeoutMillis + " ms"
                        + (exchange.ignored != null ? " (ignored: " + exchange.ignored + ")" : ""))),
                timeoutMillis, TimeUnit.MILLISECONDS);
        result.whenComplete((r, e) -> {
            inFlight = null;
            if (ch.isOpen()) {
                ch.close();
            }
        });
        connect.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                exchange.finish(failure(done.cause()));
                return;
            }
            DatagramDnsQuery query = new DatagramDnsQuery(null, target.address(), id);
            query.setRecursionDesired(true);
            query.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(name, type));
            done.channel().writeAndFlush(query).addListener((ChannelFutureListener) sent -> {
                if (!sent.isSuccess()) {
                    exchange.finish(failure(sent.cause()));
                }
            });
        });
        return result;
    }

    /** The pipeline's last handler: waits for the response to query {@code id}. */
    private final class Exchange extends SimpleChannelInboundHandler<DnsResponse> {
        private final int id;
        private final long start;
        private final CompletableFuture<CheckResult> result;
        /** Set right after the connect is started, on the calling thread; read on the loop. */
        volatile ScheduledFuture<?> deadline;
        /** What the last ignored datagram was, for the timeout's detail. */
        String ignored;

        Exchange(int id, long start, CompletableFuture<CheckResult> result) {
            this.id = id;
            this.start = start;
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DnsResponse response) {
            CheckResult r = DnsAnswers.judge(id, question, response);
            if (r == null) {
                ignored = "a response with id " + response.id() + " (expected " + id + ")";
                return;
            }
            finish(CheckResult.of(r.status(), r.detail() + " from " + show(target.address()) + " in "
                    + millis(context.nanoTime() - start) + " ms"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException) {
                // keepalived keeps waiting after a datagram that is not the answer; so does this.
                ignored = "a datagram that is not a DNS response: " + reason(cause.getCause() != null ? cause.getCause() : cause);
                return;
            }
            finish(failure(cause));
        }

        void finish(CheckResult r) {
            ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            result.complete(r);
        }
    }

    /** A socket error: the port unreachable, a bind that failed, or whatever else the kernel said. */
    CheckResult failure(Throwable cause) {
        String to = show(target.address());
        if (cause instanceof PortUnreachableException) {
            return CheckResult.of(CheckResult.Status.L4CON, "port unreachable (" + to + ")");
        }
        if (cause instanceof BindException) {
            return CheckResult.of(CheckResult.Status.L4CON, "cannot bind to " + show(target.bindAddress()) + ": " + reason(cause));
        }
        return CheckResult.of(CheckResult.Status.L4CON, "DNS query to " + to + " failed: " + reason(cause));
    }

    @Override
    public void close() {
        Channel ch = inFlight;
        if (ch != null) {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
