package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.AddressFamily
import dev.vigil.kernel.forward.DesiredState
import dev.vigil.kernel.forward.Destination
import dev.vigil.kernel.forward.ForwardingMethod
import dev.vigil.kernel.forward.Protocol
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey

/**
 * What ipvsadm (v1.31) prints for a desired state, rendered from the forwarder port's records
 * without the IPVS codec, so that a listing read from the kernel can be compared with the state
 * that was applied. Formats as in ipvsadm.8: {@code --save} writes one rule per line
 * ({@code -A -t 192.0.2.10:80 -s wrr -p 300 -M 255.255.255.0 -o -b sh-port}, then
 * {@code -a -t ... -r 198.51.100.1:8080 -m -w 3}); {@code --list} writes a service line
 * ({@code TCP  192.0.2.10:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0 ops}) and
 * one {@code -> address:port Forward Weight ActiveConn InActConn} line per destination. A
 * persistence mask is printed only for persistent services and only when it is not the full
 * address; addresses are printed as inet_ntop does (RFC 5952 for IPv6).
 */
final class IpvsadmFormat {
    private IpvsadmFormat() {
    }

    /** The {@code ipvsadm -Sn} lines for {@code state}, sorted; with thresholds ({@code -x}/{@code -y}) for {@code -R}. */
    static List<String> rules(DesiredState state, boolean withThresholds) {
        List<String> lines = []
        state.services().values().each { vs ->
            Service s = vs.service()
            String spec = serviceSpec(s.key())
            def line = new StringBuilder("-A ${spec} -s ${s.scheduler()}")
            if (s.persistenceTimeout() > 0) {
                line << " -p ${s.persistenceTimeout()}"
                String mask = mask(s)
                if (mask != null) {
                    line << " -M ${mask}"
                }
            }
            if (s.flags().contains('ops')) {
                line << ' -o'
            }
            if (schedulerFlags(s)) {
                line << " -b ${schedulerFlags(s).join(',')}"
            }
            lines << line.toString()
            vs.destinations().values().each { Destination d ->
                def dl = new StringBuilder("-a ${spec} -r ${hostPort(d.address(), d.port())} ${option(d.method())} -w ${d.weight()}")
                if (d.method() == ForwardingMethod.TUN) {
                    dl << ' --tun-type ipip'
                }
                if (withThresholds && d.upperThreshold() > 0) {
                    dl << " -x ${d.upperThreshold()}"
                }
                if (withThresholds && d.lowerThreshold() > 0) {
                    dl << " -y ${d.lowerThreshold()}"
                }
                lines << dl.toString()
            }
        }
        lines.sort()
    }

    /** {@code ipvsadm -Ln} for {@code state}: service line to its sorted destination lines, spaces normalised. */
    static Map<String, List<String>> listing(DesiredState state) {
        columns(state) { Destination d -> "${forward(d.method())} ${d.weight()}" }
    }

    /** {@code ipvsadm -Ln --thresholds} for {@code state}, in the shape of {@link #listing}. */
    static Map<String, List<String>> thresholds(DesiredState state) {
        columns(state) { Destination d -> "${d.upperThreshold()} ${d.lowerThreshold()}" }
    }

    private static Map<String, List<String>> columns(DesiredState state, Closure<String> columns) {
        Map<String, List<String>> out = new TreeMap<>()
        state.services().values().each { vs ->
            // No traffic in these listings: ActiveConn and InActConn are 0.
            out[header(vs.service())] = vs.destinations().values().collect { Destination d ->
                "-> ${hostPort(d.address(), d.port())} ${columns(d)} 0 0".toString()
            }.sort()
        }
        out
    }

    /** Parses an {@code ipvsadm -Ln} listing (with or without {@code --thresholds}) into the shape of {@link #listing}. */
    static Map<String, List<String>> parseListing(String text) {
        Map<String, List<String>> out = new TreeMap<>()
        List<String> current = null
        text.readLines().each { String raw ->
            String l = raw.trim().split(/\s+/).join(' ')
            if (!l || l.startsWith('IP Virtual Server') || l.startsWith('Prot ') || l.startsWith('-> RemoteAddress')) {
                return
            }
            if (l.startsWith('-> ')) {
                if (current == null) {
                    throw new IllegalArgumentException("destination before any service: ${raw}")
                }
                current << l
            } else {
                current = []
                out[l] = current
            }
        }
        out.each { k, v -> v.sort() }
        out
    }

    static String header(Service s) {
        ServiceKey k = s.key()
        def h = new StringBuilder()
        if (k.isFwmark()) {
            h << "FWM ${k.fwmark()}" << (k.family() == AddressFamily.INET6 ? ' IPv6' : '')
        } else {
            h << "${k.protocol().name()} ${hostPort(k.address(), k.port())}"
        }
        h << " ${s.scheduler()}"
        if (schedulerFlags(s)) {
            h << " (${schedulerFlags(s).join(',')})"
        }
        if (s.persistenceTimeout() > 0) {
            h << " persistent ${s.persistenceTimeout()}"
            String mask = mask(s)
            if (mask != null) {
                h << " mask ${mask}"
            }
        }
        if (s.flags().contains('ops')) {
            h << ' ops'
        }
        h.toString()
    }

    private static String serviceSpec(ServiceKey k) {
        if (k.isFwmark()) {
            return "-f ${k.fwmark()}" + (k.family() == AddressFamily.INET6 ? ' -6' : '')
        }
        String option = [(Protocol.TCP): '-t', (Protocol.UDP): '-u', (Protocol.SCTP): '--sctp-service'][k.protocol()]
        "${option} ${hostPort(k.address(), k.port())}"
    }

    /** The scheduler flags in bit order (flag-1/-fallback, flag-2/-port, flag-3), as ipvsadm names them. */
    private static List<String> schedulerFlags(Service s) {
        s.flags().findAll { it != 'ops' }.sort { a, b -> bit(a) <=> bit(b) }
    }

    private static int bit(String flag) {
        flag.endsWith('fallback') || flag == 'flag-1' ? 1 : flag.endsWith('port') || flag == 'flag-2' ? 2 : 3
    }

    /** The persistence mask ipvsadm prints, or null for a full one (which it leaves out). */
    private static String mask(Service s) {
        if (s.key().family() == AddressFamily.INET6) {
            return s.persistencePrefix() == 128 ? null : Integer.toString(s.persistencePrefix())
        }
        if (s.persistencePrefix() == 32) {
            return null
        }
        long m = s.persistencePrefix() == 0 ? 0 : (0xffffffffL << (32 - s.persistencePrefix())) & 0xffffffffL
        [24, 16, 8, 0].collect { (m >> it) & 0xff }.join('.')
    }

    /** The Forward column of a listing. */
    private static String forward(ForwardingMethod m) {
        [(ForwardingMethod.NAT): 'Masq', (ForwardingMethod.DR): 'Route', (ForwardingMethod.TUN): 'Tunnel'][m]
    }

    /** The rule option of a forwarding method: masquerading, gatewaying, ipip. */
    private static String option(ForwardingMethod m) {
        [(ForwardingMethod.NAT): '-m', (ForwardingMethod.DR): '-g', (ForwardingMethod.TUN): '-i'][m]
    }

    static String hostPort(InetAddress a, int port) {
        a instanceof Inet6Address ? "[${text(a)}]:${port}" : "${text(a)}:${port}"
    }

    /** An address as inet_ntop prints it: dotted quad, or RFC 5952 §4 for IPv6 (lower case, longest zero run as ::). */
    static String text(InetAddress a) {
        if (a instanceof Inet4Address) {
            return a.hostAddress
        }
        byte[] b = a.address
        int[] g = (0..<8).collect { ((b[it * 2] & 0xff) << 8) | (b[it * 2 + 1] & 0xff) } as int[]
        int bestStart = -1, bestLen = 0
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++
                continue
            }
            int j = i
            while (j < 8 && g[j] == 0) {
                j++
            }
            if (j - i > bestLen) {
                bestStart = i
                bestLen = j - i
            }
            i = j
        }
        // §4.2.2: a single zero group is not shortened.
        if (bestLen < 2) {
            return g.collect { Integer.toHexString(it) }.join(':')
        }
        String head = (0..<bestStart).collect { Integer.toHexString(g[it]) }.join(':')
        String tail = ((bestStart + bestLen)..<8).collect { Integer.toHexString(g[it]) }.join(':')
        "${head}::${tail}"
    }
}
