package io.hayloft.store;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A running store: the data directory's volumes served over gRPC. Calls run on virtual threads,
 * so the volume engine's blocking calls (an fsync, a disk read) hold no platform thread.
 */
public final class StoreServer implements AutoCloseable {
    private final VolumeSet volumes;
    private final Server server;
    private final ExecutorService executor;

    private StoreServer(VolumeSet volumes, Server server, ExecutorService executor) {
        this.volumes = volumes;
        this.server = server;
        this.executor = executor;
    }

    /** Opens the data directory and serves it on {@code address} (port 0 picks a free one). */
    public static StoreServer start(Path dataDir, VolumeConfig config, InetSocketAddress address)
            throws VolumeException, IOException {
        return start(dataDir, config, address, StoreService.BYTES_IN_FLIGHT_MAX_DEFAULT);
    }

    /** As {@link #start(Path, VolumeConfig, InetSocketAddress)}, with a bound on the bytes of writes being received. */
    public static StoreServer start(Path dataDir, VolumeConfig config, InetSocketAddress address, long bytesInFlightMax)
            throws VolumeException, IOException {
        VolumeSet volumes = VolumeSet.open(dataDir, config);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Server server = NettyServerBuilder.forAddress(address)
                    .executor(executor)
                    .maxInboundMessageSize(StoreService.PIECE_BYTES + (64 << 10))
                    .addService(new StoreService(volumes, bytesInFlightMax))
                    .build()
                    .start();
            return new StoreServer(volumes, server, executor);
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            volumes.close();
            throw e;
        }
    }

    public int port() {
        return server.getPort();
    }

    public VolumeSet volumes() {
        return volumes;
    }

    /** Stops taking calls, waits a little for those in flight, then closes the volumes. */
    @Override
    public void close() throws VolumeException {
        server.shutdown();
        try {
            if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            executor.shutdownNow();
            volumes.close();
        }
    }
}
