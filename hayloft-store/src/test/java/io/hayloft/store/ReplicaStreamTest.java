package io.hayloft.store;

import static io.hayloft.store.StoreTestSupport.WAIT_SECONDS;
import static io.hayloft.store.StoreTestSupport.bytes;
import static io.hayloft.store.StoreTestSupport.codeOf;
import static io.hayloft.store.StoreTestSupport.crc;
import static io.hayloft.store.StoreTestSupport.fid;
import static io.hayloft.store.StoreTestSupport.read;
import static io.hayloft.store.StoreTestSupport.startWriteSmall;
import static io.hayloft.store.StoreTestSupport.write;
import static io.hayloft.store.StoreTestSupport.writeSmall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeSet;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication over the long-lived Replicate streams: a primary keeps one stream per secondary for
 * every volume and writer, and the failure rule holds when a stream breaks.
 */
class ReplicaStreamTest {
    private static final VolumeConfig VOLUMES = VolumeConfig.defaults().withNeedleSizeBytesMax(4 << 20);
    /** Records may wait for lower ones for as long as a loaded machine needs; the bound has tests of its own. */
    private static final StoreConfig STORES = StoreConfig.defaults().withReplicaOrderWaitMs(10_000);
    /** A secondary that holds a record behind a missing lower one for longer than any test runs. */
    private static final StoreConfig HOLDING = StoreConfig.defaults().withReplicaOrderWaitMs(60_000);

    @TempDir
    Path dir;

    private StoreFixture stores;

    @BeforeEach
    void setUp() {
        stores = new StoreFixture(dir, VOLUMES);
    }

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private void startThree() throws Exception {
        for (String id : List.of("A", "B", "C")) {
            stores.start(id, STORES);
        }
        stores.createVolume(1, 42, "A", "B", "C");
    }

    private void assertIdentical(int volumeId, String... ids) throws Exception {
        List<ReplicatedNeedle> first = stores.records(ids[0], volumeId);
        for (String id : ids) {
            assertThat(stores.records(id, volumeId)).as(id).isEqualTo(first);
        }
    }

    private long delete(String id, Fid fid) {
        return stores.blocking(id).deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid).build()).getSequence();
    }

    /**
     * 64 writers, unary and streamed writes of awkward sizes around the 1 MiB a stream record can
     * carry, and deletes, all at once: every replica holds the same records under the same
     * sequences, and each secondary has one stream open from the primary.
     */
    @Test
    void manyConcurrentWritersOverTheStreamKeepReplicasIdentical() throws Exception {
        startThree();
        int[] sizes = {0, 1, 17, 4095, 4096, 4097, 100_000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1};
        int writers = 64;
        int perWriter = 6;
        Map<Long, byte[]> live = new ConcurrentHashMap<>();
        StoreGrpc.StoreFutureStub unary = stores.future("A");
        StoreGrpc.StoreStub streamed = stores.async("A");
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perWriter; i++) {
                        long needle = writer * 100L + i + 1;
                        byte[] data = bytes(needle, sizes[(int) (needle % sizes.length)]);
                        long sequence = data.length <= 1 << 20 ? writeSmall(unary, fid(needle, 1), data)
                                : write(streamed, fid(needle, 1), data);
                        assertThat(sequence).isPositive();
                        if (i % 3 == 2) {
                            assertThat(delete("A", fid(needle, 1))).isPositive();
                        } else {
                            live.put(needle, data);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                try {
                    f.get(120, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw new AssertionError("a write failed; replica failures reported: " + stores.reported, e);
                }
            }
        }
        int records = writers * perWriter + writers * (perWriter / 3);
        assertThat(stores.records("A", 1)).extracting(ReplicatedNeedle::sequence)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, records).boxed().toList());
        assertIdentical(1, "A", "B", "C");
        for (String id : List.of("B", "C")) {
            assertThat(stores.get(id).service().replicaStreamsOpen()).as(id).isEqualTo(1);
            StoreGrpc.StoreBlockingStub stub = stores.blocking(id);
            for (Map.Entry<Long, byte[]> e : live.entrySet()) {
                assertThat(read(stub, fid(e.getKey(), 1))).isEqualTo(e.getValue());
            }
        }
        assertThat(stores.reported).isEmpty();
    }

    /**
     * Writes pending on a secondary's stream fail with REPLICA_FAILED when the secondary stops,
     * without waiting for the forward deadline (a minute here), and the primary's volume turns
     * read-only. S2 holds the records: sequence 1 exists on the primary alone, and S2 waits
     * for it.
     */
    @Test
    void aSecondaryStoppedMidStreamFailsThePendingWrites() throws Exception {
        stores.start("P", STORES.withForwardTimeoutMs(60_000));
        stores.start("S1", STORES);
        stores.start("S2", HOLDING);
        stores.createVolume(1, 7, "P", "S1", "S2");
        stores.get("P").volumes().get(1).append(1, 1, new byte[10]);
        StoreGrpc.StoreFutureStub primary = stores.future("P");
        List<CompletableFuture<Long>> pending = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] data = bytes(i, 1000 + i);
            pending.add(startWriteSmall(primary, fid(10 + i, 1), data, crc(data), data.length));
        }
        Awaitility.await().atMost(Duration.ofSeconds(WAIT_SECONDS))
                .until(() -> stores.get("S2").service().replicaOrder().waiting(1) == pending.size());
        stores.stop("S2");
        for (CompletableFuture<Long> write : pending) {
            Throwable failed = catchThrowable(() -> StoreTestSupport.await(write));
            assertThat(codeOf(failed)).isEqualTo(ErrorCode.REPLICA_FAILED);
            assertThat(failed).hasMessageContaining("store S2 at ");
        }
        assertThat(stores.get("P").volumes().get(1).isSealed()).isTrue();
        assertThat(stores.reported).isNotEmpty().allMatch(r -> r.startsWith("P reports volume 1: "));
        assertThat(codeOf(catchThrowable(() -> writeSmall(primary, fid(30, 1), bytes(30, 10)))))
                .isEqualTo(ErrorCode.READ_ONLY);
    }

    /** The stream broken by a secondary's restart is opened again for the next record. */
    @Test
    void theStreamReopensAfterASecondaryRestarts() throws Exception {
        startThree();
        StoreGrpc.StoreFutureStub primary = stores.future("A");
        writeSmall(primary, fid(1, 1), bytes(1, 100));
        stores.stop("C");
        assertThat(codeOf(catchThrowable(() -> writeSmall(primary, fid(2, 1), bytes(2, 100)))))
                .isEqualTo(ErrorCode.REPLICA_FAILED);
        stores.start("C", STORES);
        // Meta would now put new writes on a new volume.
        stores.createVolume(2, 43, "A", "B", "C");
        byte[] data = bytes(3, 5000);
        long sequence = writeSmall(primary, Fid.newBuilder().setVolumeId(2).setNeedleId(3).setCookie(1).build(), data);
        assertThat(sequence).isEqualTo(1);
        assertIdentical(2, "A", "B", "C");
        assertThat(read(stores.blocking("C"), Fid.newBuilder().setVolumeId(2).setNeedleId(3).setCookie(1).build()))
                .isEqualTo(data);
        assertThat(stores.get("C").service().replicaStreamsOpen()).isEqualTo(1);
    }

    @Test
    void deletesGoOverTheStream() throws Exception {
        startThree();
        StoreGrpc.StoreFutureStub primary = stores.future("A");
        writeSmall(primary, fid(1, 5), bytes(1, 4096));
        writeSmall(primary, fid(2, 5), bytes(2, 0));
        assertThat(delete("A", fid(1, 5))).isEqualTo(3);
        assertThat(delete("A", fid(2, 5))).isEqualTo(4);
        for (String id : List.of("A", "B", "C")) {
            assertThat(codeOf(catchThrowable(() -> read(stores.blocking(id), fid(1, 5))))).as(id)
                    .isEqualTo(ErrorCode.DELETED);
            assertThat(codeOf(catchThrowable(() -> read(stores.blocking(id), fid(2, 5))))).as(id)
                    .isEqualTo(ErrorCode.DELETED);
        }
        assertIdentical(1, "A", "B", "C");
        assertThat(stores.records("B", 1)).extracting(ReplicatedNeedle::tombstone)
                .containsExactly(false, false, true, true);
        assertThat(stores.get("B").service().replicaStreamsOpen()).isEqualTo(1);
    }

    /**
     * A secondary answers a record it cannot take with an error on the stream: that write fails
     * by the failure rule, and the stream carries on for other volumes.
     */
    @Test
    void aRecordRefusedBySecondaryFailsItsWriteAndTheStreamGoesOn() throws Exception {
        startThree();
        // Volume 2 lists C, which never got it: C answers NO_SUCH_VOLUME.
        io.hayloft.proto.v1.CreateVolumeRequest two = io.hayloft.proto.v1.CreateVolumeRequest.newBuilder()
                .setVolumeId(2).setSalt(9)
                .addReplicas(io.hayloft.proto.v1.StoreInfo.newBuilder().setStoreId("A").setAddress(stores.address("A")))
                .addReplicas(io.hayloft.proto.v1.StoreInfo.newBuilder().setStoreId("B").setAddress(stores.address("B")))
                .addReplicas(io.hayloft.proto.v1.StoreInfo.newBuilder().setStoreId("C").setAddress(stores.address("C")))
                .build();
        stores.blocking("A").createVolume(two);
        stores.blocking("B").createVolume(two);
        StoreGrpc.StoreFutureStub primary = stores.future("A");
        Fid onTwo = Fid.newBuilder().setVolumeId(2).setNeedleId(1).setCookie(1).build();
        Throwable failed = catchThrowable(() -> writeSmall(primary, onTwo, bytes(1, 10)));
        assertThat(codeOf(failed)).isEqualTo(ErrorCode.REPLICA_FAILED);
        assertThat(failed).hasMessageContaining("store C at ").hasMessageContaining("NO_SUCH_VOLUME");
        assertThat(stores.get("A").volumes().get(2).isSealed()).isTrue();
        writeSmall(primary, fid(2, 1), bytes(2, 10));
        assertIdentical(1, "A", "B", "C");
        assertThat(stores.get("C").service().replicaStreamsOpen()).isEqualTo(1);
    }

    /**
     * A secondary refuses a record that would pass its bytes in flight with UNAVAILABLE, and the
     * primary fails that write: S holds a first record of 700,000 bytes (it waits for sequence 1,
     * which only the primary has), so a second one does not fit in its 1 MiB.
     */
    @Test
    void aSecondaryRefusesRecordsPastItsBytesInFlight() throws Exception {
        stores.start("P", STORES);
        stores.start("S", HOLDING.withBytesInFlightMax(1 << 20));
        stores.createVolume(1, 7, "P", "S");
        stores.get("P").volumes().get(1).append(1, 1, new byte[10]);
        StoreGrpc.StoreFutureStub primary = stores.future("P");
        byte[] data = bytes(2, 700_000);
        CompletableFuture<Long> held = startWriteSmall(primary, fid(2, 1), data, crc(data), data.length);
        Awaitility.await().atMost(Duration.ofSeconds(WAIT_SECONDS))
                .until(() -> stores.get("S").service().replicaOrder().waiting(1) == 1);
        Throwable refused = catchThrowable(() -> writeSmall(primary, fid(3, 1), data));
        assertThat(codeOf(refused)).isEqualTo(ErrorCode.REPLICA_FAILED);
        assertThat(refused).hasMessageContaining("store S at ").hasMessageContaining("UNAVAILABLE");
        stores.stop("S");
        assertThat(codeOf(catchThrowable(() -> StoreTestSupport.await(held)))).isEqualTo(ErrorCode.REPLICA_FAILED);
    }

    /**
     * A secondary of an older release, which does not serve Replicate, still gets every record,
     * by WriteNeedle and DeleteNeedle.
     */
    @Test
    void aSecondaryWithoutReplicateGetsRecordsByTheOlderCalls() throws Exception {
        stores.start("P", STORES);
        try (VolumeSet oldVolumes = VolumeSet.open(dir.resolve("old"), VOLUMES);
                ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
                StoreService oldService = new StoreService("old", oldVolumes, STORES, ReplicaFailureListener.logging(),
                        executor)) {
            ServerServiceDefinition all = oldService.bindService();
            ServerServiceDefinition.Builder withoutReplicate = ServerServiceDefinition.builder(
                    all.getServiceDescriptor().getName());
            for (ServerMethodDefinition<?, ?> m : all.getMethods()) {
                if (!m.getMethodDescriptor().getBareMethodName().equals("Replicate")) {
                    withoutReplicate.addMethod(m);
                }
            }
            Server old = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .directExecutor().addService(withoutReplicate.build()).build().start();
            try {
                io.hayloft.proto.v1.CreateVolumeRequest create = io.hayloft.proto.v1.CreateVolumeRequest.newBuilder()
                        .setVolumeId(1).setSalt(3)
                        .addReplicas(io.hayloft.proto.v1.StoreInfo.newBuilder().setStoreId("P")
                                .setAddress(stores.address("P")))
                        .addReplicas(io.hayloft.proto.v1.StoreInfo.newBuilder().setStoreId("old")
                                .setAddress("127.0.0.1:" + old.getPort()))
                        .build();
                stores.blocking("P").createVolume(create);
                io.grpc.ManagedChannel toOld = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                        .forAddress("127.0.0.1", old.getPort()).usePlaintext().build();
                try {
                    StoreGrpc.newBlockingStub(toOld).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS)
                            .createVolume(create);
                } finally {
                    toOld.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                }
                StoreGrpc.StoreFutureStub primary = stores.future("P");
                for (int i = 1; i <= 5; i++) {
                    assertThat(writeSmall(primary, fid(i, 1), bytes(i, 100 * i))).isEqualTo(i);
                }
                assertThat(delete("P", fid(2, 1))).isEqualTo(6);
                assertThat(oldVolumes.get(1).recordsAfter(0, 1 << 20)).isEqualTo(stores.records("P", 1));
                assertThat(stores.reported).isEmpty();
            } finally {
                old.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }
}
