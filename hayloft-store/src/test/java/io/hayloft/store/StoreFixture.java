package io.hayloft.store;

import static io.hayloft.store.StoreTestSupport.WAIT_SECONDS;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Named stores on loopback, each with its own data directory under one root, and the channels
 * the tests use to call them; a store stopped and started again keeps its directory and port.
 */
final class StoreFixture implements AutoCloseable {
    private final Path root;
    private final VolumeConfig volumes;
    private final Map<String, StoreServer> stores = new HashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    /** What the stores' replica failure listeners were told, as "store reports volume N: reason". */
    final ConcurrentLinkedQueue<String> reported = new ConcurrentLinkedQueue<>();

    StoreFixture(Path root, VolumeConfig volumes) {
        this.root = root;
        this.volumes = volumes;
    }

    /** Starts the store, on the port it had before if it ran already. */
    StoreServer start(String id, StoreConfig config) throws Exception {
        StoreServer s = StoreServer.start(id, root.resolve(id), volumes, config,
                new InetSocketAddress("127.0.0.1", ports.getOrDefault(id, 0)),
                (volumeId, reason) -> reported.add(id + " reports volume " + volumeId + ": " + reason));
        stores.put(id, s);
        ports.put(id, s.port());
        return s;
    }

    void stop(String id) throws VolumeException {
        stores.remove(id).close();
    }

    StoreServer get(String id) {
        return stores.get(id);
    }

    String address(String id) {
        return "127.0.0.1:" + ports.get(id);
    }

    /** Creates the volume on each of {@code ids}, the first its primary. */
    void createVolume(int volumeId, long salt, String... ids) {
        CreateVolumeRequest.Builder b = CreateVolumeRequest.newBuilder().setVolumeId(volumeId).setSalt(salt);
        for (String id : ids) {
            b.addReplicas(StoreInfo.newBuilder().setStoreId(id).setAddress(address(id)));
        }
        for (String id : ids) {
            blocking(id).createVolume(b.build());
        }
    }

    private ManagedChannel channel(String id) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", ports.get(id)).usePlaintext().build();
        channels.add(c);
        return c;
    }

    StoreGrpc.StoreStub async(String id) {
        return StoreGrpc.newStub(channel(id));
    }

    StoreGrpc.StoreFutureStub future(String id) {
        return StoreGrpc.newFutureStub(channel(id));
    }

    StoreGrpc.StoreBlockingStub blocking(String id) {
        return StoreGrpc.newBlockingStub(channel(id)).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** Every durable record of the volume on a store, in sequence order. */
    List<ReplicatedNeedle> records(String id, int volumeId) throws VolumeException {
        List<ReplicatedNeedle> all = new ArrayList<>();
        List<ReplicatedNeedle> batch;
        long after = 0;
        while (!(batch = stores.get(id).volumes().get(volumeId).recordsAfter(after, 8 << 20)).isEmpty()) {
            all.addAll(batch);
            after = batch.getLast().sequence();
        }
        return all;
    }

    @Override
    public void close() throws Exception {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        for (StoreServer s : stores.values()) {
            s.close();
        }
        stores.clear();
    }
}
