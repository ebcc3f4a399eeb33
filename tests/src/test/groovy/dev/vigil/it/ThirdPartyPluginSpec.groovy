package dev.vigil.it

import groovy.json.JsonSlurper
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * A third party's checker installed by an operator: the example {@code REDIS_CHECK} plugin
 * (plugins/examples/redis-check), whose zip the reactor builds but does not install, is copied
 * into a plugins directory of its own beside the built-in plugins and named by
 * {@code global_defs vigil_plugins_dir}. {@code vigil check} and {@code vigil plugins --dir} see it,
 * and a daemon uses it to check real Redis servers (Debian's {@code redis-server}) behind a VIP
 * (NAT, nftables backend):
 *
 * <pre>
 *   cl 10.93.0.2 --br0-- 10.93.0.1 lb (VIP 10.93.0.100) 10.93.1.1 --br1-- r1 10.93.1.11:6379
 *                                                                     `-- r2 10.93.1.12:6379
 * </pre>
 *
 * r2's Redis is stopped: its REDIS_CHECK fails and r2 leaves the forwarder; started again, it is
 * back after rise passed checks.
 */
@Stepwise
class ThirdPartyPluginSpec extends Specification {

    static final String VIP = '10.93.0.100'
    static final String PASSWORD = 'vigil-example-secret'
    static final String R2 = '[10.93.1.12]:6379 of [10.93.0.100]:tcp:6379'
    static final int RISE = 2

    /** The example's zip, as the reactor built it (tests/pom.xml names it). */
    @Shared Path zip = Path.of(System.getProperty('vigil.exampleZip', 'unset'))
    /** The built-in plugins of this build (appliance/vigil-daemon/target/plugins). */
    @Shared Path builtIn = Path.of(System.getenv('VIGIL_PLUGINS_DIR') ?: 'unset')
    /** Built-in plugins plus the example: the operator's plugins directory. */
    @Shared Path plugins
    /** Built-in plugins alone. */
    @Shared Path withoutExample
    @Shared Path work

    @Shared NetnsLab lab
    @Shared VigilNode node
    @Shared Process r2Redis

    def setupSpec() {
        assert Files.isRegularFile(zip): "the reactor did not build the example's zip (${zip})"
        assert Files.isDirectory(builtIn): "no built-in plugins in ${builtIn}"
        work = Files.createTempDirectory('vigil-third-party-')
        plugins = Files.createDirectories(work.resolve('plugins'))
        withoutExample = Files.createDirectories(work.resolve('builtin-only'))
        Files.list(builtIn).withCloseable { s ->
            s.filter { it.fileName.toString().endsWith('.zip') }.forEach { z ->
                Files.copy(z, plugins.resolve(z.fileName))
                Files.copy(z, withoutExample.resolve(z.fileName))
            }
        }
        Files.copy(zip, plugins.resolve(zip.fileName))
    }

    def cleanupSpec() {
        if (node?.process?.alive) {
            node.signal('KILL')
        }
        lab?.close()
        work?.toFile()?.deleteDir()
    }

    static String checker(String extra = '') {
        """\
                REDIS_CHECK {
                    password ${PASSWORD}
                    expect +PONG${extra}
                    connect_timeout 1
                    delay_loop 1
                    retry 1
                    delay_before_retry 1
                    rise ${RISE}
                }"""
    }

    static String config(Path pluginsDir, String checkerText = checker()) {
        """\
        global_defs {
            router_id lb
            vigil_forwarder nftables
            vigil_plugins_dir ${pluginsDir}
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 93
            priority 255
            advert_int 1
            virtual_ipaddress {
                ${VIP}
            }
        }
        virtual_server ${VIP} 6379 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.93.1.11 6379 {
        ${checkerText}
            }
            real_server 10.93.1.12 6379 {
        ${checkerText}
            }
        }
        """.stripIndent()
    }

    /** The command {@code vigil ARGS} outside any namespace, from the work directory. */
    Map vigil(String... args) {
        NetnsLab.capture(NetnsLab.vigilCommand(args), work.toFile())
    }

    /** The command {@code vigil ARGS} in the director's namespace, talking to its daemon. */
    Map vigilOnLb(String... args) {
        lab.vigil('lb', args)
    }

    Path write(String name, String text) {
        Files.writeString(work.resolve(name), text)
    }

    /** The 1-based line and column of the first {@code word} in {@code text} that comes after {@code after}. */
    static String at(String text, String word, String after = '') {
        int from = text.indexOf(after)
        int i = text.indexOf(word, from)
        List<String> before = text.substring(0, i).split('\n', -1) as List
        "${before.size()}:${before.last().length() + 1}"
    }

    def 'vigil plugins --dir lists the example beside the built-in plugins, with its keyword'() {
        when:
        def r = vigil('plugins', '--dir', plugins.toString())
        List<String> rows = r.out.readLines()

        then:
        r.exit == 0
        rows[0] == "plugins directory: ${plugins}".toString()
        rows.find { it.startsWith('redis-check ') } ==~ /redis-check\s+0\.1\.0-SNAPSHOT\s+Example\s+STARTED\s+REDIS_CHECK/
        rows.find { it.startsWith('check-tcp ') } ==~ /check-tcp\s+\S+\s+Vigil\s+STARTED\s+TCP_CHECK/

        when: 'the built-in plugins alone'
        def without = vigil('plugins', '--dir', withoutExample.toString())

        then:
        without.exit == 0
        !without.out.contains('redis-check')
        !without.out.contains('REDIS_CHECK')
    }

    def 'vigil check accepts REDIS_CHECK from vigil_plugins_dir; without the zip it is a located error naming the installed checkers'() {
        given:
        String text = config(plugins)
        write('redis.conf', text)
        write('builtin-only.conf', config(withoutExample))

        when:
        def ok = vigil('check', '-f', 'redis.conf')

        then:
        ok.exit == 0
        ok.out.readLines().findAll { it }.empty

        when:
        def missing = vigil('check', '-f', 'builtin-only.conf')
        List<String> errors = missing.out.readLines().findAll { it.contains(': error: ') }

        then: 'one error per REDIS_CHECK block, at its keyword, naming what is installed'
        missing.exit == 1
        errors.size() == 2
        errors[0].startsWith("builtin-only.conf:${at(text, 'REDIS_CHECK')}: error: unknown checker \"REDIS_CHECK\"")
        errors.every { it.contains('installed checkers: ') && it.contains('TCP_CHECK') && !it.contains('REDIS_CHECK,') }
    }

    def 'the plugin checks its own keywords: each mistake is an error at the word it is about'() {
        given:
        String text = config(plugins, '''\
                REDIS_CHECK {
                    password
                    expect PONG
                    conect_timeout 1
                }''')
        write('broken.conf', text)

        when:
        def r = vigil('check', '-f', 'broken.conf')
        List<String> lines = r.out.readLines().findAll { it }

        then:
        r.exit == 1
        lines.contains("broken.conf:${at(text, 'password')}: error: password takes one argument, none given (expected: password SECRET; quote a value with spaces)".toString())
        lines.contains("broken.conf:${at(text, 'PONG')}: error: expect \"PONG\" (expected: a RESP simple string or error line of printable ASCII, at most 512 characters, such as +PONG or \"-LOADING Redis is loading\")".toString())
        lines.contains("broken.conf:${at(text, 'conect_timeout')}: warning: unknown keyword \"conect_timeout\" in REDIS_CHECK is ignored (expected: password, expect or an option every checker takes)".toString())
    }

    // --- a daemon checking real Redis servers ----------------------------------------------------

    static boolean redisUsable() {
        if (!NetnsLab.usable()) {
            return false
        }
        if (['redis-server', 'redis-cli'].every { Files.isExecutable(Path.of('/usr/bin', it)) }) {
            return true
        }
        System.err.println('*** SKIPPING the REDIS_CHECK daemon features: Debian\'s redis-server is not installed ***')
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException('vigil.requireNetns is set but redis-server is not installed')
        }
        false
    }

    /** Starts the Redis server of {@code host} on {@code ip}:6379, with a password, and waits until it answers. */
    Process redis(String host, String ip) {
        Process p = lab.spawn(host, lab.dir.resolve("${host}-redis.log"), ['/usr/bin/redis-server', '--bind', ip,
                '--port', '6379', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
                '--dir', lab.dir.toString(), '--dbfilename', "${host}.rdb".toString(), '--protected-mode', 'no'])
        NetnsLab.waitFor(Duration.ofSeconds(20), "Redis on ${ip}:6379") {
            NetnsLab.capture(['ip', 'netns', 'exec', lab.ns(host), 'redis-cli', '-h', ip, '-a', PASSWORD, '--no-auth-warning',
                              'ping']).out.trim() == 'PONG'
        }
        p
    }

    Map status() {
        new JsonSlurper().parseText(vigilOnLb('status').out as String) as Map
    }

    /** The time stamp of the first log line after {@code after} that contains {@code fragment}. */
    Instant awaitLog(String fragment, Instant after, Duration timeout = Duration.ofSeconds(20)) {
        Instant found = null
        NetnsLab.waitFor(timeout, "log line '${fragment}'\n--- log:\n${-> node.logText()}") {
            String line = node.logText().readLines().find { it.contains(fragment) && Instant.parse(it.split(' ')[0]) >= after }
            found = line ? Instant.parse(line.split(' ')[0]) : null
            found != null
        }
        found
    }

    /** What a client gets from the VIP: Redis's answer to an authenticated PING, through the forwarder. */
    String pingThroughVip() {
        lab.exec('cl', 'redis-cli', '-h', VIP, '-a', PASSWORD, '--no-auth-warning', 'ping').trim()
    }

    @Requires({ ThirdPartyPluginSpec.redisUsable() })
    def 'a daemon loads the example from vigil_plugins_dir and checks two real Redis servers: both up'() {
        given:
        lab = new NetnsLab()
                .host('cl', '10.93.0.2/24')
                .host('lb', '10.93.0.1/24')
                .attach('lb', 'eth1', '10.93.1.1/24', 'br1')
                .host('r1', '10.93.1.11/24', 'br1')
                .host('r2', '10.93.1.12/24', 'br1')
        lab.exec('lb', 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        ['r1', 'r2'].each { lab.exec(it, 'ip', 'route', 'add', 'default', 'via', '10.93.1.1') }
        redis('r1', '10.93.1.11')
        r2Redis = redis('r2', '10.93.1.12')

        when:
        node = new VigilNode(lab, 'lb', config(plugins)).start()
        node.awaitTransition('VI_1', 'MASTER', Duration.ofSeconds(30))
        awaitLog('forwarder: applied 1 service added, 2 real servers added', Instant.EPOCH)
        NetnsLab.waitFor(Duration.ofSeconds(10), 'both checkers probed') {
            status().checks?.realServers?.values()?.every { it.checkers[0].passes >= 1 }
        }
        def loaded = vigilOnLb('plugins')
        def checks = status().checks

        then:
        loaded.exit == 0
        loaded.out.readLines().find { it.startsWith('redis-check ') } ==~ /redis-check\s+0\.1\.0-SNAPSHOT\s+Example\s+STARTED\s+REDIS_CHECK/
        checks.realServers.keySet() == ['[10.93.1.11]:6379 of [10.93.0.100]:tcp:6379', R2] as Set
        checks.realServers.values().every {
            it.state == 'UP' && it.checkers[0].checker == 'REDIS_CHECK' && it.checkers[0].lastStatus == 'L7OK'
        }
        vigilOnLb('services').out.contains('10.93.1.12:6379')
        pingThroughVip() == 'PONG'
    }

    @Requires({ ThirdPartyPluginSpec.redisUsable() })
    def 'r2\'s Redis stops: REDIS_CHECK fails and r2 leaves vigil services'() {
        when:
        Instant stoppedAt = Instant.now()
        r2Redis.destroy()
        r2Redis.waitFor()
        awaitLog('forwarder: applied 1 real server removed (real server state)', stoppedAt)

        then:
        node.logText().contains("checks: ${R2}: REDIS_CHECK down after 2 attempts: L4CON connection refused (10.93.1.12:6379)")
        !vigilOnLb('services').out.contains('10.93.1.12')
        vigilOnLb('services').out.contains('10.93.1.11:6379')
        status().checks.realServers[R2].state == 'DOWN'
        (1..6).collect { pingThroughVip() }.every { it == 'PONG' }
    }

    @Requires({ ThirdPartyPluginSpec.redisUsable() })
    def 'r2\'s Redis starts again: after rise passed checks it is back'() {
        when:
        Instant restartedAt = Instant.now()
        r2Redis = redis('r2', '10.93.1.12')
        awaitLog('forwarder: applied 1 real server added (real server state)', restartedAt)

        then:
        node.logText().contains("checks: ${R2}: REDIS_CHECK up after ${RISE} passed checks: L7OK PING answered +PONG by 10.93.1.12:6379")
        vigilOnLb('services').out.contains('10.93.1.12:6379')
        status().checks.realServers[R2].state == 'UP'
    }

    @Requires({ ThirdPartyPluginSpec.redisUsable() })
    def 'SIGTERM stops the daemon and its checks'() {
        when:
        node.signal('TERM')

        then:
        node.awaitExit(Duration.ofSeconds(15)) == 0
    }
}
