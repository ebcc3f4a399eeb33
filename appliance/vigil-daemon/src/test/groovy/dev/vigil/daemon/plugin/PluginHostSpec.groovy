package dev.vigil.daemon.plugin

import dev.vigil.api.HealthChecker
import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.LoadResult
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The PF4J host over a plugins directory of real plugin zips (compiled and zipped by
 * {@link TestPlugins}): loading, the keyword map, conflicts, failures, and the checker diagnostics
 * a configuration gets from the installed plugins.
 */
class PluginHostSpec extends Specification {

    @TempDir
    Path dir

    final List<PluginHost> hosts = []

    def cleanup() {
        hosts*.close()
    }

    PluginHost open(Path plugins) {
        def h = PluginHost.open(plugins)
        hosts << h
        h
    }

    Path plugins() {
        dir.resolve('plugins')
    }

    LoadResult load(String text) {
        Path f = dir.resolve('keepalived.conf')
        Files.writeString(f, text)
        ConfigLoader.load(f, LoadOptions.defaults())
    }

    /** One real server with {@code checkers}: the first checker line is line 3, indented by 8. */
    static String rs(String checkers) {
        'virtual_server 10.0.0.1 80 {\n    real_server 10.0.0.2 80 {\n' +
                checkers.readLines().collect { '        ' + it }.join('\n') + '\n    }\n}\n'
    }

    def 'a plugin zip is loaded, started and its keywords mapped to its extension, in a class loader of its own'() {
        given:
        TestPlugins.zip(plugins(), 'redis', ['t.redis.RedisCheck': TestPlugins.passing('t.redis', 'RedisCheck', 'REDIS_CHECK')],
                ['plugin.description': 'Redis PING'])

        when:
        def host = open(plugins())

        then:
        host.problems().isEmpty()
        host.keywords() == ['REDIS_CHECK'] as Set
        host.plugins() == [new PluginHost.PluginInfo('redis', '1.2.3', 'Test', 'Redis PING', 'STARTED', ['REDIS_CHECK'], null)]

        and: 'the extension comes from the plugin, the API from the host'
        def ext = host.checker('REDIS_CHECK').get()
        ext.pluginId() == 'redis'
        ext.extension().class.classLoader.class.simpleName == 'PluginClassLoader'
        ext.extension() instanceof HealthChecker
        HealthChecker.classLoader == this.class.classLoader
    }

    def 'two plugins claiming one keyword: neither runs it, it is an error, and a configuration using it is refused naming both'() {
        given:
        TestPlugins.zip(plugins(), 'one', ['t.one.A': TestPlugins.passing('t.one', 'A', 'SAME_CHECK')])
        TestPlugins.zip(plugins(), 'two', ['t.two.B': TestPlugins.passing('t.two', 'B', 'SAME_CHECK')])

        when:
        def host = open(plugins())
        def r = CheckerValidation.apply(load(rs('SAME_CHECK {\n}\n')), host)

        then:
        host.checker('SAME_CHECK').isEmpty()
        host.claimants('SAME_CHECK') == ['one', 'two']
        host.problems().size() == 1
        host.problems()[0].error()
        host.problems()[0].message() ==~ /checker SAME_CHECK is claimed by more than one plugin \(one, two\): none of them runs it; remove all but one from .*/

        and:
        r.errors().size() == 1
        r.errors()[0].format() ==~ /.*keepalived.conf:3:9: error: checker SAME_CHECK is claimed by more than one plugin \(one, two\); remove all but one from .*/
    }

    def 'an unknown checker keyword is a located error naming the installed ones; the parser\'s warning is replaced'() {
        given:
        TestPlugins.zip(plugins(), 'redis', ['t.redis.RedisCheck': TestPlugins.passing('t.redis', 'RedisCheck', 'REDIS_CHECK')])
        def host = open(plugins())

        when:
        def parsed = load(rs('REDIS_CHEK {\n}\nREDIS_CHECK {\n}\nFOO_CHECK {\n}\n'))
        def r = CheckerValidation.apply(parsed, host)
        String f = dir.resolve('keepalived.conf').toString()

        then: 'the parser alone only warned'
        parsed.warnings()*.message().count { it.startsWith('unknown checker') } == 3
        !parsed.hasErrors()

        and:
        r.diagnostics()*.format() == [
                "${f}:3:9: error: unknown checker \"REDIS_CHEK\" (did you mean \"REDIS_CHECK\"?); installed checkers: REDIS_CHECK".toString(),
                "${f}:7:9: error: unknown checker \"FOO_CHECK\"; installed checkers: REDIS_CHECK".toString()]
    }

    def 'a keepalived checker that no plugin provides is a warning: it does not run'() {
        given:
        def host = open(plugins())

        when:
        def r = CheckerValidation.apply(load(rs('PING_CHECK {\n}\n')), host)

        then:
        !r.hasErrors()
        r.warnings()*.message().any { it.startsWith('checker PING_CHECK is not installed (no plugin in ') && it.endsWith('provides it): it does not run, and the real server\'s state does not depend on it') }
    }

    def 'the plugin checks its own block: its problems are located diagnostics; a validate that throws is an error at the block'() {
        given:
        String validate = '''
            List<ConfigProblem> out = new ArrayList<>();
            if (block.line("password").isEmpty()) {
                out.add(ConfigProblem.error(block.location(), "REDIS_CHECK needs a password"));
            }
            block.line("db").ifPresent(l -> out.add(ConfigProblem.warning(l.locationOf(0), "db " + l.arguments().get(0) + " (expected: 0-15)")));
            return out;'''
        TestPlugins.zip(plugins(), 'redis', ['t.redis.RedisCheck': TestPlugins.checker('t.redis', 'RedisCheck', ['REDIS_CHECK'],
                'return null;', null, validate)])
        TestPlugins.zip(plugins(), 'crash', ['t.crash.Crash': TestPlugins.checker('t.crash', 'Crash', ['CRASH_CHECK'],
                'return null;', null, 'throw new IllegalStateException("no validation today");')])
        def host = open(plugins())

        when:
        def r = CheckerValidation.apply(load(rs('REDIS_CHECK {\n    db 42\n}\nCRASH_CHECK {\n}\n')), host)
        String f = dir.resolve('keepalived.conf').toString()

        then:
        r.diagnostics()*.format() == [
                "${f}:3:9: error: REDIS_CHECK needs a password".toString(),
                "${f}:4:16: warning: db 42 (expected: 0-15)".toString(),
                "${f}:6:9: error: plugin crash cannot check this CRASH_CHECK block: crash validate(CRASH_CHECK) threw IllegalStateException: no validation today".toString()]
    }

    def 'a missing plugins directory is a warning and leaves no checker installed'() {
        when:
        def host = open(dir.resolve('nowhere'))
        def r = CheckerValidation.apply(load(rs('TCP_CHEK {\n}\n')), host)

        then:
        host.keywords().isEmpty()
        host.plugins().isEmpty()
        host.problems()*.message() == ["plugins directory ${dir.resolve('nowhere')} does not exist: no checker plugin is installed".toString()]
        !host.problems()[0].error()
        r.errors()[0].message() == "unknown checker \"TCP_CHEK\"; no checker plugin is installed in ${dir.resolve('nowhere')}".toString()
    }

    def 'a plugin that fails to start is listed as FAILED with its reason; one claiming a real_server option is refused'() {
        given:
        TestPlugins.zip(plugins(), 'fails', [
                't.fails.FailingPlugin': '''
                    package t.fails;
                    public class FailingPlugin extends org.pf4j.Plugin {
                        @Override public void start() { throw new IllegalStateException("cannot start"); }
                    }''',
                't.fails.C': TestPlugins.passing('t.fails', 'C', 'FAILS_CHECK')], ['plugin.class': 't.fails.FailingPlugin'])
        TestPlugins.zip(plugins(), 'greedy', ['t.greedy.G': TestPlugins.checker('t.greedy', 'G', ['weight', 'GREEDY_CHECK', 'not a keyword'],
                'return null;')])

        when:
        def host = open(plugins())
        def failed = host.plugins().find { it.id() == 'fails' }

        then:
        failed.state() == 'FAILED'
        failed.problem() == 'IllegalStateException: cannot start'
        host.problems()*.message().contains('plugin fails failed to start: IllegalStateException: cannot start')
        !host.keywords().contains('FAILS_CHECK')

        and:
        host.keywords() == ['GREEDY_CHECK'] as Set
        host.problems()*.message().containsAll([
                'plugin greedy claims "weight", which is a real_server option; ignored',
                'plugin greedy claims "not a keyword", which is not a keyword (letters, digits and _, starting with a letter); ignored'])
    }

    def 'closing stops every started plugin and unloads them (stopPlugins() would throw a ConcurrentModificationException)'() {
        given:
        for (int i = 1; i <= 3; i++) {
            Map<String, String> sources = [:]
            sources.put("t.p${i}.C".toString(), TestPlugins.passing("t.p${i}", 'C', "P${i}_CHECK"))
            TestPlugins.zip(plugins(), "p${i}", sources)
        }
        def host = PluginHost.open(plugins())

        expect:
        host.plugins()*.state() == ['STARTED'] * 3

        when:
        host.close()

        then:
        noExceptionThrown()
        host.plugins().isEmpty()
    }

    def 'the default directory: the system property, else plugins next to the installation'() {
        expect: 'the classes of a build are in appliance/vigil-daemon/target/classes: the plugins directory is target/plugins'
        PluginHost.installedDirectory().endsWith(Path.of('vigil-daemon', 'target', 'plugins'))

        when:
        System.setProperty(PluginHost.DIR_PROPERTY, dir.toString())

        then:
        PluginHost.defaultDirectory() == dir

        cleanup:
        System.clearProperty(PluginHost.DIR_PROPERTY)
    }

    def 'global_defs vigil_plugins_dir names the directory (relative to the file); a missing one is a located error'() {
        given:
        Files.createDirectories(dir.resolve('mine'))

        when:
        def ok = load('global_defs {\n    vigil_plugins_dir mine\n}\n')
        def bad = load('global_defs {\n    vigil_plugins_dir /no/such/dir\n}\n')

        then:
        PluginHost.directory(ok.config()) == dir.resolve('mine')
        bad.errors()*.format() == ["${dir.resolve('keepalived.conf')}:2:23: error: vigil_plugins_dir /no/such/dir: no such directory".toString()]
    }
}
