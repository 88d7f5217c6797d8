package io.hayloft.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One gRPC channel per node address (host:port), made on first use and closed with its owner. */
public final class Channels implements AutoCloseable {
    /** Room for a 1 MiB piece of a needle and its framing. */
    static final int MESSAGE_BYTES_MAX = (1 << 20) + (64 << 10);
    /**
     * The HTTP/2 flow-control window of each connection: fixed, because gRPC's automatic tuning
     * sends a ping for every burst of data received, which costs as much as small writes do.
     */
    static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;

    private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ManagedChannel get(String address) {
        if (closed) {
            throw new IllegalStateException("the channels are closed");
        }
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext()
                .maxInboundMessageSize(MESSAGE_BYTES_MAX).flowControlWindow(FLOW_CONTROL_WINDOW_BYTES).build());
    }

    @Override
    public void close() {
        closed = true;
        channels.values().forEach(ManagedChannel::shutdownNow);
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
