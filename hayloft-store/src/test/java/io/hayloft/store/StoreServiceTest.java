package io.hayloft.store;

import static org.assertj.core.api.Assertions.assertThat;
import static io.hayloft.store.StoreTestSupport.bytes;
import static io.hayloft.store.StoreTestSupport.codeOf;
import static io.hayloft.store.StoreTestSupport.crc;
import static io.hayloft.store.StoreTestSupport.fid;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.CatchUpVolumeRequest;
import io.hayloft.proto.v1.CopyVolumeProgress;
import io.hayloft.proto.v1.CopyVolumeRequest;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.DropVolumeRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.ReadRecordRequest;
import io.hayloft.proto.v1.SetReplicasRequest;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.volume.RecordSummary;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.VolumeConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real store server on loopback, driven by the generated gRPC client. */
class StoreServiceTest {
    @TempDir
    Path dir;

    private StoreServer server;
    private ManagedChannel channel;
    private StoreGrpc.StoreBlockingStub blocking;
    private StoreGrpc.StoreStub async;

    @BeforeEach
    void start() throws Exception {
        server = StoreServer.start("a", dir.resolve("a"), VolumeConfig.defaults().withNeedleSizeBytesMax(4 << 20),
                new InetSocketAddress("127.0.0.1", 0));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        blocking = StoreGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        async = StoreGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        blocking.createVolume(CreateVolumeRequest.newBuilder().setVolumeId(1).setSalt(99).build());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.close();
    }

    long write(StoreGrpc.StoreStub stub, Fid fid, byte[] data, int crc, long sequence) throws Exception {
        return StoreTestSupport.write(stub, fid, data, crc, sequence);
    }

    byte[] read(Fid fid) {
        return StoreTestSupport.read(blocking, fid);
    }

    byte[] read(StoreServer server, Fid fid) throws InterruptedException {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            return StoreTestSupport.read(StoreGrpc.newBlockingStub(ch), fid);
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void writeReadDeleteOverTheWire() throws Exception {
        for (int size : new int[] {0, 1, 4096, 1_048_577, 3_000_000}) {
            byte[] data = bytes(size, size);
            write(async, fid(size + 1, 7), data, crc(data), 0);
            assertThat(read(fid(size + 1, 7))).isEqualTo(data);
        }
        assertThat(codeOf(catchThrowable(() -> read(fid(1, 8))))).isEqualTo(ErrorCode.WRONG_COOKIE);
        assertThat(codeOf(catchThrowable(() -> read(fid(12345, 7))))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(codeOf(catchThrowable(() -> read(Fid.newBuilder().setVolumeId(9).build()))))
                .isEqualTo(ErrorCode.NO_SUCH_VOLUME);
        blocking.deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid(1, 7)).build());
        assertThat(codeOf(catchThrowable(() -> read(fid(1, 7))))).isEqualTo(ErrorCode.DELETED);
    }

    @Test
    void badWritesAreRefused() throws Exception {
        byte[] data = bytes(1, 1000);
        assertThat(codeOf(catchThrowable(() -> write(async, fid(1, 1), data, crc(data) ^ 1, 0))))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        byte[] huge = new byte[(4 << 20) + 1];
        assertThat(codeOf(catchThrowable(() -> write(async, fid(2, 1), huge, crc(huge), 0))))
                .isEqualTo(ErrorCode.NEEDLE_TOO_LARGE);
        assertThat(codeOf(catchThrowable(() -> read(fid(1, 1))))).isEqualTo(ErrorCode.NOT_FOUND);
        write(async, fid(3, 1), data, crc(data), 0);
        assertThat(read(fid(3, 1))).isEqualTo(data);
    }

    /** A whole needle in one message: the same write as WriteNeedle, and the same typed errors. */
    @Test
    void smallWritesInOneMessage() throws Exception {
        StoreGrpc.StoreFutureStub unary = StoreGrpc.newFutureStub(channel);
        for (int size : new int[] {0, 1, 4095, 4097, 1 << 20}) {
            byte[] data = bytes(size, size);
            assertThat(StoreTestSupport.writeSmall(unary, fid(size + 1, 3), data)).isPositive();
            assertThat(read(fid(size + 1, 3))).isEqualTo(data);
        }
        byte[] data = bytes(7, 1000);
        assertThat(codeOf(catchThrowable(() -> StoreTestSupport.await(
                StoreTestSupport.startWriteSmall(unary, fid(20, 3), data, crc(data) ^ 1, data.length)))))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(codeOf(catchThrowable(() -> StoreTestSupport.await(
                StoreTestSupport.startWriteSmall(unary, fid(21, 3), data, crc(data), data.length + 1)))))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        byte[] tooLarge = bytes(8, (1 << 20) + 1);
        Throwable unaryTooLarge = catchThrowable(() -> StoreTestSupport.writeSmall(unary, fid(22, 3), tooLarge));
        assertThat(codeOf(unaryTooLarge)).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(unaryTooLarge).hasMessageContaining("WriteNeedle");
        assertThat(codeOf(catchThrowable(() -> StoreTestSupport.writeSmall(unary,
                Fid.newBuilder().setVolumeId(9).setNeedleId(1).build(), data)))).isEqualTo(ErrorCode.NO_SUCH_VOLUME);
        for (long needle = 20; needle <= 22; needle++) {
            long n = needle;
            assertThat(codeOf(catchThrowable(() -> read(fid(n, 3))))).isEqualTo(ErrorCode.NOT_FOUND);
        }
    }

    @Test
    void aSmallWriteOverTheVolumesLimitIsRefused() throws Exception {
        try (StoreServer small = StoreServer.start("small", dir.resolve("small"),
                VolumeConfig.defaults().withNeedleSizeBytesMax(1000), new InetSocketAddress("127.0.0.1", 0))) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", small.port()).usePlaintext().build();
            try {
                StoreGrpc.newBlockingStub(ch).createVolume(CreateVolumeRequest.newBuilder().setVolumeId(1).build());
                StoreGrpc.StoreFutureStub unary = StoreGrpc.newFutureStub(ch);
                assertThat(codeOf(catchThrowable(() -> StoreTestSupport.writeSmall(unary, fid(1, 1), bytes(1, 1001)))))
                        .isEqualTo(ErrorCode.NEEDLE_TOO_LARGE);
                assertThat(StoreTestSupport.writeSmall(unary, fid(2, 1), bytes(2, 1000))).isEqualTo(1);
            } finally {
                ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Bytes of writes being received are bounded: a write past the bound is refused, to be retried. */
    @Test
    void bytesInFlightAreBounded() throws Exception {
        try (StoreServer small = StoreServer.start("small", dir.resolve("small"), VolumeConfig.defaults(),
                StoreConfig.defaults().withBytesInFlightMax(1 << 20), new InetSocketAddress("127.0.0.1", 0),
                ReplicaFailureListener.logging())) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", small.port()).usePlaintext().build();
            try {
                StoreGrpc.StoreStub stub = StoreGrpc.newStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
                StoreGrpc.newBlockingStub(ch).createVolume(CreateVolumeRequest.newBuilder().setVolumeId(1).build());
                byte[] data = bytes(1, 800_000);
                CompletableFuture<WriteNeedleResponse> first = new CompletableFuture<>();
                StreamObserver<WriteNeedleRequest> open = stub.writeNeedle(new StreamObserver<>() {
                    @Override
                    public void onNext(WriteNeedleResponse r) {
                        first.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        first.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
                open.onNext(WriteNeedleRequest.newBuilder().setHeader(WriteHeader.newBuilder().setFid(fid(1, 1))
                        .setLength(data.length).setCrc32C(crc(data))).build());
                // The first write holds 800,000 of the 1 MiB while it is open: a second one does not fit.
                // (A probe that got in before the first header was read succeeds; each uses its own id.)
                java.util.concurrent.atomic.AtomicInteger probe = new java.util.concurrent.atomic.AtomicInteger(100);
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() ->
                        codeOfWrite(stub, fid(probe.incrementAndGet(), 2), data) == ErrorCode.UNAVAILABLE);
                assertThat(codeOf(catchThrowable(() -> read(small, fid(probe.get(), 2)))))
                        .isEqualTo(ErrorCode.NOT_FOUND);
                open.onNext(WriteNeedleRequest.newBuilder().setData(ByteString.copyFrom(data)).build());
                open.onCompleted();
                assertThat(first.get(30, TimeUnit.SECONDS).getSequence()).isPositive();
                assertThat(write(stub, fid(2, 2), data, crc(data), 0)).isPositive();
            } finally {
                ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    private ErrorCode codeOfWrite(StoreGrpc.StoreStub stub, Fid fid, byte[] data) {
        Throwable t = catchThrowable(() -> write(stub, fid, data, crc(data), 0));
        return t == null ? null : codeOf(t);
    }

    /** Repair calls that cannot be right are refused with a typed error, and leave nothing behind. */
    @Test
    void badRepairRequestsAreRefused() throws Exception {
        StoreInfo self = StoreInfo.newBuilder().setStoreId("a").setAddress("127.0.0.1:" + server.port()).build();
        StoreInfo other = StoreInfo.newBuilder().setStoreId("b").setAddress("127.0.0.1:1").build();
        CopyVolumeRequest fromItself = CopyVolumeRequest.newBuilder().setVolumeId(2).addReplicas(other)
                .addReplicas(self).setSource(self).build();
        assertThat(codeOf(catchThrowable(() -> blocking.copyVolume(fromItself).next())))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        CopyVolumeRequest asPrimary = CopyVolumeRequest.newBuilder().setVolumeId(2).addReplicas(self)
                .addReplicas(other).setSource(other).build();
        assertThat(codeOf(catchThrowable(() -> blocking.copyVolume(asPrimary).next())))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        CopyVolumeRequest withoutMe = CopyVolumeRequest.newBuilder().setVolumeId(2).addReplicas(other)
                .setSource(other).build();
        assertThat(codeOf(catchThrowable(() -> blocking.copyVolume(withoutMe).next())))
                .isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(server.volumes().volumes()).extracting(v -> v.id()).containsExactly(1);

        assertThat(codeOf(catchThrowable(() -> blocking.setReplicas(SetReplicasRequest.newBuilder().setVolumeId(9)
                .addReplicas(self).build())))).isEqualTo(ErrorCode.NO_SUCH_VOLUME);
        assertThat(codeOf(catchThrowable(() -> blocking.setReplicas(SetReplicasRequest.newBuilder().setVolumeId(1)
                .addReplicas(other).build())))).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(codeOf(catchThrowable(() -> blocking.readRecord(ReadRecordRequest.newBuilder().setVolumeId(1)
                .setNeedleId(404).build())))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(codeOf(catchThrowable(() -> blocking.catchUpVolume(CatchUpVolumeRequest.newBuilder()
                .setVolumeId(9).build())))).isEqualTo(ErrorCode.NO_SUCH_VOLUME);
        // Dropping a volume this store does not hold is no error (meta may ask twice).
        blocking.dropVolume(DropVolumeRequest.newBuilder().setVolumeId(9).build());
    }

    /**
     * A volume copied from another store over CopyVolume holds the same records, the copy
     * resumes after the records it has, and ReadRecord serves a record whole with its sequence.
     */
    @Test
    void aVolumeIsCopiedAndACopyResumesWhereItStopped() throws Exception {
        for (int i = 1; i <= 30; i++) {
            byte[] data = bytes(i, i * 1000);
            write(async, fid(i, i), data, crc(data), 0);
        }
        blocking.deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid(5, 5)).build());
        CatchUpRecord record = blocking.readRecord(ReadRecordRequest.newBuilder().setVolumeId(1).setNeedleId(7).build());
        assertThat(record.getCookie()).isEqualTo(7);
        assertThat(record.getSequence()).isEqualTo(7);
        assertThat(record.getData().toByteArray()).isEqualTo(bytes(7, 7000));
        try (StoreServer other = StoreServer.start("b", dir.resolve("b"), VolumeConfig.defaults(),
                new InetSocketAddress("127.0.0.1", 0))) {
            ManagedChannel otherChannel = NettyChannelBuilder.forAddress("127.0.0.1", other.port()).usePlaintext().build();
            try {
                StoreGrpc.StoreBlockingStub b = StoreGrpc.newBlockingStub(otherChannel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
                StoreInfo source = StoreInfo.newBuilder().setStoreId("a").setAddress("127.0.0.1:" + server.port())
                        .build();
                StoreInfo target = StoreInfo.newBuilder().setStoreId("b").setAddress("127.0.0.1:" + other.port())
                        .build();
                CopyVolumeRequest copy = CopyVolumeRequest.newBuilder().setVolumeId(1).addReplicas(source)
                        .addReplicas(target).setSource(source).setSalt(3).build();
                CopyVolumeProgress last = null;
                for (Iterator<CopyVolumeProgress> it = b.copyVolume(copy); it.hasNext(); ) {
                    last = it.next();
                }
                assertThat(last.getDone()).isTrue();
                assertThat(last.getRecordsCopied()).isEqualTo(31);
                assertThat(last.getLastSequence()).isEqualTo(31);

                // The source takes more writes; the same copy again brings only those.
                for (int i = 31; i <= 35; i++) {
                    byte[] data = bytes(i, 100);
                    write(async, fid(i, i), data, crc(data), 0);
                }
                for (Iterator<CopyVolumeProgress> it = b.copyVolume(copy); it.hasNext(); ) {
                    last = it.next();
                }
                assertThat(last.getRecordsCopied()).isEqualTo(5);
                assertThat(last.getLastSequence()).isEqualTo(36);
                assertThat(StoreTestSupport.read(b, fid(20, 20))).isEqualTo(bytes(20, 20_000));
                assertThat(StoreTestSupport.read(b, fid(33, 33))).isEqualTo(bytes(33, 100));
                assertThat(codeOf(catchThrowable(() -> StoreTestSupport.read(b, fid(5, 5)))))
                        .isEqualTo(ErrorCode.DELETED);
            } finally {
                otherChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A copy stops at the first record its replica refuses and applies none after it, though
     * records are applied many at once: a gap the refused record could never fill would leave the
     * replicas different for good.
     */
    @Test
    void aCopyAppliesNothingPastARecordItsReplicaRefuses() throws Exception {
        int[] sizes = {1000, 1000, 10_000, 1000, 1000, 1000};
        for (int i = 0; i < sizes.length; i++) {
            byte[] data = bytes(i + 1, sizes[i]);
            write(async, fid(i + 1, 1), data, crc(data), 0);
        }
        try (StoreServer other = StoreServer.start("b", dir.resolve("b"),
                VolumeConfig.defaults().withNeedleSizeBytesMax(4096), new InetSocketAddress("127.0.0.1", 0))) {
            ManagedChannel otherChannel = NettyChannelBuilder.forAddress("127.0.0.1", other.port()).usePlaintext().build();
            try {
                StoreInfo source = StoreInfo.newBuilder().setStoreId("a").setAddress("127.0.0.1:" + server.port())
                        .build();
                StoreInfo target = StoreInfo.newBuilder().setStoreId("b").setAddress("127.0.0.1:" + other.port())
                        .build();
                CopyVolumeRequest copy = CopyVolumeRequest.newBuilder().setVolumeId(1).addReplicas(source)
                        .addReplicas(target).setSource(source).build();
                Iterator<CopyVolumeProgress> it = StoreGrpc.newBlockingStub(otherChannel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS).copyVolume(copy);
                assertThat(codeOf(catchThrowable(() -> it.forEachRemaining(p -> { }))))
                        .isEqualTo(ErrorCode.NEEDLE_TOO_LARGE);
                assertThat(other.volumes().get(1).lastSequence()).isEqualTo(2);
            } finally {
                otherChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A copy into a store that already holds a replica of the volume keeps it when its records
     * are a prefix of the source's, and copies only what it lacks; one holding a record the
     * source never had is rebuilt from scratch. A catch-up of such a replica from its primary
     * rebuilds it as well, and the source refuses a pull whose last record it does not hold.
     */
    @Test
    void aReplicaThatIsAPrefixIsKeptAndOneThatDivergedIsRebuilt() throws Exception {
        for (int i = 1; i <= 10; i++) {
            byte[] data = bytes(i, 500 + i);
            write(async, fid(i, i), data, crc(data), 0);
        }
        try (StoreServer other = StoreServer.start("b", dir.resolve("b"), VolumeConfig.defaults(),
                new InetSocketAddress("127.0.0.1", 0))) {
            ManagedChannel otherChannel = NettyChannelBuilder.forAddress("127.0.0.1", other.port()).usePlaintext().build();
            try {
                StoreGrpc.StoreBlockingStub b = StoreGrpc.newBlockingStub(otherChannel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
                StoreInfo source = StoreInfo.newBuilder().setStoreId("a").setAddress("127.0.0.1:" + server.port())
                        .build();
                StoreInfo target = StoreInfo.newBuilder().setStoreId("b").setAddress("127.0.0.1:" + other.port())
                        .build();
                StoreInfo third = StoreInfo.newBuilder().setStoreId("c").setAddress("127.0.0.1:1").build();
                CopyVolumeRequest first = CopyVolumeRequest.newBuilder().setVolumeId(1).addReplicas(source)
                        .addReplicas(target).setSource(source).setSalt(3).build();
                assertThat(copy(b, first).getRecordsCopied()).isEqualTo(10);

                // More writes; a copy for another replica set keeps the replica and brings the rest.
                for (int i = 11; i <= 15; i++) {
                    byte[] data = bytes(i, 700);
                    write(async, fid(i, i), data, crc(data), 0);
                }
                CopyVolumeRequest rejoin = first.toBuilder().addReplicas(third).setSalt(4).build();
                CopyVolumeProgress kept = copy(b, rejoin);
                assertThat(kept.getRecordsCopied()).isEqualTo(5);
                assertThat(kept.getLastSequence()).isEqualTo(15);

                // The replica takes a record the source never has; the source's next one differs.
                byte[] foreign = bytes(999, 300);
                other.volumes().get(1).applyReplicated(new ReplicatedNeedle(999, 9, false, 16,
                        java.nio.ByteBuffer.wrap(foreign)));
                byte[] sixteenth = bytes(16, 300);
                write(async, fid(16, 16), sixteenth, crc(sixteenth), 0);
                RecordSummary theirs = other.volumes().get(1).recordAt(16);
                assertThat(codeOf(catchThrowable(() -> blocking.catchUp(CatchUpRequest.newBuilder().setVolumeId(1)
                        .setAfterSequence(16).setAfterRecord(CatchUpRecords.check(theirs)).build()).next())))
                        .isEqualTo(ErrorCode.REPLICA_DIVERGED);
                CopyVolumeProgress rebuilt = copy(b, rejoin);
                assertThat(rebuilt.getRecordsCopied()).isEqualTo(16);
                assertThat(other.volumes().get(1).recordAt(16)).isEqualTo(server.volumes().get(1).recordAt(16));
                assertThat(codeOf(catchThrowable(() -> StoreTestSupport.read(b, fid(999, 9)))))
                        .isEqualTo(ErrorCode.NOT_FOUND);
                assertThat(StoreTestSupport.read(b, fid(16, 16))).isEqualTo(sixteenth);

                // The same again, mended by a catch-up with the primary: rebuilt as well.
                other.volumes().get(1).applyReplicated(new ReplicatedNeedle(998, 9, false, 17,
                        java.nio.ByteBuffer.wrap(foreign)));
                byte[] seventeenth = bytes(17, 300);
                write(async, fid(17, 17), seventeenth, crc(seventeenth), 0);
                assertThat(b.catchUpVolume(CatchUpVolumeRequest.newBuilder().setVolumeId(1).build())
                        .getLastSequence()).isEqualTo(17);
                assertThat(CatchUpRecords.check(other.volumes().get(1).recordAt(17)))
                        .isEqualTo(CatchUpRecords.check(server.volumes().get(1).recordAt(17)));
                assertThat(StoreTestSupport.read(b, fid(5, 5))).isEqualTo(bytes(5, 505));
            } finally {
                otherChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    private static CopyVolumeProgress copy(StoreGrpc.StoreBlockingStub b, CopyVolumeRequest request) {
        CopyVolumeProgress last = null;
        for (Iterator<CopyVolumeProgress> it = b.copyVolume(request); it.hasNext(); ) {
            last = it.next();
        }
        assertThat(last.getDone()).isTrue();
        return last;
    }

    /** A second store catches up from the first through CatchUp and replica writes. */
    @Test
    void aReplicaCatchesUpOverTheWire() throws Exception {
        for (int i = 1; i <= 50; i++) {
            byte[] data = bytes(i, i * 100);
            write(async, fid(i, i), data, crc(data), 0);
        }
        blocking.deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid(10, 10)).build());
        try (StoreServer other = StoreServer.start("b", dir.resolve("b"), VolumeConfig.defaults(),
                new InetSocketAddress("127.0.0.1", 0))) {
            ManagedChannel otherChannel = NettyChannelBuilder.forAddress("127.0.0.1", other.port()).usePlaintext().build();
            try {
                StoreGrpc.StoreBlockingStub b = StoreGrpc.newBlockingStub(otherChannel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
                StoreGrpc.StoreStub bAsync = StoreGrpc.newStub(otherChannel).withDeadlineAfter(30, TimeUnit.SECONDS);
                b.createVolume(CreateVolumeRequest.newBuilder().setVolumeId(1).setSalt(5).build());
                Iterator<CatchUpRecord> records = blocking.catchUp(
                        CatchUpRequest.newBuilder().setVolumeId(1).setAfterSequence(0).build());
                int n = 0;
                while (records.hasNext()) {
                    CatchUpRecord r = records.next();
                    if (r.getTombstone()) {
                        b.deleteNeedle(DeleteNeedleRequest.newBuilder()
                                .setFid(fid(r.getNeedleId(), r.getCookie())).setSequence(r.getSequence()).build());
                    } else {
                        write(bAsync, fid(r.getNeedleId(), r.getCookie()), r.getData().toByteArray(), r.getCrc32C(),
                                r.getSequence());
                    }
                    n++;
                }
                assertThat(n).isEqualTo(51);
                Iterator<ReadNeedleResponse> it = b.readNeedle(ReadNeedleRequest.newBuilder().setFid(fid(20, 20)).build());
                assertThat(it.next().getHeader().getLength()).isEqualTo(2000);
                assertThat(other.volumes().get(1).stats().lastSequence()).isEqualTo(51);
                assertThat(codeOf(catchThrowable(() -> b.readNeedle(ReadNeedleRequest.newBuilder()
                        .setFid(fid(10, 10)).build()).next()))).isEqualTo(ErrorCode.DELETED);
            } finally {
                otherChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }
}
