package dev.vigil.plugin.testkit

import java.util.concurrent.CopyOnWriteArrayList

/**
 * A TCP listener of a spec's own on an address of this machine, standing in for a server where
 * the spec scripts what the server does. It accepts one connection at a time on a daemon thread,
 * notes the peer in {@link #peers}, hands the connection to {@code session} and closes it when that
 * returns; an {@link IOException} there (the peer hung up, a read timed out) ends that connection
 * alone. Without a session it never accepts: connections wait in its backlog of {@code backlog}
 * until that is full, as with a server too busy to accept.
 */
class TcpListener implements Closeable {
    final ServerSocket socket
    final List<InetSocketAddress> peers = new CopyOnWriteArrayList<>()

    /** Listens on {@code address}:{@code port} (0: any free port, {@link #port()} says which). */
    TcpListener(String address, int port = 0, int backlog = 50, Closure<?> session = { Socket s -> }) {
        socket = new ServerSocket()
        socket.reuseAddress = true
        socket.bind(new InetSocketAddress(address, port), backlog)
        if (session != null) {
            Thread.startDaemon("listener-${socket.localPort}") {
                while (!socket.closed) {
                    try {
                        socket.accept().withCloseable { Socket s ->
                            peers << (InetSocketAddress) s.remoteSocketAddress
                            session(s)
                        }
                    } catch (IOException ignored) {
                        // That connection is over, or close() closed the listener.
                    }
                }
            }
        }
    }

    int port() {
        socket.localPort
    }

    @Override
    void close() {
        socket.close()
    }
}
