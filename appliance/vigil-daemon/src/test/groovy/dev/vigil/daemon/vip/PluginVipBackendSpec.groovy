package dev.vigil.daemon.vip

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.daemon.InstanceMapperAccess
import dev.vigil.daemon.plugin.PluginHost
import dev.vigil.daemon.plugin.TestPlugins
import dev.vigil.kernel.LinkManager
import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.fsm.VrrpState
import dev.vigil.vrrp.runtime.ExecutorScheduler
import dev.vigil.vrrp.runtime.InstanceParams
import dev.vigil.vrrp.runtime.RouterEvent
import dev.vigil.vrrp.runtime.RouterListener
import dev.vigil.vrrp.runtime.VipSetup
import dev.vigil.vrrp.runtime.VrrpRouter
import dev.vigil.vrrp.testkit.FakeAddressManager
import dev.vigil.vrrp.testkit.FakeLinkMonitor
import dev.vigil.vrrp.testkit.FakeNeighbourAdvertiser
import dev.vigil.vrrp.testkit.FakeSegment
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * A third party's VIP backend, compiled and zipped like any plugin and loaded by the real
 * {@link PluginHost}, selected by {@code vigil_vip_backend record FILE}: run by a real router on
 * its engine thread, it records every call to a file while delegating to the host's address
 * service. Its calls run in order on the instance's own worker, never on the engine thread; a
 * backend that blocks does not hold the engine up; an unknown backend name is a located error
 * naming the installed ones.
 */
class PluginVipBackendSpec extends Specification {

    @TempDir
    Path dir

    static final VirtualAddress VIP = new VirtualAddress(InetAddress.getByName('10.0.0.100'), 24, 'eth0', null, null, 0)

    static String recorder(String upDelay = '') {
        '''\
        package t.vip;

        import dev.vigil.api.*;
        import java.nio.file.*;
        import java.util.*;

        @org.pf4j.Extension
        public class Record implements VipBackend {
            public Set<String> names() { return Set.of("record"); }

            public Attachment attach(VipInstance i, VipContext ctx) throws Exception {
                Path log = Path.of(i.options().get("vigil_vip_backend").get(1));
                write(log, "attach " + i.name() + " vrid " + i.vrid() + " " + i.ifname() + " on " + Thread.currentThread().getName());
                return new Attachment() {
                    public void up(VipAddress a) throws Exception { UP_DELAY ctx.addAddress(a); write(log, "up " + a); }
                    public void down(VipAddress a) throws Exception { ctx.removeAddress(a); write(log, "down " + a); }
                    public void announce(VipAddress a) throws Exception { write(log, "announce " + a); }
                    public void detach() throws Exception { write(log, "detach on " + Thread.currentThread().getName()); }
                };
            }

            static synchronized void write(Path p, String line) throws Exception {
                Files.writeString(p, line + "\\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        }
        '''.stripIndent().replace('UP_DELAY', upDelay)
    }

    PluginHost host
    VipHost vips
    ExecutorScheduler scheduler
    VrrpRouter router
    final FakeAddressManager addresses = new FakeAddressManager()
    final List<RouterEvent> events = new CopyOnWriteArrayList<>()

    def cleanup() {
        router?.shutdown(Duration.ofSeconds(5))
        vips?.close()
        scheduler?.close()
        host?.close()
    }

    void start(String source, Path log) {
        TestPlugins.zip(dir.resolve('plugins'), 'vip-record', ['t.vip.Record': source])
        host = PluginHost.open(dir.resolve('plugins'))
        assert host.problems().isEmpty()
        assert host.vipBackends().keySet() == ['record'] as Set
        def kernel = new HostVipContext.Kernel(addresses, new FakeNeighbourAdvertiser(), [:] as LinkManager,
                { Optional.empty() } as HostVipContext.LinkLocals)
        vips = new VipHost(kernel, host.vipBackends())
        def params = InstanceParams.builder('VI_1', 51, 'eth0').priority(255).vip(VIP)
                .vip(new VipSetup('record', [vigil_vip_backend: ['record', log.toString()]])).build()
        vips.prepare([params])
        scheduler = new ExecutorScheduler('test-engine')
        def segment = new FakeSegment()
        router = new VrrpRouter([params], new VrrpRouter.Ports(segment.node('a', InetAddress.getByName('10.0.0.1')),
                addresses, new FakeNeighbourAdvertiser(), new FakeLinkMonitor('eth0'), vips), scheduler,
                { events << it } as RouterListener)
        router.start()
    }

    static List<String> lines(Path log) {
        Files.exists(log) ? Files.readAllLines(log) : []
    }

    static void waitFor(String what, Closure<Boolean> condition) {
        long deadline = System.nanoTime() + 10_000_000_000L
        while (!condition()) {
            assert System.nanoTime() < deadline: "timed out waiting for ${what}"
            Thread.sleep(10)
        }
    }

    def 'the plugin backend is attached, brings the VIP up through the host, and is detached at shutdown, all on its worker'() {
        given:
        Path log = dir.resolve('calls.txt')

        when:
        start(recorder(), log)
        waitFor('up and 5 announcements') { lines(log).count { it.startsWith('announce') } == 5 }

        then: 'attach on the instance worker, then up (delegated to the host address service), then garp_master_repeat announcements'
        router.status('VI_1').state() == VrrpState.MASTER
        lines(log)[0] == 'attach VI_1 vrid 51 eth0 on vip VI_1'
        lines(log)[1] == 'up 10.0.0.100/24 dev eth0'
        lines(log).drop(2) == ['announce 10.0.0.100/24 dev eth0'] * 5
        addresses.has('eth0', VIP.address())

        when:
        router.shutdown(Duration.ofSeconds(5))
        vips.close()

        then: 'down through the host, then detach, after everything queued before'
        lines(log).drop(7) == ['down 10.0.0.100/24 dev eth0', 'detach on vip VI_1']
        !addresses.has('eth0', VIP.address())
        vips.failures() == 0
    }

    def 'a backend that blocks in up holds up only its own worker: the engine goes on advertising'() {
        given:
        Path log = dir.resolve('calls.txt')

        when: 'up sleeps 3 s'
        start(recorder('Thread.sleep(3000);'), log)
        long t0 = System.nanoTime()
        def sentBefore = router.counters('VI_1').advertsSent()
        Thread.sleep(1500)

        then: 'MASTER at once; adverts went on while up was still blocked'
        router.status('VI_1').state() == VrrpState.MASTER
        !lines(log).any { it.startsWith('up') }
        router.counters('VI_1').advertsSent() > sentBefore
        (System.nanoTime() - t0) < 3_000_000_000L

        and: 'the address came up when the backend returned'
        waitFor('up') { lines(log).any { it.startsWith('up') } }
        addresses.has('eth0', VIP.address())
    }

    def 'an unknown backend name is a located error naming the installed backends'() {
        given:
        Path conf = dir.resolve('k.conf')
        Files.writeString(conf, '''\
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                vigil_vip_backend bgp
                virtual_ipaddress {
                    10.0.0.100/24
                }
            }
            '''.stripIndent())

        when:
        def mapped = InstanceMapperAccess.map(ConfigLoader.load(conf, LoadOptions.defaults()).config(), ['netlink', 'vmac', 'record'] as Set)

        then:
        mapped.instances.isEmpty()
        mapped.errors.size() == 1
        mapped.errors[0].contains('k.conf:1:1')
        mapped.errors[0].contains('vigil_vip_backend bgp: no such VIP backend (installed: netlink, record, vmac)')
    }

    def 'use_vmac selects the vmac backend with its name and options; nothing names netlink'() {
        given:
        Path conf = dir.resolve('k.conf')
        Files.writeString(conf, '''\
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                use_vmac vmac51
                vmac_xmit_base
                virtual_ipaddress {
                    10.0.0.100/24
                }
            }
            vrrp_instance VI_2 {
                interface eth0
                virtual_router_id 52
                virtual_ipaddress {
                    10.0.0.200/24
                }
            }
            '''.stripIndent())

        when:
        def mapped = InstanceMapperAccess.map(ConfigLoader.load(conf, LoadOptions.defaults()).config(), ['netlink', 'vmac'] as Set)

        then:
        mapped.errors.isEmpty()
        mapped.instances[0].vip() == new VipSetup('vmac', [use_vmac: ['vmac51'], vmac_xmit_base: []])
        mapped.instances[1].vip() == VipSetup.DEFAULT
        !mapped.warnings.any { it.contains('use_vmac') }
    }
}
