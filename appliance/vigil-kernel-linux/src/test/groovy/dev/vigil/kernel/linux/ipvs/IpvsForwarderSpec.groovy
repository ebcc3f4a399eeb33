package dev.vigil.kernel.linux.ipvs

import static dev.vigil.kernel.linux.TwoHosts.sh
import dev.vigil.kernel.forward.Forwarder
import dev.vigil.kernel.forward.ForwarderContractSpec
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ThreadLocalRandom

/**
 * The forwarder contract against the kernel's real IPVS, each feature in a fresh network namespace
 * (IPVS tables are per namespace) with its own ownership file. Runs only where the IPVS
 * generic-netlink family resolves, as root, with ipvsadm for the foreign rule (the qemu guest).
 */
@Requires(value = { IpvsForwarderSpec.usable() }, reason = 'needs root, iproute2, ipvsadm and a kernel with ip_vs loaded')
class IpvsForwarderSpec extends ForwarderContractSpec {
    final String ns = "vipvs-${Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff))}"
    Path dir = Files.createTempDirectory('vigil-ipvs')

    static boolean usable() {
        String reason = null
        def uid = new File('/proc/self/status').readLines().find { it.startsWith('Uid:') }?.split(/\s+/)?.getAt(1)
        if (uid != '0') {
            reason = 'not root'
        } else if (!IpvsForwarder.available()) {
            reason = 'the IPVS generic-netlink family does not resolve (no ip_vs in this kernel; run it in tests/qemu)'
        } else if (!['/usr/sbin/ipvsadm', '/sbin/ipvsadm'].any { new File(it).canExecute() }) {
            reason = 'ipvsadm is missing'
        }
        if (reason == null) {
            return true
        }
        System.err.println("*** SKIPPING IPVS forwarder spec: ${reason} ***")
        false
    }

    def setup() {
        sh('ip', 'netns', 'add', ns)
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
    }

    def cleanup() {
        new ProcessBuilder('ip', 'netns', 'del', ns).start().waitFor()
        dir.toFile().deleteDir()
    }

    @Override
    Forwarder newForwarder() { IpvsForwarder.inNamespace(ns, dir.resolve('ipvs-services')) }

    @Override
    void plantForeignRule() {
        sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-A', '-t', '192.0.2.99:443', '-s', 'lc')
        sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-a', '-t', '192.0.2.99:443', '-r', '198.51.100.99:443', '-m', '-w', '7')
    }

    @Override
    boolean foreignRuleIntact() {
        def out = sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-Ln')
        out.contains('TCP  192.0.2.99:443 lc') && out =~ /198\.51\.100\.99:443\s+Masq\s+7/
    }

    @Override
    Forwarder.FlushScope flushScope() { Forwarder.FlushScope.EVERYTHING }

    def "foreign services the port cannot describe are passed over, not fatal"() {
        given: 'someone else persists by a mask that is no prefix, and marks beyond 2^31 (ipvsadm and the kernel accept both)'
        sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-A', '-t', '192.0.2.98:80', '-s', 'rr', '-p', '60', '-M', '255.0.255.0')
        sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-A', '-f', '4294967295', '-s', 'rr')
        def f = forwarder()

        expect:
        f.current().isEmpty()

        when:
        f.apply(twoServices())

        then:
        f.current() == twoServices()
        f.stats().services().keySet() == twoServices().services().keySet()
        // ipvsadm 1.31 prints the u32 mark as a signed int.
        sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-Sn').readLines().containsAll(
                ['-A -t 192.0.2.98:80 -s rr -p 60 -M 255.0.255.0', '-A -f -1 -s rr'])
    }
}
