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
 * A running store: the data directory's volumes served over gRPC. gRPC runs the handlers on its
 * transport threads, without a hop per message; the service hands every blocking piece of work
 * (an fsync, a disk read, a primary's wait for its secondaries) to a virtual thread of its own.
 */
public final class StoreServer implements AutoCloseable {
    private final VolumeSet volumes;
    private final StoreService service;
    private final Server server;
    private final ExecutorService executor;

    private StoreServer(VolumeSet volumes, StoreService service, Server server, ExecutorService executor) {
        this.volumes = volumes;
        this.service = service;
        this.server = server;
        this.executor = executor;
    }

    /**
     * Opens the data directory and serves it on {@code address} (port 0 picks a free one) as the
     * store {@code storeId}, with the default settings and a replica failure listener that logs.
     */
    public static StoreServer start(String storeId, Path dataDir, VolumeConfig volumeConfig, InetSocketAddress address)
            throws VolumeException, IOException {
        return start(storeId, dataDir, volumeConfig, StoreConfig.defaults(), address, ReplicaFailureListener.logging());
    }

    /**
     * Opens the data directory and serves it on {@code address} as the store {@code storeId}.
     *
     * @param listener told when a secondary fails a write this store forwarded as primary
     */
    public static StoreServer start(String storeId, Path dataDir, VolumeConfig volumeConfig, StoreConfig config,
            InetSocketAddress address, ReplicaFailureListener listener) throws VolumeException, IOException {
        VolumeSet volumes = VolumeSet.open(dataDir, volumeConfig);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        StoreService service = null;
        try {
            service = new StoreService(storeId, volumes, config, listener, executor);
            Server server = NettyServerBuilder.forAddress(address)
                    .directExecutor()
                    .flowControlWindow(StoreService.FLOW_CONTROL_WINDOW_BYTES)
                    .maxInboundMessageSize(StoreService.PIECE_BYTES + (64 << 10))
                    .addService(service)
                    .build()
                    .start();
            return new StoreServer(volumes, service, server, executor);
        } catch (IOException | RuntimeException e) {
            if (service != null) {
                service.close();
            }
            executor.shutdownNow();
            volumes.close();
            throw e;
        }
    }

    public String storeId() {
        return service.storeId();
    }

    public int port() {
        return server.getPort();
    }

    /** Brings this store's secondary replicas up to their primaries; returns the records applied. */
    public long catchUpWithPrimaries() {
        return service.catchUpWithPrimaries();
    }

    /**
     * Reads a whole needle for a caller in this process, without the network, checked as a
     * {@code ReadNeedle} is (see {@link io.hayloft.client.LocalStores}).
     */
    public byte[] readLocal(io.hayloft.proto.v1.Fid fid) {
        return service.readLocal(fid);
    }

    /**
     * Writes a needle of at most 1 MiB for a caller in this process, without the network, as
     * {@code WriteSmallNeedle} does (see {@link io.hayloft.client.LocalStores}).
     */
    public long writeLocal(io.hayloft.proto.v1.WriteHeader header, byte[] data) {
        return service.writeLocal(header, data);
    }

    /**
     * Writes a needle of at most 1 MiB as its volume's primary for a caller in this process, and
     * returns once this store has it durable, with what waits for the secondaries (see {@link
     * io.hayloft.client.LocalStores#writeOnPrimary}).
     */
    public io.hayloft.client.ReplicaWait writeLocalOnPrimary(io.hayloft.proto.v1.WriteHeader header, byte[] data) {
        return service.writeLocalOnPrimary(header, data);
    }

    /**
     * Deletes a needle as its volume's primary for a caller in this process, without the network,
     * as {@code DeleteNeedle} from a client does (see {@link io.hayloft.client.LocalStores}).
     */
    public void deleteLocal(io.hayloft.proto.v1.Fid fid) {
        service.deleteLocal(fid);
    }

    /**
     * The stores in this process: as a primary, this store forwards records of up to 1 MiB to
     * those of its secondaries by a call instead of over gRPC.
     */
    public void localPeers(LocalPeers peers) {
        service.localPeers(peers);
    }

    public VolumeSet volumes() {
        return volumes;
    }

    /**
     * Scrubs every volume now, at the configured rate, as the schedule does; returns the damaged
     * needles found, which are repaired from other replicas in the background.
     */
    public long scrubNow() throws InterruptedException {
        return service.scrubAll();
    }

    /** Needles repaired from another replica since the store started. */
    public long needlesRepaired() {
        return service.needlesRepaired();
    }

    StoreService service() {
        return service;
    }

    /**
     * Stops taking calls, waits a little for those in flight (a primary's forwards among them),
     * then closes the channels to peers and the volumes.
     */
    @Override
    public void close() throws VolumeException {
        server.shutdown();
        service.endReplicaStreams();
        try {
            if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            service.close();
            executor.shutdownNow();
            volumes.close();
        }
    }
}
