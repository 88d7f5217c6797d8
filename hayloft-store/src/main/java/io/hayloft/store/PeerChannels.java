package io.hayloft.store;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel per peer store address, made on first use and kept until the store stops: a
 * channel multiplexes every call to its peer over one connection, so forwards pay no handshake.
 */
final class PeerChannels implements AutoCloseable {
    /** Bound on the peers a store talks to: far above any cluster's stores. */
    static final int PEERS_MAX = 4096;

    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private boolean closed;

    /**
     * The channel to {@code address} (host:port).
     *
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE once closed, or with too many peers
     */
    private final int messageBytesMax;

    /**
     * @param needleBytesMax the largest needle a volume takes: a catch-up record carries one
     *     whole, so answers up to that size (and their framing) are accepted
     */
    PeerChannels(int needleBytesMax) {
        this.messageBytesMax = Math.max(4 << 20, needleBytesMax) + (64 << 10);
    }

    synchronized ManagedChannel get(String address) {
        if (closed) {
            throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is stopping");
        }
        ManagedChannel channel = channels.get(address);
        if (channel == null) {
            if (channels.size() >= PEERS_MAX) {
                throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "this store talks to " + PEERS_MAX
                        + " peers already; no channel to " + address);
            }
            InetSocketAddress to = parseAddress(address);
            // Answers only complete futures, so they are handled on the transport's threads, without a hop.
            channel = NettyChannelBuilder.forAddress(to.getHostString(), to.getPort()).usePlaintext()
                    .directExecutor().flowControlWindow(StoreService.FLOW_CONTROL_WINDOW_BYTES)
                    .maxInboundMessageSize(messageBytesMax).build();
            channels.put(address, channel);
        }
        return channel;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Parses {@code host:port} (an IPv6 host in brackets) without resolving it.
     *
     * @throws IllegalArgumentException when it is not one
     */
    static InetSocketAddress parseAddress(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("store address must be host:port, got '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 1 || port > 65_535) {
            throw new IllegalArgumentException("store address must be host:port, got '" + address + "'");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Closes every channel, failing the calls still on them. */
    @Override
    public void close() {
        List<ManagedChannel> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(channels.values());
            channels.clear();
        }
        for (ManagedChannel c : all) {
            c.shutdownNow();
        }
        try {
            for (ManagedChannel c : all) {
                c.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
