package dev.vigil.kernel.linux.nft;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/** The parts of libnftables ({@code libnftables.so.1}, from {@code nftables/libnftables.h}) Vigil calls. */
public interface LibNftables {
    /** {@code NFT_CTX_DEFAULT}: a context with its own netlink socket, opened in the caller's namespace. */
    int NFT_CTX_DEFAULT = 0;
    /** {@code NFT_CTX_OUTPUT_HANDLE}. */
    int NFT_CTX_OUTPUT_HANDLE = 1 << 3;
    /** {@code NFT_CTX_OUTPUT_JSON}: output as JSON; input is then tried as JSON first. */
    int NFT_CTX_OUTPUT_JSON = 1 << 4;

    Pointer nft_ctx_new(int flags);

    void nft_ctx_free(Pointer ctx);

    void nft_ctx_output_set_flags(Pointer ctx, int flags);

    int nft_ctx_buffer_output(Pointer ctx);

    int nft_ctx_buffer_error(Pointer ctx);

    String nft_ctx_get_output_buffer(Pointer ctx);

    String nft_ctx_get_error_buffer(Pointer ctx);

    int nft_run_cmd_from_buffer(Pointer ctx, String buf);

    /** Loads the library; fails with {@link UnsatisfiedLinkError} when nftables is not installed. */
    static LibNftables load() {
        return LibraryLoader.create(LibNftables.class).search("/usr/lib/x86_64-linux-gnu").search("/usr/lib64")
                .search("/usr/lib").load("libnftables.so.1");
    }
}
