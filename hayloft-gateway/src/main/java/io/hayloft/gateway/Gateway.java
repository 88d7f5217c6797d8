package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.helidon.http.encoding.ContentEncodingContext;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;

/**
 * An S3 gateway: an HTTP server (Helidon SE, a virtual thread per request) in front of a Hayloft
 * cluster reached through {@link HayloftClient}. Stateless: any number of gateways may serve one
 * cluster.
 */
public final class Gateway implements AutoCloseable {
    private final WebServer server;
    private final GatewayConfig config;
    private final S3Handler handler;

    private Gateway(WebServer server, GatewayConfig config, S3Handler handler) {
        this.server = server;
        this.config = config;
        this.handler = handler;
    }

    /** Starts serving; the client stays the caller's to close, after the gateway. */
    public static Gateway start(GatewayConfig config, HayloftClient client) {
        return start(config, client, ObjectNames.remote(client.meta()));
    }

    /** Starts serving, with object names read and swapped through {@code names}. */
    public static Gateway start(GatewayConfig config, HayloftClient client, ObjectNames names) {
        S3Handler handler = new S3Handler(config, client, names);
        try {
            WebServer server = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    // Headers and body leave in separate writes: without TCP_NODELAY the body waits
                    // for the client's delayed ACK (~40 ms on Linux).
                    .connectionOptions(o -> o.tcpNoDelay(true))
                    // Helidon's NIO socket copies every response through an 8 KiB buffer, one write(2)
                    // each: a 64 KiB body took nine writes, and as many wake-ups of the reader. The
                    // plain socket writes a response's bytes in one call.
                    .useNio(false)
                    // Bodies are passed through as they came: Content-Encoding is the object's
                    // attribute (and aws-chunked is decoded by the signature check), not something
                    // for the server to decode.
                    .contentEncoding(ContentEncodingContext.builder().contentEncodingsDiscoverServices(false).build())
                    // ...which Helidon would otherwise refuse with a bare 400 when decoding is off.
                    .addProtocol(Http1Config.builder().validateRequestHeaders(false).build())
                    .routing(r -> r.any(handler))
                    .build()
                    .start();
            return new Gateway(server, config, handler);
        } catch (RuntimeException e) {
            handler.close(); // a port taken, say
            throw e;
        }
    }

    /** The port it listens on (the one chosen when the configuration said 0). */
    public int port() {
        return server.port();
    }

    public GatewayConfig config() {
        return config;
    }

    /** The base URL of the S3 endpoint, e.g. {@code http://127.0.0.1:9000}. */
    public String endpoint() {
        return "http://" + config.host() + ":" + port();
    }

    /**
     * Stops serving, then deletes the blobs that answered overwrites and deletes let go of and
     * that are still queued, for up to 10 seconds; what is left stays for the orphan audit.
     * Close the gateway before the client and the cluster it calls.
     */
    @Override
    public void close() {
        try {
            server.stop();
        } finally {
            handler.close();
        }
    }
}
