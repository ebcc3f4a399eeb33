package dev.vigil.kernel.linux;

import java.nio.ByteBuffer;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls Vigil makes, bound through jnr-ffi. Structures travel as direct
 * {@link ByteBuffer}s in native byte order with position 0; jnr-ffi passes their address
 * unchanged. Every call saves errno, read with {@link Sys#errno()}.
 */
public interface LibC {

    /** The loaded library. */
    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    int socket(int domain, int type, int protocol);

    int bind(int fd, @In ByteBuffer addr, int addrlen);

    int setsockopt(int fd, int level, int optname, @In ByteBuffer optval, int optlen);

    int getsockopt(int fd, int level, int optname, @Out ByteBuffer optval, @In @Out ByteBuffer optlen);

    @ssize_t long sendto(int fd, @In ByteBuffer buf, @size_t long len, int flags, @In ByteBuffer addr, int addrlen);

    @ssize_t long sendmsg(int fd, @In ByteBuffer msghdr, int flags);

    @ssize_t long recvfrom(int fd, @Out ByteBuffer buf, @size_t long len, int flags, @Out ByteBuffer addr,
                           @In @Out ByteBuffer addrlen);

    @ssize_t long recvmsg(int fd, @In @Out ByteBuffer msghdr, int flags);

    int poll(@In @Out ByteBuffer fds, @size_t long nfds, int timeout);

    int close(int fd);

    int clock_gettime(int clockid, @Out ByteBuffer timespec);

    int open(String path, int flags);

    int setns(int fd, int nstype);

    int if_nametoindex(String ifname);

    String strerror(int errnum);

    /** {@code signal(2)}: sets a signal's disposition ({@code SIG_DFL} 0, {@code SIG_IGN} 1) and returns the old one. */
    @intptr_t long signal(int signum, @intptr_t long handler);
}
