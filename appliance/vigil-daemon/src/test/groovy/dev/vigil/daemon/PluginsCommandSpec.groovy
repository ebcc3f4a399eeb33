package dev.vigil.daemon

import dev.vigil.daemon.plugin.PluginHost
import dev.vigil.daemon.plugin.TestPlugins
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** {@code vigil plugins}: the listing, from the daemon's API and from a plugins directory. */
class PluginsCommandSpec extends Specification {

    @TempDir
    Path dir

    def 'the listing: one row per plugin, then why one failed or was disabled'() {
        given:
        def plugins = [
                new PluginHost.PluginInfo('check-tcp', '0.1.0', 'Vigil', 'TCP', 'STARTED', ['TCP_CHECK'], null),
                new PluginHost.PluginInfo('redis', '1.2.3', '', '', 'STARTED', ['REDIS_CHECK', 'REDIS_SENTINEL'], null),
                new PluginHost.PluginInfo('broken', '2.0.0', 'Acme', '', 'FAILED', [], 'IllegalStateException: cannot start')]

        expect:
        PluginsCommand.table(Path.of('/opt/vigil/plugins'), plugins, [redis: '31 plugin errors within 60 s (limit 30)']) == '''\
            plugins directory: /opt/vigil/plugins
            ID         VERSION  PROVIDER  STATE     KEYWORDS
            check-tcp  0.1.0    Vigil     STARTED   TCP_CHECK
            redis      1.2.3    -         DISABLED  REDIS_CHECK,REDIS_SENTINEL
            broken     2.0.0    Acme      FAILED    -
            redis: disabled by the health checks: 31 plugin errors within 60 s (limit 30)
            broken: IllegalStateException: cannot start
            '''.stripIndent()
        PluginsCommand.table(null, [], [:]) == 'plugins directory: (none)\nno plugins\n'
    }

    def 'vigil plugins --dir loads a plugins directory itself'() {
        given:
        Path plugins = dir.resolve('plugins')
        TestPlugins.zip(plugins, 'redis', ['t.redis.RedisCheck': TestPlugins.passing('t.redis', 'RedisCheck', 'REDIS_CHECK')])
        def out = new ByteArrayOutputStream()
        PrintStream saved = System.out
        System.out = new PrintStream(out, true)

        when:
        int code
        try {
            code = Main.commandLine().execute('plugins', '--dir', plugins.toString())
        } finally {
            System.out = saved
        }

        then:
        code == 0
        out.toString().readLines() == ["plugins directory: ${plugins}".toString(),
                                       'ID     VERSION  PROVIDER  STATE    KEYWORDS',
                                       'redis  1.2.3    Test      STARTED  REDIS_CHECK']
    }

    def 'the API serves the listing at GET /plugins (503 without a plugin host)'() {
        given:
        def with = new StatusServer(new InetSocketAddress('127.0.0.1', 0), { [:] }, { null }, { 'the listing\n' })
        def without = new StatusServer(new InetSocketAddress('127.0.0.1', 0), { [:] }, { null })

        when:
        def a = new ApiClient("127.0.0.1:${with.address().port}").get('/plugins')
        def b = new ApiClient("127.0.0.1:${without.address().port}").get('/plugins')

        then:
        a.statusCode() == 200
        a.body() == 'the listing\n'
        b.statusCode() == 503

        cleanup:
        with?.close()
        without?.close()
    }
}
