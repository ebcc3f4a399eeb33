package dev.vigil.vrrp.runtime

import dev.vigil.kernel.KernelException
import dev.vigil.kernel.VirtualAddress
import dev.vigil.vrrp.fsm.VrrpState

/**
 * The router drives every instance's VIPs through the {@link VipBackends} port: bound at start
 * (the binding names the interface the channel opens on), addresses up, announced and down as the
 * machine says, released once the instance stopped and its channel closed. A binding that cannot
 * be made holds the instance in FAULT; a reload that changes the backend restarts the instance.
 */
class VipBackendSpec extends RouterSpecSupport {

    /** A backend that moves every instance onto {@code vmac.<VRID>} and records every call. */
    class Recording implements VipBackends {
        final List<String> log = []
        RouterSpecSupport.Node node
        String failBind

        @Override
        VipBinding bind(InstanceParams p) throws KernelException {
            log << "bind ${p.name()} ${p.vip().backend()}".toString()
            if (failBind != null) {
                throw new KernelException('RTM_NEWLINK', 17, failBind)
            }
            String on = "vmac.${p.vrid()}".toString()
            new VipBinding() {
                String advertInterface() { on }

                void add(VirtualAddress v) { log << "add ${v.address().hostAddress} on ${on}".toString() }

                void remove(VirtualAddress v) { log << "remove ${v.address().hostAddress} on ${on}".toString() }

                void announce(VirtualAddress v) { log << "announce ${v.address().hostAddress} on ${on}".toString() }

                void release() { log << "release ${p.name()}".toString() }
            }
        }
    }

    RouterSpecSupport.Node startWith(RouterSpecSupport.Node n, Recording backend, List<InstanceParams> params) {
        backend.node = n
        n.router = new VrrpRouter(params, [], new VrrpRouter.Ports(n.transport, n.addresses, n.advertiser, n.links, backend),
                scheduler, { n.events << it } as RouterListener)
        n.router.start()
        n
    }

    static InstanceParams.Builder vmac(int priority) {
        vi1(priority).vip(new VipSetup('vmac', [use_vmac: []]))
    }

    def 'the binding decides the advert interface and gets every address call in order; release comes last'() {
        given:
        def backend = new Recording()
        def a = startWith(node('a', '10.0.0.1'), backend, [vmac(255).build()])

        expect: 'bound before the channel opened, on the backend interface'
        backend.log.first() == 'bind VI_1 vmac'
        a.transport.openedOn() == ['vmac.51']
        a.state('VI_1') == VrrpState.MASTER

        and: 'the owner went MASTER: the VIP came up through the binding and was announced garp_master_repeat times'
        backend.log.drop(1) == ['add 10.0.0.100 on vmac.51'] + ['announce 10.0.0.100 on vmac.51'] * 5
        a.addresses.log().isEmpty()
        a.advertiser.log().isEmpty()

        when:
        backend.log.clear()
        a.router.shutdown(java.time.Duration.ofSeconds(1))

        then: 'down through the binding, then released'
        backend.log == ['remove 10.0.0.100 on vmac.51', 'release VI_1']
        a.counters('VI_1').priorityZeroSent() == 1
    }

    def 'a binding that cannot be made holds the instance in FAULT with the reason'() {
        given:
        def backend = new Recording(failBind: 'File exists')

        when:
        def a = startWith(node('a', '10.0.0.1'), backend, [vmac(255).build()])

        then:
        a.state('VI_1') == VrrpState.FAULT
        a.lines().any { it.contains('VIP backend vmac') && it.contains('File exists') }
        a.counters('VI_1').kernelErrors() == 1
        !backend.log.any { it.startsWith('add') }
    }

    def 'a reload that changes the backend restarts the instance: the old binding is released before the new one is made'() {
        given:
        def backend = new Recording()
        def a = startWith(node('a', '10.0.0.1'), backend, [vmac(255).build()])
        backend.log.clear()

        when:
        def report = a.router.reconfigure([vi1(255).vip(new VipSetup('other', [:])).build()], [])

        then:
        report.restarted() == ['VI_1']
        report.changed()['VI_1'].any { it.startsWith('VIP backend') }
        backend.log[0] == 'remove 10.0.0.100 on vmac.51'
        backend.log[1] == 'release VI_1'
        backend.log[2] == 'bind VI_1 other'
        backend.log.drop(3).first() == 'add 10.0.0.100 on vmac.51'
        a.state('VI_1') == VrrpState.MASTER
    }

    def 'without a backend port the addresses go to the address manager and the advertiser, as before'() {
        given:
        def a = node('a', '10.0.0.1').start([vi1(255).build()])

        expect:
        a.state('VI_1') == VrrpState.MASTER
        a.transport.openedOn() == ['eth0']
        a.addresses.has('eth0', VIP1.address())
        a.advertiser.log() == ['garp eth0 10.0.0.100'] * 5
    }
}
