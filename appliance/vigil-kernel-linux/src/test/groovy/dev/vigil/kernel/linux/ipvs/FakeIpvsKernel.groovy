package dev.vigil.kernel.linux.ipvs

import dev.vigil.kernel.KernelException
import dev.vigil.kernel.forward.Service
import dev.vigil.kernel.forward.ServiceKey
import dev.vigil.kernel.forward.VirtualService
import dev.vigil.kernel.linux.Netlink

/**
 * A stand-in for the kernel's IPVS generic-netlink family that decodes the forwarder's requests
 * with the codec's own reply parsers (a request's nested service and destination have the reply's
 * layout) and answers dumps in the same form. It records every command and can fail one.
 */
class FakeIpvsKernel {
    static final int FAMILY = 0x22
    final Map<ServiceKey, VirtualService> services = new TreeMap<>()
    final List<Integer> commands = []
    boolean familyRegistered = true
    /** The command to fail with {@link #failErrno}, once, or 0. */
    int failCommand
    int failErrno = 22

    IpvsForwarder.Channel channel() {
        new FakeChannel(kernel: this)
    }

    IpvsForwarder forwarder(java.nio.file.Path registry) {
        new IpvsForwarder(channel(), registry)
    }

    private static Netlink.Message asMessage(byte[] bytes) {
        new Netlink.Message(FAMILY, 0, 0, 0, bytes[16..-1] as byte[])
    }

    private static byte[] nested(Netlink.Message m, int type) {
        m.attributes(4).bytes(type)
    }

    private ServiceKey keyOf(Netlink.Message m) {
        def wanted = nested(m, IpvsCodec.CMD_ATTR_SERVICE)
        services.keySet().find { k -> nested(asMessage(IpvsCodec.delService(FAMILY, k).build(0)), IpvsCodec.CMD_ATTR_SERVICE) == wanted }
    }

    /** The service a request names, or {@code null} when the kernel holds none such. */
    private VirtualService serviceOf(Netlink.Message m) {
        def k = keyOf(m)
        k == null ? null : services[k]
    }

    synchronized List<Netlink.Message> handle(String call, Netlink.Builder builder, String context) {
        byte[] bytes = builder.build(1)
        if (builder.type() == IpvsCodec.GENL_ID_CTRL) {
            if (!familyRegistered) {
                throw new KernelException(call, 2, 'No such file or directory')
            }
            return [new Netlink.Message(IpvsCodec.GENL_ID_CTRL, 0, 1, 0,
                    ([1, 2, 0, 0, 6, 0, 1, 0, FAMILY, 0, 0, 0] as byte[]))]
        }
        assert builder.type() == FAMILY
        int cmd = bytes[16]
        commands << cmd
        if (cmd == failCommand) {
            failCommand = 0
            throw new KernelException(call, failErrno, 'Invalid argument: ' + context)
        }
        def m = asMessage(bytes)
        switch (cmd) {
            case IpvsCodec.CMD_FLUSH:
                services.clear()
                return []
            case IpvsCodec.CMD_GET_SERVICE:
                return services.values().collect { asMessage(IpvsCodec.newService(FAMILY, it.service()).build(0)) }
            case IpvsCodec.CMD_GET_DEST:
                def vs = serviceOf(m)
                if (vs == null) throw new KernelException(call, 3, 'No such process')
                return vs.destinations().values().collect { asMessage(IpvsCodec.newDestination(FAMILY, vs.key(), it).build(0)) }
            case IpvsCodec.CMD_NEW_SERVICE:
                def s = IpvsCodec.parseService(m).service()
                if (services.containsKey(s.key())) throw new KernelException(call, 17, 'File exists')
                services[s.key()] = new VirtualService(s, [:] as TreeMap)
                return []
            case IpvsCodec.CMD_SET_SERVICE:
                def s = IpvsCodec.parseService(m).service()
                def vs = services[s.key()]
                if (vs == null) throw new KernelException(call, 3, 'No such process')
                services[s.key()] = new VirtualService(s, vs.destinations())
                return []
            case IpvsCodec.CMD_DEL_SERVICE:
                def k = keyOf(m)
                if (k == null) throw new KernelException(call, 3, 'No such process')
                services.remove(k)
                return []
            case IpvsCodec.CMD_NEW_DEST:
            case IpvsCodec.CMD_SET_DEST:
                def vs = serviceOf(m)
                if (vs == null) throw new KernelException(call, 3, 'No such process')
                def d = IpvsCodec.parseDestination(m, vs.key().family()).destination()
                if ((cmd == IpvsCodec.CMD_NEW_DEST) == vs.destinations().containsKey(d.key())) {
                    throw new KernelException(call, cmd == IpvsCodec.CMD_NEW_DEST ? 17 : 2, 'wrong state')
                }
                def dests = new TreeMap(vs.destinations())
                dests[d.key()] = d
                services[vs.key()] = new VirtualService(vs.service(), dests)
                return []
            case IpvsCodec.CMD_DEL_DEST:
                def vs = serviceOf(m)
                if (vs == null) throw new KernelException(call, 3, 'No such process')
                def wanted = nested(m, IpvsCodec.CMD_ATTR_DEST)
                def dk = vs.destinations().keySet().find {
                    nested(asMessage(IpvsCodec.delDestination(FAMILY, vs.key(), it).build(0)), IpvsCodec.CMD_ATTR_DEST) == wanted
                }
                if (dk == null) throw new KernelException(call, 2, 'No such file or directory')
                def dests = new TreeMap(vs.destinations())
                dests.remove(dk)
                services[vs.key()] = new VirtualService(vs.service(), dests)
                return []
            default:
                throw new KernelException(call, 95, "command ${cmd}")
        }
    }

    /** Adds a service no forwarder made. */
    synchronized void plant(Service s) {
        services[s.key()] = new VirtualService(s, [:] as TreeMap)
    }
}

/** The forwarder's channel onto a {@link FakeIpvsKernel}. */
class FakeChannel implements IpvsForwarder.Channel {
    FakeIpvsKernel kernel

    @Override
    List<Netlink.Message> request(String call, Netlink.Builder message, String context) {
        kernel.handle(call, message, context)
    }

    @Override
    void close() {
    }
}
