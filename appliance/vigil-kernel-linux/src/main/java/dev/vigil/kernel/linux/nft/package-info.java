/**
 * The nftables {@link dev.vigil.kernel.forward.Forwarder}: JSON commands through libnftables
 * ({@code libnftables.so.1}) via jnr-ffi, in tables Vigil owns.
 */
package dev.vigil.kernel.linux.nft;
