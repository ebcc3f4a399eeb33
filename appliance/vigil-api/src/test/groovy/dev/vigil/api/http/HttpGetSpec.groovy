package dev.vigil.api.http

import spock.lang.Specification

import java.nio.charset.StandardCharsets
import java.security.MessageDigest

/** The request keepalived sends, and the response read the way keepalived reads it, byte by byte or all at once. */
class HttpGetSpec extends Specification {

    static String md5(String s) {
        MessageDigest.getInstance('MD5').digest(s.getBytes(StandardCharsets.ISO_8859_1)).encodeHex().toString()
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
}
