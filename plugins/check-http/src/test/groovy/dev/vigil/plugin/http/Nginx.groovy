package dev.vigil.plugin.http

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A real nginx (Debian's package) on loopback for the HTTP_GET/SSL_GET specs, in a directory of
 * its own: a default HTTP server with files and fixed answers, a server block only its virtualhost
 * reaches, and a TLS port whose certificates (self-signed, made by {@code openssl req}) are chosen
 * by the server name, with a location that echoes the name the client sent (SNI).
 */
class Nginx implements Closeable {

    static final String NGINX = '/usr/sbin/nginx'
    static final String OPENSSL = '/usr/bin/openssl'
    static final String GENHASH = '/usr/bin/genhash'

    final Path dir
    final int httpPort
    final int tlsPort

    Nginx(Path dir) {
        this.dir = dir
        httpPort = freePort()
        tlsPort = freePort()
        Files.createDirectories(dir.resolve('www'))
        Files.createDirectories(dir.resolve('site'))
        Files.createDirectories(dir.resolve('tmp'))
        Files.writeString(dir.resolve('www/ok.html'), 'hello from vigil\n')
        Files.writeString(dir.resolve('site/site.html'), 'the site only its name reaches\n')
        ['default', 'secure'].each { cert(it == 'default' ? 'localhost' : 'secure.example', it) }
        Files.writeString(dir.resolve('nginx.conf'), """\
            daemon on;
            pid ${dir}/nginx.pid;
            error_log ${dir}/error.log;
            user root;
            worker_processes 1;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path ${dir}/tmp/body;
                proxy_temp_path ${dir}/tmp/proxy;
                fastcgi_temp_path ${dir}/tmp/fastcgi;
                uwsgi_temp_path ${dir}/tmp/uwsgi;
                scgi_temp_path ${dir}/tmp/scgi;
                server {
                    listen 127.0.0.1:${httpPort} default_server;
                    root ${dir}/www;
                    location = /down { return 503 "maintenance\\n"; }
                    location = /echo { return 200 "\$server_protocol|\$http_connection|\$http_host|\$http_user_agent\\n"; }
                }
                server {
                    listen 127.0.0.1:${httpPort};
                    server_name site.example;
                    root ${dir}/site;
                }
                server {
                    listen 127.0.0.1:${tlsPort} ssl default_server;
                    ssl_certificate ${dir}/default.crt;
                    ssl_certificate_key ${dir}/default.key;
                    root ${dir}/www;
                    location = /sni { return 200 "default|\$ssl_server_name\\n"; }
                }
                server {
                    listen 127.0.0.1:${tlsPort} ssl;
                    server_name secure.example;
                    ssl_certificate ${dir}/secure.crt;
                    ssl_certificate_key ${dir}/secure.key;
                    location = /sni { return 200 "secure|\$ssl_server_name\\n"; }
                }
            }
            """.stripIndent())
    }

    /** Whether the packages are installed; says loudly what is missing, and fails under vigil.requireNetns. */
    static boolean usable() {
        def missing = [NGINX, OPENSSL, GENHASH].findAll { !new File(it).canExecute() }
        if (missing.isEmpty()) {
            return true
        }
        System.err.println("*** SKIPPING HTTP_GET/SSL_GET specs: ${missing.join(', ')} missing (apt-get install nginx openssl keepalived) ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${missing.join(', ')} missing")
        }
        false
    }

    void cert(String name, String file) {
        run(OPENSSL, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', "/CN=${name}",
                '-keyout', dir.resolve("${file}.key").toString(), '-out', dir.resolve("${file}.crt").toString())
    }

    void start() {
        run(NGINX, '-c', dir.resolve('nginx.conf').toString(), '-p', dir.toString())
        waitFor(true)
    }

    /** Stops nginx (SIGTERM to the master, as nginx -s stop does) and waits until its ports refuse. */
    void stop() {
        Path pid = dir.resolve('nginx.pid')
        if (Files.exists(pid)) {
            run('/bin/kill', Files.readString(pid).trim())
        }
        waitFor(false)
    }

    void waitFor(boolean listening) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (accepts(httpPort) != listening || accepts(tlsPort) != listening) {
            assert System.nanoTime() < deadline: "nginx did not ${listening ? 'start' : 'stop'}: ${errorLog()}"
            Thread.sleep(20)
        }
    }

    String errorLog() {
        Path log = dir.resolve('error.log')
        Files.exists(log) ? Files.readString(log) : ''
    }

    static boolean accepts(int port) {
        try {
            new Socket('127.0.0.1', port).close()
            true
        } catch (IOException ignored) {
            false
        }
    }

    static String run(String... command) {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0: "${command.join(' ')} failed: ${out}"
        out
    }

    static int freePort() {
        new ServerSocket(0, 1, InetAddress.getByName('127.0.0.1')).withCloseable { it.localPort }
    }

    static String md5(String text) {
        java.security.MessageDigest.getInstance('MD5').digest(text.getBytes('UTF-8')).encodeHex().toString()
    }

    @Override
    void close() {
        stop()
    }
}
