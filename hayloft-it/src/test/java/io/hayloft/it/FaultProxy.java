package io.hayloft.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on loopback standing for one link between processes. While {@linkplain #cut() cut}
 * it is a black hole: connections are accepted and bytes read, but nothing is forwarded either
 * way, so the caller sees timeouts as across a real partition rather than a refused connection.
 * {@linkplain #heal() Healing} resets the connections that lived through the cut, as a real
 * network's peers would after their keepalives expired, and forwards again.
 */
final class FaultProxy implements AutoCloseable {
    private final String name;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile boolean closed;

    FaultProxy(String name, int targetPort) throws IOException {
        this.name = name;
        this.targetPort = targetPort;
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        Thread.ofVirtual().name("proxy-" + name).start(this::acceptLoop);
    }

    String name() {
        return name;
    }

    int port() {
        return server.getLocalPort();
    }

    boolean isCut() {
        return cut;
    }

    void cut() {
        cut = true;
    }

    void heal() {
        if (!cut) {
            return;
        }
        cut = false;
        for (Link l : links) {
            if (l.sawCut) {
                l.close();
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            Link link = new Link(client);
            links.add(link);
            Thread.ofVirtual().name("proxy-" + name + "-link").start(link::open);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        links.forEach(Link::close);
    }

    /** One proxied connection: a client socket and, once connected, its upstream socket. */
    private final class Link {
        private final Socket client;
        private volatile Socket upstream;
        private volatile boolean sawCut;

        Link(Socket client) {
            this.client = client;
        }

        void open() {
            try {
                while (cut && !closed) {
                    sawCut = true;  // a connection made during a cut hangs until the cut heals
                    drainOnce(client.getInputStream());
                }
                Socket up = new Socket();
                up.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2_000);
                up.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                upstream = up;
                Thread.ofVirtual().start(() -> pump(up, client));
                pump(client, up);
            } catch (IOException e) {
                close();
            }
        }

        private void drainOnce(InputStream in) throws IOException {
            client.setSoTimeout(200);
            try {
                if (in.read(new byte[8192]) < 0) {
                    throw new IOException("closed by the client");
                }
            } catch (java.net.SocketTimeoutException e) {
                // nothing sent: look at the cut again
            } finally {
                client.setSoTimeout(0);
            }
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (cut) {
                        sawCut = true;  // swallowed: the black hole
                        continue;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away: the link ends
            }
            close();
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            Socket up = upstream;
            if (up != null) {
                closeQuietly(up);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
