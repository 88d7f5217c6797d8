package io.hayloft.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hayloft.client.ClientOptions;
import io.hayloft.client.HayloftClient;
import io.hayloft.client.LocalStores;
import io.hayloft.client.HayloftException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.MetaGrpc;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.store.StoreNode;
import io.hayloft.volume.Volume;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster in this JVM: three meta peers and three or four stores, rf 3, on loopback with
 * their own directories, used through the client library as the gateway uses it.
 */
class ClusterTest {
    @TempDir
    Path dir;

    private LocalCluster cluster;
    private HayloftClient client;

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start(LocalCluster.Options options) throws Exception {
        cluster = LocalCluster.start(dir, options);
        client = cluster.client();
    }

    private static byte[] blob(long seed, int i) {
        return SeededBlobs.blob(seed, i);
    }

    private List<Fid> writeAll(long seed, int from, int to, int writers) throws Exception {
        return SeededBlobs.writeAll(client, seed, from, to, writers);
    }

    private void readAll(long seed, int from, List<Fid> fids, int readers) throws Exception {
        SeededBlobs.readAll(client, seed, from, fids, readers);
    }

    @Test
    void tenThousandBlobsOfMixedSizesReadBackByteForByte() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ClusterTest seed " + seed);
        start(LocalCluster.Options.defaults());
        List<Fid> fids = writeAll(seed, 0, 10_000, 32);
        assertThat(fids).doesNotContainNull().doesNotHaveDuplicates();
        // Writes lease needle ids in blocks: meta is asked a few times, not per blob.
        assertThat(client.assignments()).isLessThan(100);
        readAll(seed, 0, fids, 32);

        // Every replica of every volume holds the same records in the same order.
        for (VolumeInfo v : client.meta().clusterStatus().getVolumesList()) {
            List<String> expected = null;
            for (StoreInfo r : v.getReplicasList()) {
                int store = Integer.parseInt(r.getStoreId().substring("store".length()));
                List<String> records = records(cluster.store(store).server().volumes().get(v.getVolumeId()));
                if (expected == null) {
                    expected = records;
                } else {
                    assertThat(records).as("volume %d on %s", v.getVolumeId(), r.getStoreId()).isEqualTo(expected);
                }
            }
        }
    }

    private static List<String> records(Volume v) throws Exception {
        return LocalCluster.records(v);
    }

    @Test
    void aStoppedStoresBlobsAreReadFromTheOtherReplicasAndNewWritesAvoidIt() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ClusterTest seed " + seed);
        start(LocalCluster.Options.defaults().withStores(4)
                .withLiveness(Duration.ofMillis(250), Duration.ofSeconds(3)));
        List<Fid> before = writeAll(seed, 0, 600, 16);
        cluster.stopStore(1);
        readAll(seed, 0, before, 16);

        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.storeState(1) == StoreState.STORE_DEAD);
        List<Fid> after = writeAll(seed, 600, 900, 8);
        readAll(seed, 600, after, 8);
        for (Fid fid : after) {
            VolumeInfo v = client.meta().lookupVolume(fid.getVolumeId());
            assertThat(v.getReplicasList()).extracting(StoreInfo::getStoreId).doesNotContain("store1");
        }

        // The store comes back: it is live again, and the cluster heals (its replicas were copied
        // elsewhere meanwhile, so its own are dropped; RepairTest covers the repairs one by one).
        cluster.restartStore(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.storeState(1) == StoreState.STORE_LIVE);
        cluster.awaitHealed(Duration.ofSeconds(60));
        readAll(seed, 0, before, 8);
    }

    @Test
    void losingTheMetaLeaderLosesNoNameAndWritesGoOn() throws Exception {
        start(LocalCluster.Options.defaults());
        client.meta().createBucket("photos");
        AtomicLong acknowledged = new AtomicLong();
        List<String> names = java.util.Collections.synchronizedList(new ArrayList<>());
        long seed = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int writer = w;
                all.add(pool.submit(() -> {
                    for (int i = 0; i < 150; i++) {
                        byte[] data = blob(seed, writer * 1000 + i);
                        String key = "w" + writer + "/" + i;
                        try {
                            Fid fid = client.write(data);
                            client.meta().putObject(ObjectInfo.newBuilder().setBucket("photos").setKey(key)
                                    .setSize(data.length).addChunks(Chunk.newBuilder().setFid(fid)
                                            .setLength(data.length)).build());
                            names.add(key);
                            acknowledged.incrementAndGet();
                        } catch (HayloftException e) {
                            // Unacknowledged; the writer goes on.
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(500);
            int leader = cluster.meta().leaderIndex();
            long stopped = System.nanoTime();
            cluster.meta().stopPeer(leader);
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                    .until(() -> cluster.meta().leaderIndex() >= 0);
            System.out.println("new meta leader after " + (System.nanoTime() - stopped) / 1_000_000 + " ms");
            for (Future<?> f : all) {
                f.get(5, TimeUnit.MINUTES);
            }
            // The old leader comes back and catches up from the log or a snapshot.
            cluster.meta().restartPeer(leader);
            String last = names.get(names.size() - 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.meta().node(leader)
                    .readLocal(s -> s.names().listObjects("photos", last, "", "", 1).getObjectsCount()) == 1);
        }
        assertThat(acknowledged.get()).isGreaterThan(8 * 150 / 2);
        for (String key : names) {
            ObjectInfo o = client.meta().getObject("photos", key);
            int writer = Integer.parseInt(key.substring(1, key.indexOf('/')));
            int i = Integer.parseInt(key.substring(key.indexOf('/') + 1));
            assertThat(client.read(o.getChunks(0).getFid())).isEqualTo(blob(seed, writer * 1000 + i));
        }
    }

    @Test
    void badRequestsGetClearErrors() throws Exception {
        start(LocalCluster.Options.defaults());
        Fid fid = client.write("hello".getBytes());
        assertCode(ErrorCode.NO_SUCH_VOLUME, () -> client.read(fid.toBuilder().setVolumeId(9999).build()));
        assertCode(ErrorCode.NOT_FOUND, () -> client.read(fid.toBuilder().setNeedleId(fid.getNeedleId() + 1_000_000)
                .build()));
        assertCode(ErrorCode.WRONG_COOKIE, () -> client.read(fid.toBuilder().setCookie(fid.getCookie() ^ 1).build()));
        client.meta().createBucket("docs");
        assertCode(ErrorCode.BAD_REQUEST, () -> client.meta().putObject(ObjectInfo.newBuilder().setBucket("docs")
                .setKey("x".repeat(2000)).build()));
        client.delete(fid);
        assertCode(ErrorCode.DELETED, () -> client.read(fid));

        int leader = cluster.meta().leaderIndex();
        String follower = cluster.metaAddresses().get((leader + 1) % 3);
        ManagedChannel ch = NettyChannelBuilder.forTarget(follower).usePlaintext().build();
        try {
            assertThatThrownBy(() -> MetaGrpc.newBlockingStub(ch).createBucket(
                    CreateBucketRequest.newBuilder().setBucket("other").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                            WireErrors.fromThrowable(e).orElseThrow().getCode()).isEqualTo(ErrorCode.NOT_LEADER));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aReadMovesOnFromReplicasWhoseCopyIsDamaged() throws Exception {
        start(LocalCluster.Options.defaults());
        byte[] data = new byte[512 * 1024];
        new Random(7).nextBytes(data);
        Fid fid = client.write(data);
        VolumeInfo v = client.meta().lookupVolume(fid.getVolumeId());
        // The order the client tries the replicas in; damage the first two it will try.
        List<StoreInfo> order = new ArrayList<>(v.getReplicasList());
        java.util.Collections.rotate(order, (int) Long.remainderUnsigned(fid.getNeedleId(), order.size()));
        for (int k = 0; k < 2; k++) {
            flipByteInTheMiddle(order.get(k), fid.getVolumeId());
        }
        try (HayloftClient fresh = cluster.client()) {
            assertThat(fresh.read(fid)).isEqualTo(data);
            // The stores that found their copy damaged repair it from the healthy one meanwhile.
            for (int k = 0; k < 2; k++) {
                StoreNode damaged = cluster.store(Integer.parseInt(order.get(k).getStoreId().substring("store".length())));
                await().atMost(Duration.ofSeconds(20)).until(() -> damaged.server().needlesRepaired() == 1);
            }
            // With every copy damaged, the read fails: no unchecked byte is served.
            for (StoreInfo replica : order) {
                flipByteInTheMiddle(replica, fid.getVolumeId());
            }
            assertCode(ErrorCode.CORRUPT, () -> fresh.read(fid));
        }
    }

    /**
     * A client that calls its process's stores without gRPC (the one-process server's gateway),
     * whose primaries forward by a call too, answers as one calling over the network: the same
     * bytes, on every replica, the same
     * refusals, damaged copies passed over and repaired, a stopped store's replicas read elsewhere.
     */
    @Test
    void callsInTheProcessAnswerAsCallsOverTheNetwork() throws Exception {
        start(LocalCluster.Options.defaults());
        cluster.forwardInProcess();
        long seed = System.nanoTime();
        System.out.println("ClusterTest seed " + seed);
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong deletes = new java.util.concurrent.atomic.AtomicLong();
        LocalStores stores = cluster.localStores();
        LocalStores counting = new LocalStores() {
            @Override
            public byte[] read(String address, Fid fid) {
                byte[] data = stores.read(address, fid);
                if (data != null) {
                    reads.incrementAndGet();
                }
                return data;
            }

            @Override
            public boolean write(String address, WriteHeader header, byte[] data) {
                boolean done = stores.write(address, header, data);
                if (done) {
                    writes.incrementAndGet();
                }
                return done;
            }

            @Override
            public boolean delete(String address, Fid fid) {
                boolean done = stores.delete(address, fid);
                if (done) {
                    deletes.incrementAndGet();
                }
                return done;
            }
        };
        try (HayloftClient local = HayloftClient.connect(ClientOptions.of(cluster.metaAddresses()), counting)) {
            List<Fid> fids = SeededBlobs.writeAll(local, seed, 0, 300, 4);
            // Needles over 1 MiB go in pieces over gRPC, as they would to a store elsewhere.
            long small = java.util.stream.IntStream.range(0, 300).filter(i -> blob(seed, i).length <= 1 << 20).count();
            assertThat(writes.get()).isEqualTo(small);
            // On every replica: read over the network from each store alone in turn.
            for (int alone = 0; alone < 3; alone++) {
                for (int other = 0; other < 3; other++) {
                    if (other != alone) {
                        cluster.stopStore(other);
                    }
                }
                try (HayloftClient fresh = cluster.client()) {
                    SeededBlobs.readAll(fresh, seed, 0, fids, 4);
                }
                for (int other = 0; other < 3; other++) {
                    cluster.restartStore(other);
                }
                cluster.awaitStoresLive(Duration.ofSeconds(20));
            }
            SeededBlobs.readAll(local, seed, 0, fids, 4);
            assertThat(reads.get()).isEqualTo(fids.size());
            HayloftClient reader = local;
            Fid fid = fids.get(0);
            assertCode(ErrorCode.NOT_FOUND, () -> reader.read(fid.toBuilder()
                    .setNeedleId(fid.getNeedleId() + 1_000_000).build()));
            assertCode(ErrorCode.WRONG_COOKIE, () -> reader.read(fid.toBuilder().setCookie(fid.getCookie() ^ 1).build()));

            byte[] data = new byte[300 * 1024];
            new Random(seed).nextBytes(data);
            Fid big = client.write(data);
            VolumeInfo v = client.meta().lookupVolume(big.getVolumeId());
            List<StoreInfo> order = new ArrayList<>(v.getReplicasList());
            java.util.Collections.rotate(order, (int) Long.remainderUnsigned(big.getNeedleId(), order.size()));
            flipByte(order.get(0), big.getVolumeId(), 1000); // in the data of the volume's last record
            assertThat(reader.read(big)).isEqualTo(data);
            StoreNode damaged = cluster.store(Integer.parseInt(order.get(0).getStoreId().substring("store".length())));
            await().atMost(Duration.ofSeconds(20)).until(() -> damaged.server().needlesRepaired() == 1);

            client.delete(fid);
            assertCode(ErrorCode.DELETED, () -> reader.read(fid));
            // Deleted in the process, the tombstone is on every replica, as one sent over the network.
            Fid gone = local.write(new byte[] {1, 2, 3});
            local.delete(gone);
            assertThat(deletes.get()).isEqualTo(1);
            for (StoreInfo replica : client.meta().lookupVolume(gone.getVolumeId()).getReplicasList()) {
                StoreNode store = cluster.store(Integer.parseInt(replica.getStoreId().substring("store".length())));
                assertCode(ErrorCode.DELETED, () -> store.server().readLocal(gone));
            }
            Fid never = gone.toBuilder().setNeedleId(gone.getNeedleId() + 1_000_000).build();
            assertCode(ErrorCode.NOT_FOUND, () -> local.delete(never));

            cluster.stopStore(Integer.parseInt(order.get(1).getStoreId().substring("store".length())));
            assertThat(reader.read(big)).isEqualTo(data);
            SeededBlobs.readAll(reader, seed, 1, fids.subList(1, fids.size()), 4);
        }
    }

    @Test
    void theClientCallingLocallyWritesOneVolumeAtATime() throws Exception {
        start(LocalCluster.Options.defaults());
        cluster.forwardInProcess();
        byte[] data = new byte[4096];
        new Random(7).nextBytes(data);
        try (HayloftClient local = cluster.clientCallingLocally()) {
            // Concurrent writers share one leased block, so the stores' group commits batch them.
            List<Future<Fid>> writes = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                for (int i = 0; i < 64; i++) {
                    writes.add(pool.submit(() -> local.write(data)));
                }
            }
            Set<Integer> volumes = new HashSet<>();
            for (Future<Fid> w : writes) {
                Fid fid = w.get();
                volumes.add(fid.getVolumeId());
                assertThat(local.read(fid)).isEqualTo(data);
            }
            assertThat(volumes).hasSize(1);
            assertThat(local.assignments()).isEqualTo(1);
        }
    }

    /** Damages the volume file of a replica as a bad disk would: the store finds out when it reads. */
    @Test
    void aWriteAnsweredByItsPrimaryReachesEveryReplicaOrSealsItsVolume() throws Exception {
        start(LocalCluster.Options.defaults().withStores(4)
                .withLiveness(Duration.ofMillis(250), Duration.ofSeconds(3)));
        cluster.forwardInProcess();
        byte[] data = new byte[4096];
        new Random(11).nextBytes(data);
        try (HayloftClient local = cluster.clientCallingLocally()) {
            HayloftClient.PrimaryWrite w = local.writeOnPrimary(data);
            List<StoreInfo> replicas = client.meta().lookupVolume(w.fid().getVolumeId()).getReplicasList();
            // Durable on the primary when it returns; on every replica once they are awaited.
            assertThat(storeOf(replicas.get(0)).server().readLocal(w.fid())).isEqualTo(data);
            w.awaitReplicas();
            // Awaited once: a second wait would release the write's bytes in flight twice.
            assertThatThrownBy(w::awaitReplicas).isInstanceOf(IllegalStateException.class);
            for (StoreInfo r : replicas) {
                assertThat(storeOf(r).server().readLocal(w.fid())).as(r.getStoreId()).isEqualTo(data);
            }

            // A secondary gone: the primary still has the needle, but awaiting the replicas fails,
            // the volume turns read-only, and the client's next write goes to another volume.
            int stopped = Integer.parseInt(replicas.get(2).getStoreId().substring("store".length()));
            cluster.stopStore(stopped);
            HayloftClient.PrimaryWrite failing = local.writeOnPrimary(data);
            assertThat(failing.fid().getVolumeId()).isEqualTo(w.fid().getVolumeId());
            assertThat(storeOf(replicas.get(0)).server().readLocal(failing.fid())).isEqualTo(data);
            assertThatThrownBy(failing::awaitReplicas).isInstanceOfSatisfying(HayloftException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.REPLICA_FAILED));
            assertThat(storeOf(replicas.get(0)).server().volumes().get(w.fid().getVolumeId()).isSealed()).isTrue();
            assertThat(storeOf(replicas.get(1)).server().readLocal(failing.fid())).isEqualTo(data);
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.storeState(stopped) == StoreState.STORE_DEAD);
            Fid elsewhere = local.write(data);
            assertThat(elsewhere.getVolumeId()).isNotEqualTo(w.fid().getVolumeId());
            assertThat(local.read(elsewhere)).isEqualTo(data);
        }
    }

    private StoreNode storeOf(StoreInfo replica) {
        return cluster.store(Integer.parseInt(replica.getStoreId().substring("store".length())));
    }

    private void flipByteInTheMiddle(StoreInfo replica, int volumeId) throws Exception {
        flipByte(replica, volumeId, -1);
    }

    /** Flips the byte {@code fromEnd} bytes before the end of a replica's volume file (-1: the middle). */
    private void flipByte(StoreInfo replica, int volumeId, long fromEnd) throws Exception {
        Path dat = dir.resolve(replica.getStoreId()).resolve(volumeId + ".dat");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dat,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            long at = fromEnd < 0 ? ch.size() / 2 : ch.size() - fromEnd;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.rewind(), at);
        }
    }

    private static void assertCode(ErrorCode code, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(HayloftException.class,
                e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }
}
