package dev.vigil.kernel.linux.nft;

import dev.vigil.kernel.KernelException;
import jnr.ffi.Pointer;

/**
 * One libnftables context speaking JSON. Its netlink socket is opened by {@code nft_ctx_new}, so the
 * context belongs to the network namespace of the thread that made it, whichever thread uses it
 * later. Not thread-safe: callers serialise.
 */
public final class NftContext implements AutoCloseable {
    private static volatile LibNftables lib;
    private Pointer ctx;

    /** Opens a context in the calling thread's network namespace. */
    public NftContext() throws KernelException {
        LibNftables l = library();
        Pointer p = l.nft_ctx_new(LibNftables.NFT_CTX_DEFAULT);
        if (p == null || p.address() == 0) {
            throw new KernelException("nft_ctx_new", 0, "could not create an nftables context");
        }
        l.nft_ctx_output_set_flags(p, LibNftables.NFT_CTX_OUTPUT_JSON | LibNftables.NFT_CTX_OUTPUT_HANDLE);
        // Buffered output and errors come back as strings instead of going to stdout/stderr.
        l.nft_ctx_buffer_output(p);
        l.nft_ctx_buffer_error(p);
        ctx = p;
    }

    /** Whether libnftables can be loaded on this host. */
    public static boolean available() {
        try {
            library();
            return true;
        } catch (KernelException e) {
            return false;
        }
    }

    private static LibNftables library() throws KernelException {
        LibNftables l = lib;
        if (l == null) {
            try {
                l = LibNftables.load();
            } catch (UnsatisfiedLinkError e) {
                throw new KernelException("dlopen", 0, "libnftables.so.1 not found (install libnftables1): " + e.getMessage());
            }
            lib = l;
        }
        return l;
    }

    /**
     * Runs {@code json} (an {@code {"nftables": [...]}} document) as one transaction and returns
     * the JSON output ({@code ""} when there is none).
     *
     * @throws KernelException with the error text when nft rejects it; nothing was changed then
     */
    public String run(String json) throws KernelException {
        if (ctx == null) {
            throw new KernelException("nft_run_cmd_from_buffer", 0, "context closed");
        }
        int rc = lib.nft_run_cmd_from_buffer(ctx, json);
        String out = lib.nft_ctx_get_output_buffer(ctx);
        String err = lib.nft_ctx_get_error_buffer(ctx);
        if (rc != 0) {
            throw new KernelException("nft_run_cmd_from_buffer", 0,
                    (err == null || err.isBlank() ? "rc " + rc : err.strip()));
        }
        return out == null ? "" : out;
    }

    @Override
    public void close() {
        if (ctx != null) {
            lib.nft_ctx_free(ctx);
            ctx = null;
        }
    }
}
