/**
 * The nftables {@link dev.vigil.kernel.forward.Forwarder}, in tables Vigil owns: the layout of a
 * service ({@link dev.vigil.kernel.linux.nft.ServicePlan}), changes written as nf_tables netlink
 * transactions ({@link dev.vigil.kernel.linux.nft.NfTablesCodec}) or as the equivalent
 * {@code nft -f} script ({@link dev.vigil.kernel.linux.nft.NftScript}), and libnftables
 * ({@code libnftables.so.1}, via jnr-ffi) to read the tables back as JSON.
 */
package dev.vigil.kernel.linux.nft;
