package dev.vigil.daemon.forward;

import dev.vigil.config.model.ForwarderBackend;
import dev.vigil.kernel.KernelException;
import dev.vigil.kernel.forward.Forwarder;
import dev.vigil.kernel.forward.VirtualService;
import dev.vigil.kernel.linux.ipvs.IpvsForwarder;
import dev.vigil.kernel.linux.nft.NftablesForwarder;

import java.util.function.Function;

/**
 * An open forwarder and what the daemon needs to know about it.
 *
 * @param name      {@code ipvs}, {@code nftables} (or another name for a test double)
 * @param forwarder the forwarder
 * @param reason    why this backend was chosen, for the log
 * @param limits    why a service cannot be expressed by this backend, or {@code null} when it can
 * @param traffic   whether its statistics count packets and bytes (else only connections)
 */
public record Backend(String name, Forwarder forwarder, String reason, Function<VirtualService, String> limits,
                      boolean traffic) {

    /**
     * Opens the backend {@code vigil_forwarder} asks for; {@code auto} takes IPVS when the
     * generic-netlink family "IPVS" resolves in this network namespace, else nftables.
     */
    public static Backend open(ForwarderBackend wanted) throws KernelException {
        return switch (wanted) {
            case IPVS -> ipvs("vigil_forwarder ipvs");
            case NFTABLES -> nftables("vigil_forwarder nftables");
            case AUTO -> IpvsForwarder.available()
                    ? ipvs("vigil_forwarder auto: the generic-netlink family \"IPVS\" resolves")
                    : nftables("vigil_forwarder auto: the kernel has no IPVS (the generic-netlink family \"IPVS\" does not resolve)");
        };
    }

    private static Backend ipvs(String reason) throws KernelException {
        return new Backend("ipvs", new IpvsForwarder(IpvsForwarder.DEFAULT_REGISTRY), reason, vs -> null, true);
    }

    private static Backend nftables(String reason) throws KernelException {
        return new Backend("nftables", new NftablesForwarder(), reason, Backend::nftablesLimit, false);
    }

    /**
     * What the nftables forwarder cannot express ({@link NftablesForwarder#limitation}): it refuses a
     * whole apply that contains such a service, so the daemon leaves these services out instead and
     * says so.
     */
    static String nftablesLimit(VirtualService vs) {
        return NftablesForwarder.limitation(vs);
    }
}
