package io.hayloft.gateway;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a gateway serves S3.
 *
 * @param host address to bind (127.0.0.1 for a laptop, 0.0.0.0 for a server)
 * @param port HTTP port; 0 picks a free one
 * @param credentials access key id to secret key; requests must be signed with one of them
 * @param anonymous accept unsigned requests as well (for local use only)
 * @param region the region clients sign for (any region is accepted; this one is reported)
 * @param domains host names under which virtual-host-style requests arrive
 *     ({@code bucket.<domain>}); path-style works always
 * @param chunkBytes objects are stored as chunks (blobs) of at most this many bytes
 * @param cacheBytes bound on the heap kept by the cache of hot small objects; 0 turns it off
 * @param cacheObjectBytesMax objects up to this size are cached
 * @param maxObjectBytes the largest object a single PUT may store
 * @param minPartBytes every multipart part but the last must be at least this large
 */
public record GatewayConfig(String host, int port, Map<String, String> credentials, boolean anonymous, String region,
        List<String> domains, int chunkBytes, long cacheBytes, int cacheObjectBytesMax, long maxObjectBytes,
        long minPartBytes) {

    public static final String DEFAULT_REGION = "us-east-1";

    public GatewayConfig {
        Objects.requireNonNull(host, "host");
        credentials = Map.copyOf(credentials);
        domains = List.copyOf(domains);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (credentials.isEmpty() && !anonymous) {
            throw new IllegalArgumentException("no credentials and anonymous access off: nobody could use the gateway");
        }
        if (chunkBytes < 64 << 10 || chunkBytes > 64 << 20) {
            throw new IllegalArgumentException("chunk size must be 64 KiB to 64 MiB, got " + chunkBytes);
        }
    }

    /**
     * Loopback, port 9000, the given key pair, 4 MiB chunks, a 64 MiB cache of objects up to 256 KiB,
     * and S3's limits: 5 GiB for a PUT or a part, 5 MiB for a part that is not the last.
     */
    public static GatewayConfig defaults(String accessKey, String secretKey) {
        return new GatewayConfig("127.0.0.1", 9000, Map.of(accessKey, secretKey), false, DEFAULT_REGION,
                List.of("localhost"), 4 << 20, 64L << 20, 256 << 10, 5L << 30, 5L << 20);
    }

    public GatewayConfig withPort(int p) {
        return new GatewayConfig(host, p, credentials, anonymous, region, domains, chunkBytes, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, minPartBytes);
    }

    public GatewayConfig withHost(String h) {
        return new GatewayConfig(h, port, credentials, anonymous, region, domains, chunkBytes, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, minPartBytes);
    }

    public GatewayConfig withAnonymous(boolean a) {
        return new GatewayConfig(host, port, credentials, a, region, domains, chunkBytes, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, minPartBytes);
    }

    public GatewayConfig withChunkBytes(int c) {
        return new GatewayConfig(host, port, credentials, anonymous, region, domains, c, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, minPartBytes);
    }

    public GatewayConfig withCache(long bytes, int objectBytesMax) {
        return new GatewayConfig(host, port, credentials, anonymous, region, domains, chunkBytes, bytes,
                objectBytesMax, maxObjectBytes, minPartBytes);
    }

    public GatewayConfig withMaxObjectBytes(long m) {
        return new GatewayConfig(host, port, credentials, anonymous, region, domains, chunkBytes, cacheBytes,
                cacheObjectBytesMax, m, minPartBytes);
    }

    public GatewayConfig withMinPartBytes(long m) {
        return new GatewayConfig(host, port, credentials, anonymous, region, domains, chunkBytes, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, m);
    }

    public GatewayConfig withDomains(List<String> d) {
        return new GatewayConfig(host, port, credentials, anonymous, region, d, chunkBytes, cacheBytes,
                cacheObjectBytesMax, maxObjectBytes, minPartBytes);
    }
}
