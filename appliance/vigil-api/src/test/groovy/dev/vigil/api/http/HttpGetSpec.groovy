package dev.vigil.api.http

import io.netty.channel.EventLoop
import io.netty.channel.MultiThreadIoEventLoopGroup
import io.netty.channel.epoll.Epoll
import io.netty.channel.epoll.EpollIoHandler
import io.netty.channel.epoll.EpollSocketChannel
import io.netty.channel.ReflectiveChannelFactory
import io.netty.channel.nio.NioIoHandler
import io.netty.channel.socket.nio.NioSocketChannel
import spock.lang.Specification

import java.nio.charset.StandardCharsets
import java.security.MessageDigest
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/** The request keepalived sends, and the response read the way keepalived reads it, byte by byte or all at once. */
class HttpGetSpec extends Specification {

    /** 127.0.0.1 without a name: a failure's words show the address only. */
    static final InetAddress LOOPBACK = InetAddress.getByAddress([127, 0, 0, 1] as byte[])

    static String md5(String s) {
        MessageDigest.getInstance('MD5').digest(s.getBytes(StandardCharsets.ISO_8859_1)).encodeHex().toString()
    }

    /**
     * One loop of {@code transport}: {@code nio} (a Netty channel per fetch), {@code epoll} (a Netty
     * channel per fetch) or {@code direct} (an epoll loop, each fetch's socket registered with it
     * without a channel, as the host's HTTP_GET does without fwmark or bind_if).
     */
    static MultiThreadIoEventLoopGroup loops(String transport) {
        if (transport != 'nio' && !Epoll.available) {
            throw new IllegalStateException("Netty's epoll transport does not load here, and the ${transport} fetch needs it: "
                    + Epoll.unavailabilityCause())
        }
        new MultiThreadIoEventLoopGroup(1, transport == 'nio' ? NioIoHandler.newFactory() : EpollIoHandler.newFactory())
    }

    static HttpGet.Fetcher fetcher(String transport, EventLoop loop, HttpGet.Request request, boolean digest) {
        def channels = transport == 'nio' ? new ReflectiveChannelFactory<NioSocketChannel>(NioSocketChannel)
                : new ReflectiveChannelFactory<EpollSocketChannel>(EpollSocketChannel)
        def f = new HttpGet.Fetcher(loop, channels, request, digest, transport == 'direct')
        assert f.direct() == (transport == 'direct')
        f
    }

    static HttpGet.Response read(String response, int piece) {
        def r = new ResponseReader()
        byte[] b = response.getBytes(StandardCharsets.ISO_8859_1)
        for (int i = 0; i < b.length; i += piece) {
            r.feed(b, i, Math.min(piece, b.length - i))
        }
        r.finish()
    }

    def 'the request: version, Connection: close for 1.0C and 1.1, Host the virtualhost or the address with its port'() {
        expect:
        new HttpGet.Request(new InetSocketAddress(InetAddress.getByName(ip), 8080), null, '/health', vhost,
                HttpGet.Protocol.parse(protocol).get(), false, null).text() == text

        where:
        ip            | vhost         | protocol || text
        '10.0.0.2'    | null          | '1.0'    || 'GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:8080\r\n\r\n'
        '10.0.0.2'    | 'www.example' | '1.0C'   || 'GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n'
        '2001:db8::2' | null          | '1.1'    || 'GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [2001:db8::2]:8080\r\n\r\n'
        '10.0.0.2'    | null          | '1.0c'   || 'GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 10.0.0.2:8080\r\n\r\n'
    }

    def 'IPv6 in the Host header as RFC 5952 writes it'() {
        expect:
        HttpGet.compress(InetAddress.getByName(ip).hostAddress) == text

        where:
        ip                      || text
        '2001:db8::2'           || '2001:db8::2'
        '::1'                   || '::1'
        '::'                    || '::'
        'fe80::'                || 'fe80::'
        '2001:db8:0:1:0:0:0:1'  || '2001:db8:0:1::1'
        '2001:0:0:1:0:0:1:1'    || '2001::1:0:0:1:1'
        '2001:db8:1:2:3:4:5:6'  || '2001:db8:1:2:3:4:5:6'
    }

    def 'the digest is of the body after the empty line, up to Content-Length; a chunked body is hashed as it came'() {
        expect:
        with(read(response, piece)) {
            statusCode() == status
            digest() == md5(body)
            bodyBytes() == body.length()
        }

        where:
        response                                                                        | piece || status | body
        'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n'                           | 1     || 200    | 'hello\n'
        'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n'                           | 4096  || 200    | 'hello\n'
        'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nhello\n'                           | 2     || 200    | 'hel'
        'HTTP/1.0 503 Service Unavailable\r\n\r\ndown\r\n\r\nmore'                      | 3     || 503    | 'down\r\n\r\nmore'
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n' | 5     || 200    | '6\r\nhello\n\r\n0\r\n\r\n'
        'HTTP/1.1 204 No Content\r\n\r\n'                                               | 1     || 204    | ''
        'SSH-2.0-OpenSSH\r\n\r\nx'                                                      | 7     || 0      | 'x'
    }

    def 'the body is complete once Content-Length bytes came; without a length only the end of the connection ends it'() {
        given:
        def r = new ResponseReader()
        byte[] head = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab'.bytes
        r.feed(head, 0, head.length)

        expect:
        r.headerComplete()
        !r.bodyComplete()

        when:
        r.feed('cdEXTRA'.bytes, 0, 7)

        then:
        r.bodyComplete()
        r.finish().digest() == md5('abcd')
        r.finish() != null
    }

    def 'no complete header is no response (keepalived: no data received)'() {
        expect:
        read(text, 1) == null

        where:
        text << ['', 'HTTP/1.1 200 OK\r\n', 'HTTP/1.1 200 OK\r\nServer: x\r\n\r']
    }

    def 'a header longer than the limit is no response, and memory stays bounded'() {
        given:
        def r = new ResponseReader()
        byte[] junk = new byte[4096]
        Arrays.fill(junk, (byte) 'a')

        when:
        40.times { r.feed(junk, 0, junk.length) }
        r.feed('\r\n\r\nbody'.bytes, 0, 8)

        then:
        r.finish() == null
    }

    /**
     * The header as a String split at CRLF and read with trim and parseLong: the reading the
     * streaming reader must give, whatever the pieces the bytes come in.
     */
    static Map reference(String response) {
        int end = response.indexOf('\r\n\r\n')
        if (end < 0) {
            return null
        }
        String[] lines = response.substring(0, end).split('\r\n', -1)
        String first = lines[0]
        int status = 0
        if (first.startsWith('HTTP/') && first.indexOf(' ') >= 0) {
            int i = first.indexOf(' ') + 1
            int digits = 0
            int code = 0
            while (i < first.length() && first.charAt(i) >= ('0' as char) && first.charAt(i) <= ('9' as char) && digits < 4) {
                code = code * 10 + (first.charAt(i) - ('0' as char))
                i++
                digits++
            }
            status = digits == 3 ? code : 0
        }
        long length = -1
        for (int k = 1; k < lines.length; k++) {
            int colon = lines[k].indexOf(':')
            if (colon > 0 && lines[k].substring(0, colon).trim().toLowerCase(Locale.ROOT) == 'content-length') {
                try {
                    long n = Long.parseLong(lines[k].substring(colon + 1).trim())
                    length = n >= 0 ? n : -1
                } catch (NumberFormatException e) {
                    length = -1
                }
            }
        }
        String body = response.substring(end + 4)
        if (length >= 0 && body.length() > length) {
            body = body.substring(0, (int) length)
        }
        [status: status, length: length, body: body]
    }

    def 'the header read as it streams by gives what the whole header split into lines gives, whatever the pieces and buffers'() {
        given: 'status lines and header lines, usual and odd, in every order, cut at random'
        def statusLines = ['HTTP/1.1 200 OK', 'HTTP/1.0 503 Service Unavailable', 'HTTP/1.1 2000 Big', 'HTTP/1.1 20 Short',
                           'HTTP/1.1  200 two spaces', 'http/1.1 200 lower case', 'HTTP/1.1 200', 'HTTP/1.1\t200', 'HTTP',
                           'HTTP/1.1 404\rNot a line end', 'SSH-2.0-OpenSSH', '', 'HTTP/2 204']
        def headerLines = ['Content-Length: 5', 'content-length:3', ' CONTENT-LENGTH \t:  +4 ', 'Content-Length: -0',
                           'Content-Length: -3', 'Content-Length: 1 2', 'Content-Length:', 'Content-Length: +',
                           'Content-Length: 99999999999999999999', 'Content-Length: 9223372036854775807', 'Content-Length\t: 2\t',
                           'X-Content-Length: 4', 'Content-Lengthy: 4', ': 5', 'Content-Length: 4\r', 'Content-Length: 4\n5',
                           'Content Length: 4', 'Server: nginx', 'Content-Length: 0x10', 'Content-Length: 6', '\u00c9: 1',
                           'Content-Length: \u00b2']
        def random = new Random(20261130)
        int checked = 0

        expect:
        500.times {
            def lines = [statusLines[random.nextInt(statusLines.size())]]
            random.nextInt(4).times { lines << headerLines[random.nextInt(headerLines.size())] }
            String body = 'hello world\r\n\r\nmore'.substring(0, random.nextInt(20))
            String response = lines.join('\r\n') + '\r\n\r\n' + body
            Map want = reference(response)
            byte[] bytes = response.getBytes(StandardCharsets.ISO_8859_1)
            int piece = 1 + random.nextInt(bytes.length + 1)
            boolean digest = random.nextBoolean()
            def fromArray = new ResponseReader(digest)
            def fromBuf = new ResponseReader(digest)
            for (int i = 0; i < bytes.length; i += piece) {
                int n = Math.min(piece, bytes.length - i)
                fromArray.feed(bytes, i, n)
                def buf = random.nextBoolean() ? io.netty.buffer.Unpooled.directBuffer(n + 8) : io.netty.buffer.Unpooled.buffer(n + 8)
                buf.writeBytes(new byte[3]).readerIndex(3)
                buf.writeBytes(bytes, i, n)
                fromBuf.feed(buf)
                assert buf.readerIndex() == 3 && buf.refCnt() == 1
                buf.release()
            }
            for (r in [fromArray.finish(), fromBuf.finish()]) {
                assert r.statusCode() == want.status: response
                assert r.contentLength() == want.length: response
                assert r.bodyBytes() == want.body.length(): response
                assert r.digest() == (digest ? md5(want.body) : null): response
            }
            checked++
        }
        checked == 500
    }

    def 'without a digest asked for, the body is counted and not hashed'() {
        given:
        def r = new ResponseReader(false)
        byte[] b = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdEXTRA'.getBytes(StandardCharsets.ISO_8859_1)

        when:
        r.feed(b, 0, b.length)

        then:
        r.bodyComplete()
        with(r.finish()) {
            statusCode() == 200
            digest() == null
            bodyBytes() == 4
            contentLength() == 4
        }
    }

    def 'a fetcher made once fetches again and again: one request each, the digest only when asked for, Content-Length ends the read (#transport)'() {
        given: 'a server that answers every connection with 5 body bytes, keeps it open, and records each request'
        def server = new ServerSocket(0, 50, LOOPBACK)
        def requests = Collections.synchronizedList([])
        def held = Collections.synchronizedList([])
        Thread.startDaemon {
            while (!server.closed) {
                try {
                    Socket s = server.accept()
                    held << s
                    def head = new StringBuilder()
                    def input = s.inputStream
                    while (!head.toString().endsWith('\r\n\r\n')) {
                        int c = input.read()
                        if (c < 0) break
                        head.append((char) c)
                    }
                    requests << head.toString()
                    s.outputStream.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'.getBytes(StandardCharsets.ISO_8859_1))
                    s.outputStream.flush()
                } catch (IOException e) {
                    break
                }
            }
        }
        def address = new InetSocketAddress(LOOPBACK, server.localPort)
        def request = new HttpGet.Request(address, null, '/health', null, HttpGet.Protocol.HTTP_1_0, false, null)
        def loops = loops(transport)

        when:
        def plain = fetcher(transport, loops.next(), request, false)
        def hashed = fetcher(transport, loops.next(), request, true)
        def responses = [plain, plain, hashed].collect { it.fetch(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS) }

        then: 'each fetch ended at Content-Length, though the server keeps the connection open'
        responses*.statusCode() == [200, 200, 200]
        responses*.bodyBytes() == [5, 5, 5]
        responses*.digest() == [null, null, md5('hello')]
        requests == [request.text()] * 3

        cleanup:
        server?.close()
        held.each { it.close() }
        loops?.shutdownGracefully(0, 1, TimeUnit.SECONDS)?.sync()

        where:
        transport << ['nio', 'epoll', 'direct']
    }

    def 'one deadline for the whole fetch: no connection within it, no answer within it, and a refusal, each in its words (#transport)'() {
        given: 'a listener whose full accept queue drops new SYNs (Linux), a listener that never answers, a closed port'
        def full = new ServerSocket(0, 1, LOOPBACK)
        def fillers = []
        for (int i = 0; i < 8; i++) {
            def s = new Socket()
            try {
                s.connect(new InetSocketAddress(LOOPBACK, full.localPort), 300)
                fillers << s
            } catch (SocketTimeoutException e) {
                s.close()
                break
            }
        }
        def silent = new ServerSocket(0, 50, LOOPBACK)
        def closed = new ServerSocket(0, 50, LOOPBACK)
        int closedPort = closed.localPort
        closed.close()
        def loops = loops(transport)
        def fetch = { int port ->
            def request = new HttpGet.Request(new InetSocketAddress(LOOPBACK, port), null, '/', null,
                    HttpGet.Protocol.HTTP_1_0, false, null)
            def done = new CompletableFuture()
            long start = System.nanoTime()
            fetcher(transport, loops.next(), request, false)
                    .fetch(300, { r, f -> done.complete([r, f, (System.nanoTime() - start) / 1e6]) } as HttpGet.Callback)
            done.get(10, TimeUnit.SECONDS)
        }

        when:
        def (r1, noConnection, t1) = fetch(full.localPort)
        def (r2, noAnswer, t2) = fetch(silent.localPort)
        def (r3, refused, t3) = fetch(closedPort)

        then:
        [r1, r2, r3] == [null, null, null]
        noConnection.kind() == HttpGet.Failure.Kind.CONNECT_TIMEOUT
        noConnection.message == "no connection to 127.0.0.1:${full.localPort} within 300 ms"
        t1 >= 290 && t1 < 2000
        noAnswer.kind() == HttpGet.Failure.Kind.TIMEOUT
        noAnswer.message == 'no complete response within 300 ms'
        t2 >= 290 && t2 < 2000
        refused.kind() == HttpGet.Failure.Kind.CONNECT
        refused.message == "connection refused (127.0.0.1:${closedPort})"

        cleanup:
        fillers.each { it.close() }
        full?.close()
        silent?.close()
        loops?.shutdownGracefully(0, 1, TimeUnit.SECONDS)?.sync()

        where:
        transport << ['nio', 'epoll', 'direct']
    }

    def 'the direct socket has TCP_QUICKACK off (the handshake ACK rides on the request), a fresh one has it on'() {
        given:
        if (!Epoll.available) {
            throw new IllegalStateException("Netty's epoll transport does not load here: " + Epoll.unavailabilityCause())
        }
        def fresh = io.netty.channel.epoll.LinuxSocket.newSocketStream(false)
        def v4 = DirectExchange.open(false)
        def v6 = DirectExchange.open(true)

        expect:
        fresh.isTcpQuickAck()
        !v4.isTcpQuickAck()
        !v6.isTcpQuickAck()

        cleanup:
        [fresh, v4, v6].each { it?.close() }
    }
}
