package io.hayloft.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.hayloft.client.HayloftClient;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.CopyVolumeProgress;
import io.hayloft.proto.v1.CopyVolumeRequest;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeReport;
import io.hayloft.proto.v1.VolumeState;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteSmallNeedleRequest;
import io.hayloft.store.StoreConfig;
import io.hayloft.store.StoreServer;
import io.hayloft.volume.Volume;
import io.hayloft.volume.format.NeedleFormat;
import java.nio.ByteBuffer;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replication manager in a real cluster in this JVM: a dead store's volumes copied to other
 * stores, a returning store's replaced replicas dropped, a volume sealed by a failed write made
 * writable again, and a replaced primary fenced off from its old secondaries.
 */
class RepairTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration DEAD = Duration.ofSeconds(2);

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

    private void start(int stores) throws Exception {
        cluster = LocalCluster.start(dir, LocalCluster.Options.defaults().withMetaPeers(1).withStores(stores)
                .withLiveness(HEARTBEAT, DEAD));
        client = cluster.client();
    }

    private Set<Integer> volumesOn(String storeId) {
        Set<Integer> out = new HashSet<>();
        for (VolumeInfo v : client.meta().clusterStatus().getVolumesList()) {
            if (v.getReplicasList().stream().anyMatch(r -> r.getStoreId().equals(storeId))) {
                out.add(v.getVolumeId());
            }
        }
        return out;
    }

    @Test
    void aDeadStoresVolumesAreCopiedElsewhereAndHealedAgainWhenItReturns() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(5);
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 400, 8);
        // Needles the size of a gateway chunk (4 MiB) and larger travel whole in one copy record.
        byte[] big = new byte[6 << 20];
        new Random(seed).nextBytes(big);
        Fid chunkSized = client.write(Arrays.copyOf(big, 4 << 20));
        Fid larger = client.write(big);
        Set<Integer> lost = volumesOn("store0");
        assertThat(lost).isNotEmpty();

        cluster.stopStore(0);
        // Three missed heartbeats make it suspect, the dead timeout dead.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> cluster.storeState(0) == StoreState.STORE_SUSPECT);
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.storeState(0) == StoreState.STORE_DEAD);
        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(volumesOn("store0")).isEmpty();
        ClusterStatusResponse status = client.meta().clusterStatus();
        assertThat(status.getRepair().getDone()).isGreaterThanOrEqualTo(lost.size());
        assertThat(status.getRepair().getBytesCopied()).isPositive();
        SeededBlobs.readAll(client, seed, 0, fids, 8);
        assertThat(client.read(chunkSized)).isEqualTo(Arrays.copyOf(big, 4 << 20));
        assertThat(client.read(larger)).isEqualTo(big);

        // The copies hold the data: with a second original replica gone as well, every blob is
        // still read, and the cluster heals again on the stores left.
        String second = status.getVolumesList().stream().filter(v -> lost.contains(v.getVolumeId()))
                .findFirst().orElseThrow().getReplicas(0).getStoreId();
        int secondIndex = Integer.parseInt(second.substring("store".length()));
        cluster.stopStore(secondIndex);
        SeededBlobs.readAll(client, seed, 0, fids, 8);
        assertThat(client.read(larger)).isEqualTo(big);
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.storeState(secondIndex) == StoreState.STORE_DEAD);
        cluster.awaitHealed(Duration.ofSeconds(60));

        // Both come back: their replaced replicas rejoin in place of fuller stores' or are dropped;
        // writes go on.
        cluster.restartStore(0);
        cluster.restartStore(secondIndex);
        cluster.awaitStoresLive(Duration.ofSeconds(20));
        cluster.awaitHealed(Duration.ofSeconds(60));
        List<Fid> more = SeededBlobs.writeAll(client, seed, 400, 500, 8);
        SeededBlobs.readAll(client, seed, 400, more, 8);
        SeededBlobs.readAll(client, seed, 0, fids, 8);
    }

    /**
     * Stops store0 (sealing its replicas first when asked) and waits until it is dead and every
     * volume it held has its replicas elsewhere; returns those volumes.
     */
    private Set<Integer> replaceStore0(boolean sealFirst) throws Exception {
        Set<Integer> held = volumesOn("store0");
        assertThat(held).isNotEmpty();
        if (sealFirst) {
            for (int id : held) {
                cluster.store(0).server().volumes().get(id).seal();
            }
        }
        cluster.stopStore(0);
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.storeState(0) == StoreState.STORE_DEAD);
        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(volumesOn("store0")).isEmpty();
        return held;
    }

    /**
     * A store that returns after its volumes were copied elsewhere holds replicas beyond their
     * volumes' replication factor: each rejoins its set, caught up by sequence (only what it
     * missed is copied), in place of the replica on the set's fullest store, which is dropped;
     * the stores end up holding equal numbers of replicas.
     */
    @Test
    void aReturningStoresReplicasRejoinInPlaceOfTheFullestStores() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(4);
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 200, 8);
        Set<Integer> held = replaceStore0(false);
        List<Fid> whileAway = SeededBlobs.writeAll(client, seed, 200, 220, 4);
        ClusterStatusResponse before = client.meta().clusterStatus();
        long heldBytes = before.getVolumesList().stream().filter(v -> held.contains(v.getVolumeId()))
                .mapToLong(VolumeInfo::getSizeBytes).sum();

        cluster.restartStore(0);
        cluster.awaitStoresLive(Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(60)).until(() -> !volumesOn("store0").isEmpty());
        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(held).containsAll(volumesOn("store0"));
        ClusterStatusResponse after = client.meta().clusterStatus();
        java.util.Map<String, Integer> load = new java.util.HashMap<>();
        for (VolumeInfo v : after.getVolumesList()) {
            v.getReplicasList().forEach(r -> load.merge(r.getStoreId(), 1, Integer::sum));
        }
        assertThat(load).hasSize(4);
        assertThat(java.util.Collections.max(load.values()) - java.util.Collections.min(load.values()))
                .isLessThanOrEqualTo(1);
        // Caught up, not copied again: the rejoins moved far less than the volumes hold.
        assertThat(after.getRepair().getBytesCopied() - before.getRepair().getBytesCopied())
                .isLessThan(heldBytes / 2);
        SeededBlobs.readAll(client, seed, 0, fids, 8);
        SeededBlobs.readAll(client, seed, 200, whileAway, 4);
        List<Fid> more = SeededBlobs.writeAll(client, seed, 220, 300, 4);
        SeededBlobs.readAll(client, seed, 220, more, 4);
    }

    /**
     * Replicas outside their volume's set report themselves sealed: a returning store's replicas
     * sealed before it left, and after each rejoin the replica it replaced, which the rejoin seals.
     * Only the set's own reports make a volume read-only, and a sealed replica that rejoins is
     * unsealed to take what it missed. Found by the fault-injection suite: such reports sealed the
     * volume again after every catch-up, the catch-ups took every repair slot over and over, and
     * the drops and rejoins that would have ended them never ran; and a sealed replica refused the
     * records of its rejoin, which failed again and again.
     */
    @Test
    void sealedReplicasOutsideTheirSetDoNotSealTheirVolumes() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(4);
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 200, 8);
        Set<Integer> held = replaceStore0(true);
        // Records its old replicas lack: a rejoin appends them to a sealed replica.
        List<Fid> whileAway = SeededBlobs.writeAll(client, seed, 200, 260, 4);

        // What the returning store says first: its old replicas are sealed.
        HeartbeatRequest.Builder beat = HeartbeatRequest.newBuilder().setStoreId("store0");
        for (int id : held) {
            beat.addVolumes(VolumeReport.newBuilder().setVolumeId(id).setReadOnly(true));
        }
        client.meta().heartbeat(beat.build());
        for (int id : held) {
            assertThat(client.meta().lookupVolume(id).getState()).isEqualTo(VolumeState.VOLUME_WRITABLE);
        }

        cluster.restartStore(0);
        cluster.awaitStoresLive(Duration.ofSeconds(20));
        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(client.meta().clusterStatus().getVolumesList()).extracting(VolumeInfo::getState)
                .containsOnly(VolumeState.VOLUME_WRITABLE);
        SeededBlobs.readAll(client, seed, 0, fids, 8);
        SeededBlobs.readAll(client, seed, 200, whileAway, 4);
        List<Fid> more = SeededBlobs.writeAll(client, seed, 260, 300, 4);
        SeededBlobs.readAll(client, seed, 260, more, 4);
    }

    /**
     * A copy's source that stops sending (a store whose disk hangs still answers gRPC's pings) is
     * given up after the stall limit, not held for the call's 24-hour deadline; a slow source that
     * keeps sending, each record well within the limit, is not, however long the whole pull takes.
     * The source here is a relay in front of a real store: silent, or passing each record on late.
     */
    @Test
    void aPullIsGivenUpWhenItsSourceFallsSilentButNotWhenItIsSlow() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        // Heartbeats far apart: meta never hears of the replicas made here behind its back.
        cluster = LocalCluster.start(dir, LocalCluster.Options.defaults().withMetaPeers(1).withStores(4)
                .withLiveness(Duration.ofMinutes(10), Duration.ofMinutes(30))
                .withStoreConfig(StoreConfig.defaults().withPullStallMs(1_000)));
        client = cluster.client();
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 48, 4);
        int volumeId = fids.getFirst().getVolumeId();
        VolumeInfo v = client.meta().lookupVolume(volumeId);
        Set<String> holders = new HashSet<>(v.getReplicasList().stream().map(StoreInfo::getStoreId).toList());
        int target = 0;
        while (holders.contains(cluster.storeId(target))) {
            target++;
        }
        StoreInfo source = v.getReplicas(0);
        ManagedChannel toSource = NettyChannelBuilder.forTarget(source.getAddress()).usePlaintext().build();
        ManagedChannel toTarget = NettyChannelBuilder.forTarget(cluster.store(target).address()).usePlaintext()
                .build();
        AtomicBoolean silent = new AtomicBoolean(true);
        Server relay = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new StoreGrpc.StoreImplBase() {
                    @Override
                    public void catchUp(CatchUpRequest request, StreamObserver<CatchUpRecord> out) {
                        if (silent.get()) {
                            return; // never answers
                        }
                        try {
                            Iterator<CatchUpRecord> it = StoreGrpc.newBlockingStub(toSource).catchUp(request);
                            while (it.hasNext()) {
                                Thread.sleep(250);
                                out.onNext(it.next());
                            }
                            out.onCompleted();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            out.onError(e);
                        } catch (RuntimeException e) {
                            out.onError(e);
                        }
                    }
                }).build().start();
        try {
            StoreInfo relayed = source.toBuilder().setAddress("127.0.0.1:" + relay.getPort()).build();
            List<StoreInfo> replicas = new ArrayList<>(v.getReplicasList());
            replicas.add(StoreInfo.newBuilder().setStoreId(cluster.storeId(target))
                    .setAddress(cluster.store(target).address()).build());
            CopyVolumeRequest copy = CopyVolumeRequest.newBuilder().setVolumeId(volumeId).addAllReplicas(replicas)
                    .setSource(relayed).setSalt(seed).build();
            StoreGrpc.StoreBlockingStub targetStub = StoreGrpc.newBlockingStub(toTarget);

            // Silent: given up with UNAVAILABLE long before this call's own deadline.
            assertThatThrownBy(() -> targetStub.withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS)
                    .copyVolume(copy).forEachRemaining(p -> { }))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(WireErrors.fromThrowable(e).map(io.hayloft.proto.v1.Error::getCode))
                                .contains(ErrorCode.UNAVAILABLE);
                        assertThat(e.getMessage()).contains("sent no record of volume " + volumeId);
                    });

            // Slow: every record comes 250 ms after the one before, the pull takes seconds, and it
            // is not given up.
            silent.set(false);
            Iterator<CopyVolumeProgress> progress = targetStub.withDeadlineAfter(120,
                    java.util.concurrent.TimeUnit.SECONDS).copyVolume(copy);
            CopyVolumeProgress last = null;
            while (progress.hasNext()) {
                last = progress.next();
            }
            assertThat(last.getDone()).isTrue();
            assertThat(last.getRecordsCopied()).isGreaterThan(6);
            Volume copied = cluster.store(target).server().volumes().get(volumeId);
            int sourceIndex = Integer.parseInt(source.getStoreId().substring("store".length()));
            assertThat(LocalCluster.records(copied))
                    .isEqualTo(LocalCluster.records(cluster.store(sourceIndex).server().volumes().get(volumeId)));
        } finally {
            relay.shutdownNow();
            toSource.shutdownNow();
            toTarget.shutdownNow();
        }
    }

    /**
     * Two replicas of a volume lost at once: each copy adds one replica, and the volume takes no
     * writes until the second one brings it back to its replication factor. Found by the
     * fault-injection suite: a copy replaced both lost replicas by one new one, and the volume
     * stayed on two replicas, writable, for good.
     */
    @Test
    void aVolumeThatLostTwoReplicasAtOnceGetsBothBack() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(5);
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 200, 8);
        VolumeInfo victim = client.meta().clusterStatus().getVolumesList().get(0);
        int first = Integer.parseInt(victim.getReplicas(1).getStoreId().substring("store".length()));
        int second = Integer.parseInt(victim.getReplicas(2).getStoreId().substring("store".length()));
        cluster.stopStore(first);
        cluster.stopStore(second);
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.storeState(first) == StoreState.STORE_DEAD
                && cluster.storeState(second) == StoreState.STORE_DEAD);
        cluster.awaitHealed(Duration.ofSeconds(90));
        VolumeInfo healed = client.meta().lookupVolume(victim.getVolumeId());
        assertThat(healed.getReplicasCount()).isEqualTo(3);
        assertThat(healed.getReplicasList()).extracting(StoreInfo::getStoreId)
                .doesNotContain(cluster.storeId(first), cluster.storeId(second));
        SeededBlobs.readAll(client, seed, 0, fids, 8);
    }

    @Test
    void aVolumeSealedByAFailedWriteIsCaughtUpAndWritableAgain() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(3);
        List<Fid> fids = SeededBlobs.writeAll(client, seed, 0, 100, 4);

        // A secondary stops for less than the dead timeout: writes fail on it (unacknowledged), the
        // primaries seal their volumes, and meta marks them read-only.
        cluster.stopStore(2);
        for (int i = 0; i < 20 && allWritable(); i++) {
            try {
                client.write(SeededBlobs.blob(seed, 1000 + i));
            } catch (RuntimeException e) {
                // Expected while a replica of every volume is away.
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !allWritable());
        cluster.restartStore(2);
        cluster.awaitStoresLive(Duration.ofSeconds(20));
        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(client.meta().clusterStatus().getVolumesList()).extracting(VolumeInfo::getState)
                .containsOnly(VolumeState.VOLUME_WRITABLE);
        List<Fid> more = SeededBlobs.writeAll(client, seed, 100, 200, 4);
        SeededBlobs.readAll(client, seed, 0, fids, 4);
        SeededBlobs.readAll(client, seed, 100, more, 4);
    }

    @Test
    void aDamagedNeedleIsRepairedFromAnotherReplicaWhenAReadOrAScrubFindsIt() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RepairTest seed " + seed);
        start(3);
        byte[] first = new byte[100_000];
        byte[] second = new byte[50_000];
        Random random = new Random(seed);
        random.nextBytes(first);
        random.nextBytes(second);
        // In a new cluster, the first needle written to a volume is its first record.
        Fid a = client.write(first);
        VolumeInfo v = client.meta().lookupVolume(a.getVolumeId());
        int damagedStore = Integer.parseInt(v.getReplicas(1).getStoreId().substring("store".length()));
        StoreInfo damaged = v.getReplicas(1);
        flipByte(damagedStore, a.getVolumeId(), NeedleFormat.SUPERBLOCK_BYTES + NeedleFormat.HEADER_BYTES + 1000);

        // A read finds it: the client is served by another replica, and the damaged one is repaired.
        for (int i = 0; i < 3; i++) {
            assertThat(client.read(a)).isEqualTo(first);
        }
        assertThat(readDirect(damaged, a)).as("read from the damaged replica itself").isEqualTo(first);
        assertThat(cluster.store(damagedStore).server().needlesRepaired()).isEqualTo(1);

        // A scrub finds one no read touched.
        List<Fid> others = SeededBlobs.writeAll(client, seed, 0, 50, 4);
        long recordsEnd = cluster.store(damagedStore).server().volumes().get(a.getVolumeId()).stats().sizeBytes();
        flipByte(damagedStore, a.getVolumeId(), recordsEnd - 200);
        assertThat(cluster.store(damagedStore).server().scrubNow()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> cluster.store(damagedStore).server().needlesRepaired() == 2);
        assertThat(cluster.store(damagedStore).server().scrubNow()).isZero();

        // A damaged tombstone too: rewritten from another replica's, so the needle stays deleted.
        Volume replica = cluster.store(damagedStore).server().volumes().get(a.getVolumeId());
        long tombstoneAt = replica.stats().sizeBytes();
        client.delete(a);
        flipByte(damagedStore, a.getVolumeId(), tombstoneAt + 2);
        assertThat(cluster.store(damagedStore).server().scrubNow()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> cluster.store(damagedStore).server().needlesRepaired() == 3);
        assertThat(cluster.store(damagedStore).server().scrubNow()).isZero();
        assertThat(replica.readRecord(a.getNeedleId()).tombstone()).isTrue();

        // A catch-up that needs a record damaged at its source has it repaired there at once, not
        // at the next scrub: the last record of a secondary, its header damaged.
        Fid c = client.write(second);
        StoreInfo source = client.meta().lookupVolume(c.getVolumeId()).getReplicas(1);
        StoreServer sourceServer = cluster.store(Integer.parseInt(source.getStoreId().substring("store".length())))
                .server();
        Volume sourceVolume = sourceServer.volumes().get(c.getVolumeId());
        long last = sourceVolume.lastSequence();
        flipByte(Integer.parseInt(source.getStoreId().substring("store".length())), c.getVolumeId(),
                sourceVolume.stats().sizeBytes() - NeedleFormat.recordBytes(second.length) + 2);
        long repairedBefore = sourceServer.needlesRepaired();
        ManagedChannel channel = NettyChannelBuilder.forTarget(source.getAddress()).usePlaintext().build();
        try {
            StoreGrpc.StoreBlockingStub stub = StoreGrpc.newBlockingStub(channel);
            CatchUpRequest pull = CatchUpRequest.newBuilder().setVolumeId(c.getVolumeId()).setAfterSequence(last - 1)
                    .build();
            assertThatThrownBy(() -> stub.catchUp(pull).next()).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(WireErrors.fromThrowable(e).orElseThrow().getCode()).isEqualTo(ErrorCode.CORRUPT));
            await().atMost(Duration.ofSeconds(20)).until(() -> sourceServer.needlesRepaired() == repairedBefore + 1);
            CatchUpRecord record = stub.catchUp(pull).next();
            assertThat(record.getSequence()).isEqualTo(last);
            assertThat(record.getData().toByteArray()).isEqualTo(second);
        } finally {
            channel.shutdownNow();
        }

        cluster.awaitHealed(Duration.ofSeconds(20));
        SeededBlobs.readAll(client, seed, 0, others, 4);
    }

    private void flipByte(int store, int volumeId, long offset) throws Exception {
        Path file = cluster.store(store).server().volumes().directory().resolve(volumeId + ".dat");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
            ch.write(b, offset);
        }
    }

    /** Reads a needle from one store, waiting until it is served whole. */
    private static byte[] readDirect(StoreInfo store, Fid fid) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(store.getAddress()).usePlaintext().build();
        try {
            StoreGrpc.StoreBlockingStub stub = StoreGrpc.newBlockingStub(channel);
            return await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                ByteString data = ByteString.EMPTY;
                Iterator<ReadNeedleResponse> it = stub.readNeedle(ReadNeedleRequest.newBuilder().setFid(fid).build());
                while (it.hasNext()) {
                    data = data.concat(it.next().getData());
                }
                return data.toByteArray();
            }, data -> data.length > 0);
        } finally {
            channel.shutdownNow();
        }
    }

    private boolean allWritable() {
        return client.meta().clusterStatus().getVolumesList().stream()
                .allMatch(v -> v.getState() == VolumeState.VOLUME_WRITABLE);
    }

    @Test
    void aSecondaryTakesRecordsOnlyFromThePrimaryOfItsReplicaSet() throws Exception {
        start(3);
        client.write(new byte[] {1, 2, 3});
        VolumeInfo v = client.meta().clusterStatus().getVolumesList().get(0);
        StoreInfo secondary = client.meta().lookupVolume(v.getVolumeId()).getReplicas(1);
        String primary = v.getReplicas(0).getStoreId();
        String other = v.getReplicas(2).getStoreId();
        byte[] data = {9, 9, 9};
        CRC32C crc = new CRC32C();
        crc.update(data);
        WriteHeader.Builder header = WriteHeader.newBuilder().setFid(Fid.newBuilder().setVolumeId(v.getVolumeId())
                .setNeedleId(1L << 40).setCookie(7)).setLength(data.length).setCrc32C((int) crc.getValue())
                .setSequence(1_000_000);
        ManagedChannel channel = NettyChannelBuilder.forTarget(secondary.getAddress()).usePlaintext().build();
        try {
            StoreGrpc.StoreBlockingStub stub = StoreGrpc.newBlockingStub(channel);
            for (String imposter : List.of(other, "store-gone")) {
                assertThatThrownBy(() -> stub.writeSmallNeedle(WriteSmallNeedleRequest.newBuilder()
                        .setHeader(header.clone().setPrimaryStoreId(imposter)).setData(ByteString.copyFrom(data))
                        .build()))
                        .isInstanceOf(StatusRuntimeException.class)
                        .satisfies(e -> assertThat(WireErrors.fromThrowable(e).orElseThrow().getCode())
                                .isEqualTo(ErrorCode.NOT_PRIMARY))
                        .hasMessageContaining(primary);
            }
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * A replica left sealed on a volume meta counts writable (a rejoin sealed the leaving replica,
     * then failed and was not tried again because its target died) is unsealed: its heartbeat
     * turns the volume read-only, and a catch-up makes it writable again. Otherwise no write would
     * ever be assigned to the volume again.
     */
    @Test
    void aReplicaLeftSealedOnAWritableVolumeIsUnsealed() throws Exception {
        start(3);
        Fid fid = client.write(new byte[] {1, 2, 3});
        int volumeId = fid.getVolumeId();
        StoreInfo secondary = client.meta().lookupVolume(volumeId).getReplicas(1);
        int index = Integer.parseInt(secondary.getStoreId().substring("store".length()));
        ManagedChannel channel = NettyChannelBuilder.forTarget(secondary.getAddress()).usePlaintext().build();
        try {
            StoreGrpc.newBlockingStub(channel).setVolumeReadOnly(io.hayloft.proto.v1.SetVolumeReadOnlyRequest
                    .newBuilder().setVolumeId(volumeId).setReadOnly(true).build());
        } finally {
            channel.shutdownNow();
        }
        assertThat(cluster.store(index).server().volumes().get(volumeId).isSealed()).isTrue();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !cluster.store(index).server().volumes().get(volumeId).isSealed());
        cluster.awaitHealed(Duration.ofSeconds(30));
        assertThat(client.meta().lookupVolume(volumeId).getState()).isEqualTo(VolumeState.VOLUME_WRITABLE);
        assertThat(client.read(fid)).isEqualTo(new byte[] {1, 2, 3});
    }

    /**
     * A primary killed between its own append and the forward comes back holding a record its
     * secondaries lack (here a tombstone written on the primary's volume alone), and the volume
     * stays writable. With no further write to the volume nothing failed, yet the replicas
     * differ: meta sees their last sequences stay apart and catches the secondaries up.
     */
    @Test
    void aRecordOnlyThePrimaryHoldsReachesTheSecondariesWithoutAnotherWrite() throws Exception {
        start(3);
        Fid fid = client.write(new byte[] {4, 5, 6});
        int volumeId = fid.getVolumeId();
        cluster.awaitHealed(Duration.ofSeconds(30));
        StoreInfo primary = client.meta().lookupVolume(volumeId).getReplicas(0);
        int index = Integer.parseInt(primary.getStoreId().substring("store".length()));
        cluster.store(index).server().volumes().get(volumeId).delete(fid.getNeedleId(), fid.getCookie());

        cluster.awaitHealed(Duration.ofSeconds(60));
        assertThat(client.meta().lookupVolume(volumeId).getState()).isEqualTo(VolumeState.VOLUME_WRITABLE);
        for (StoreInfo replica : client.meta().lookupVolume(volumeId).getReplicasList()) {
            int i = Integer.parseInt(replica.getStoreId().substring("store".length()));
            assertThatThrownBy(() -> cluster.store(i).server().volumes().get(volumeId)
                    .read(fid.getNeedleId(), fid.getCookie())).as("the needle on %s", replica.getStoreId())
                    .hasMessageContaining("deleted");
        }
    }
}
