package io.hayloft.client;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One gRPC channel per node address (host:port), made on first use and closed with its owner. An
 * address that a node in this process also serves in-process ({@link #inProcess}) is reached
 * without TCP.
 */
public final class Channels implements AutoCloseable {
    /** Room for a 1 MiB piece of a needle and its framing. */
    static final int MESSAGE_BYTES_MAX = (1 << 20) + (64 << 10);
    /**
     * The HTTP/2 flow-control window of each connection: fixed, because gRPC's automatic tuning
     * sends a ping for every burst of data received, which costs as much as small writes do.
     */
    static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;

    private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Function<String, String> inProcessNames;
    private volatile boolean closed;

    /** Channels that reach every node over the network. */
    public Channels() {
        this(address -> null);
    }

    /**
     * Channels that reach a node through the in-process server named {@code inProcessNames(address)}
     * when that is not null, and over the network otherwise.
     */
    public Channels(Function<String, String> inProcessNames) {
        this.inProcessNames = inProcessNames;
    }

    public ManagedChannel get(String address) {
        if (closed) {
            throw new IllegalStateException("the channels are closed");
        }
        return channels.computeIfAbsent(address, this::open);
    }

    private ManagedChannel open(String address) {
        String name = inProcessNames.apply(address);
        if (name != null) {
            return InProcessChannelBuilder.forName(name).maxInboundMessageSize(MESSAGE_BYTES_MAX).build();
        }
        return NettyChannelBuilder.forTarget(address).usePlaintext().maxInboundMessageSize(MESSAGE_BYTES_MAX)
                .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES).build();
    }

    /**
     * The name of the in-process server a node that serves {@code address} in this process also
     * listens on: a call from the same process then costs no socket, no HTTP/2 framing and no
     * network thread.
     */
    public static String inProcess(String address) {
        return "hayloft@" + address;
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
