package dev.vigil.plugin.http

import dev.vigil.config.LoadResult
import dev.vigil.daemon.Main
import dev.vigil.plugin.testkit.CheckPluginSpecification
import picocli.CommandLine
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The HTTP_GET/SSL_GET plugin as the daemon runs it: the zip this build made, loaded by the real
 * host, its probes run by the real engine on the shared epoll loops against a real nginx on
 * loopback (plain and TLS, with server blocks chosen by Host and by SNI); and {@code vigil genhash}
 * against keepalived's own {@code genhash} on the same server.
 */
@Requires({ Nginx.usable() })
class HttpCheckPluginSpec extends CheckPluginSpecification {

    @Shared
    @TempDir
    Path shared

    @Shared
    Nginx nginx

    static final String OK_BODY = 'hello from vigil\n'

    def setupSpec() {
        nginx = new Nginx(shared.resolve('nginx'))
        nginx.start()
    }

    def cleanupSpec() {
        nginx?.close()
    }

    def setup() {
        if (!Nginx.accepts(nginx.httpPort)) {
            nginx.start()
        }
        Files.writeString(nginx.dir.resolve('www/ok.html'), OK_BODY)
    }

    /** The load of {@code checker} (a whole HTTP_GET or SSL_GET block) in real server 127.0.0.1:{@code port}. */
    LoadResult load(String checker, int port) {
        load(keepalivedConf(checker.stripIndent(), "127.0.0.1 ${port}"))
    }

    /** Starts the engine on {@code checker} (the whole HTTP_GET or SSL_GET block) of real server 127.0.0.1:{@code port}. */
    void run(String checker, int port = nginx.httpPort) {
        start(keepalivedConf(checker.stripIndent(), "127.0.0.1 ${port}"))
    }

    /** The first result (not a state change) and its detail. */
    List<String> first() {
        await('a result') { events.any { !(it in ['UP', 'DOWN']) } }
        int i = events.findIndexOf { !(it in ['UP', 'DOWN']) }
        [events[i], details[i]]
    }

    /** {@code vigil genhash ARGS}: the exit code, standard output and standard error. */
    static List<Object> vigilGenhash(String... args) {
        def out = new StringWriter()
        def err = new StringWriter()
        def cl = new CommandLine(new Main())
        cl.out = new PrintWriter(out)
        cl.err = new PrintWriter(err)
        PrintStream oldOut = System.out
        PrintStream oldErr = System.err
        def o = new ByteArrayOutputStream()
        def e = new ByteArrayOutputStream()
        System.out = new PrintStream(o, true, 'UTF-8')
        System.err = new PrintStream(e, true, 'UTF-8')
        int rc
        try {
            rc = cl.execute(['genhash', *args] as String[])
        } finally {
            System.out = oldOut
            System.err = oldErr
        }
        [rc, o.toString('UTF-8') + out, e.toString('UTF-8') + err]
    }

    def 'the zip this build made loads as plugin check-http, providing HTTP_GET and SSL_GET'() {
        expect:
        host.problems().isEmpty()
        host.keywords() == ['HTTP_GET', 'SSL_GET'] as Set
        with(host.plugins()[0]) {
            id() == 'check-http'
            state() == 'STARTED'
            keywords() as Set == ['HTTP_GET', 'SSL_GET'] as Set
        }
        host.checker('HTTP_GET').get().extension().class.classLoader.class.simpleName == 'PluginClassLoader'
    }

    def 'a body with the digest passes; a changed body fails after fall checks; restored, it passes again after rise'() {
        when:
        run("""\
            HTTP_GET {
                url {
                    path /ok.html
                    digest ${Nginx.md5(OK_BODY)}
                }
                connect_timeout 2
                delay_loop 0.2
                retry 0
                warmup 0
                fall 2
                rise 2
            }""")
        await('two passes') { events.count('L7OK') >= 2 }

        then:
        !events.contains('DOWN')
        details[0] ==~ /HTTP status 200, digest matched, for \/ok\.html in [0-9.]+ ms/

        when: 'the body changes'
        Files.writeString(nginx.dir.resolve('www/ok.html'), 'hello from someone else\n')
        await('the real server down') { events.contains('DOWN') }

        then: 'two failed checks in a row after a pass'
        runBefore('DOWN', 'L7RSP') == [2, 'L7OK']
        details[events.indexOf('L7RSP')] == "MD5 digest ${Nginx.md5('hello from someone else\n')} of the body of /ok.html (expected ${Nginx.md5(OK_BODY)}, 24 bytes)".toString()

        when: 'the body is restored'
        Files.writeString(nginx.dir.resolve('www/ok.html'), OK_BODY)
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [2, 'L7RSP']
    }

    def 'status codes: 503 fails the default 2xx, passes when listed; keepalived\'s lists of codes and ranges'() {
        when:
        run("""\
            HTTP_GET {
                url {
                    path /down
                    ${codes}
                }
                delay_loop 0.2
                warmup 0
            }""")

        then: 'the detail, then how long it took'
        first()[0] == status
        first()[1].startsWith(detail)

        where:
        codes                        || status  | detail
        ''                           || 'L7RSP' | 'HTTP status 503 (expected 200-299) for /down'
        'status_code 200 301-302'    || 'L7RSP' | 'HTTP status 503 (expected 200, 301-302) for /down'
        'status_code 503'            || 'L7OK'  | 'HTTP status 503 for /down'
        'status_code 200 500-504'    || 'L7OK'  | 'HTTP status 503 for /down'
    }

    def 'several urls: every one must pass; the first that fails is the reason'() {
        when:
        run("""\
            HTTP_GET {
                url {
                    path /ok.html
                }
                url {
                    path /down
                }
                delay_loop 0.2
                warmup 0
            }""")

        then:
        first() == ['L7RSP', 'HTTP status 503 (expected 200-299) for /down']
        events.count('L7OK') == 0
    }

    def 'virtualhost picks the server block: per url, for the block, and a wrong name gets the default server\'s 404'() {
        when:
        run("""\
            HTTP_GET {
                ${block}
                url {
                    path /site.html
                    ${url}
                    digest ${Nginx.md5('the site only its name reaches\n')}
                }
                delay_loop 0.2
                warmup 0
            }""")

        then:
        first()[0] == status
        first()[1].startsWith(detail)

        where:
        block                    | url                          || status  | detail
        ''                       | 'virtualhost site.example'   || 'L7OK'  | 'HTTP status 200, digest matched, for /site.html (Host site.example) in '
        'virtualhost site.example' | ''                         || 'L7OK'  | 'HTTP status 200, digest matched, for /site.html (Host site.example) in '
        'virtualhost site.example' | 'virtualhost other.example' || 'L7RSP' | 'HTTP status 404 (expected 200-299) for /site.html (Host other.example)'
        ''                       | ''                           || 'L7RSP' | 'HTTP status 404 (expected 200-299) for /site.html'
    }

    def 'http_protocol: the request line, Connection and Host headers keepalived sends, as nginx saw them'() {
        when: 'nginx echoes protocol|Connection|Host|User-Agent; the digest says what it saw'
        run("""\
            HTTP_GET {
                http_protocol ${protocol}
                url {
                    path /echo
                    digest ${Nginx.md5("${seen}|127.0.0.1:${nginx.httpPort}|KeepAliveClient\n")}
                }
                delay_loop 0.2
                warmup 0
            }""")

        then:
        first()[0] == 'L7OK'

        where:
        protocol || seen
        '1.0'    || 'HTTP/1.0|'
        '1.0C'   || 'HTTP/1.0|close'
        '1.0c'   || 'HTTP/1.0|close'
        '1.1'    || 'HTTP/1.1|close'
    }

    def 'http_protocol 1.1C does not exist in keepalived: refused at its word'() {
        expect:
        diagnosticsOf(keepalivedConf(block('HTTP_GET', '''
                http_protocol 1.1C
                url {
                    path /ok.html
                }'''), "127.0.0.1 ${nginx.httpPort}")).collect { it.substring(it.lastIndexOf('/') + 1) } == [
                'keepalived.conf:4:27: error: invalid http_protocol "1.1C" (expected 1.0, 1.0C, 1.0c or 1.1; 1.1 always sends Connection: close)']
    }

    def 'virtualhost inherited as keepalived does: the url\'s, else the block\'s, else the real server\'s, else the virtual server\'s'() {
        given: 'a virtual server and a real server that may name a virtualhost'
        String checker = block('HTTP_GET', """
                ${blockHost}
                url {
                    path /site.html
                    ${urlHost}
                }
                delay_loop 0.2
                warmup 0""")
        String conf = 'virtual_server 10.9.9.9 80 {\n' + (vsHost ? "    virtualhost ${vsHost}\n" : '') +
                "    real_server 127.0.0.1 ${nginx.httpPort} {\n" + (rsHost ? "        virtualhost ${rsHost}\n" : '') +
                checker.readLines().collect { '        ' + it }.join('\n') + '\n    }\n}\n'

        when:
        start(conf)

        then: 'nginx answers site.html only to the name site.example'
        first()[0] == status
        first()[1].contains(shown)

        where:
        vsHost         | rsHost         | blockHost                    | urlHost                      || status  | shown
        'site.example' | ''             | ''                           | ''                           || 'L7OK'  | '(Host site.example)'
        'other.example'| 'site.example' | ''                           | ''                           || 'L7OK'  | '(Host site.example)'
        'site.example' | 'other.example'| ''                           | ''                           || 'L7RSP' | '(Host other.example)'
        'site.example' | 'site.example' | 'virtualhost other.example'  | ''                           || 'L7RSP' | '(Host other.example)'
        'other.example'| 'other.example'| 'virtualhost other.example'  | 'virtualhost site.example'   || 'L7OK'  | '(Host site.example)'
        ''             | ''             | ''                           | ''                           || 'L7RSP' | 'for /site.html'
    }

    def 'SSL_GET over TLS with a self-signed certificate; with enable_sni (or sni_name) the server name is sent, as nginx\'s ssl_server_name shows'() {
        when:
        run("""\
            SSL_GET {
                ${sni}
                virtualhost secure.example
                url {
                    path /sni
                    digest ${Nginx.md5(body)}
                }
                delay_loop 0.2
                warmup 0
            }""", nginx.tlsPort)

        then:
        first()[0] == status

        where:
        sni                       | body                          || status
        'enable_sni'              | 'secure|secure.example\n'     || 'L7OK'
        'sni_name secure.example' | 'secure|secure.example\n'     || 'L7OK'
        'enable_sni off'          | 'secure|\n'                   || 'L7OK'
        ''                        | 'secure|\n'                   || 'L7OK'
        ''                        | 'secure|secure.example\n'     || 'L7RSP'
    }

    def 'nginx stopped: connection refused takes the real server down; started again, it comes back'() {
        when:
        run("""\
            SSL_GET {
                url {
                    path /ok.html
                    digest ${Nginx.md5(OK_BODY)}
                }
                connect_timeout 1
                delay_loop 0.2
                retry 1
                delay_before_retry 0.1
                warmup 0
                fall 1
                rise 2
            }""", nginx.tlsPort)
        await('two passes') { events.count('L7OK') >= 2 }
        nginx.stop()
        await('the real server down') { events.contains('DOWN') }

        then: 'one failed check of two attempts'
        runBefore('DOWN', 'L4CON') == [2, 'L7OK']
        details[events.indexOf('L4CON')] == "connection refused (127.0.0.1:${nginx.tlsPort})".toString()

        when:
        nginx.start()
        await('the real server up') { events.contains('UP') }

        then:
        runBefore('UP', 'L7OK') == [2, 'L4CON']
    }

    def 'validate: bad values are refused at their location'() {
        when:
        def loaded = load("""\
            HTTP_GET {
                http_protocol 2.0
                url {
                    path /a
                    status_code 200 99 300-250
                    regex "ok"
                }
                url {
                    digest 1234
                }
            }""", 80)
        def mine = loaded.diagnostics().collect { "${it.ref().line()}:${it.ref().col()} ${it.severity()} ${it.message()}".toString() }

        then:
        loaded.hasErrors()
        mine.any { it ==~ /4:27 ERROR invalid http_protocol "2.0".*/ }
        mine.any { it ==~ /7:33 ERROR .*status_code.* 99 .*/ }
        mine.any { it ==~ /7:36 ERROR invalid status_code "300-250".*/ }
        mine.any { it == '8:17 ERROR regex is not supported by Vigil\'s HTTP_GET/SSL_GET (status_code and digest are)' }
        mine.any { it ==~ /11:24 ERROR invalid digest "1234".*/ }
        mine.any { it == '10:13 ERROR url has no path' }
        !mine.any { it.contains('has no url') }
        mine.count { it.startsWith('4:27 ERROR') } == 1
    }

    def 'vigil genhash prints what keepalived\'s genhash prints, and what the checker compares'() {
        given:
        String[] base = ['-s', '127.0.0.1', '-p', String.valueOf(port), '-u', path]
        List<String> argv = [*base, *extra]

        when:
        def (int rc, String out, String err) = vigilGenhash(argv as String[])
        String theirs = Nginx.run(Nginx.GENHASH, *argv).trim()

        then:
        rc == 0
        err == ''
        out.trim() ==~ /[0-9a-f]{32}/
        out.trim() == theirs
        out.trim() == Nginx.md5(body.replace('PORT', String.valueOf(port)))

        where:
        port                | path         | extra                                 || body
        nginx.httpPort      | '/ok.html'   | []                                    || OK_BODY
        nginx.httpPort      | '/site.html' | ['-V', 'site.example']                || 'the site only its name reaches\n'
        nginx.httpPort      | '/down'      | []                                    || 'maintenance\n'
        nginx.httpPort      | '/echo'      | ['-P', '1.1']                         || 'HTTP/1.1|close|127.0.0.1:PORT|KeepAliveClient\n'
        nginx.tlsPort       | '/ok.html'   | ['-S']                                || OK_BODY
        nginx.tlsPort       | '/sni'       | ['-S', '-V', 'secure.example', '-I']  || 'secure|secure.example\n'
    }

    def 'vigil genhash: a server that refuses is an error on standard error, exit code 1'() {
        when:
        def (int rc, String out, String err) = vigilGenhash('-s', '127.0.0.1', '-p', String.valueOf(Nginx.freePort()), '-u', '/')

        then:
        rc == 1
        out == ''
        err ==~ /vigil genhash: connection refused \(127\.0\.0\.1:\d+\)\s*/
    }
}
