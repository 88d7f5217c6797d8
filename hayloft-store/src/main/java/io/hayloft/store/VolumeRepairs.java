package io.hayloft.store;

import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.CopyVolumeProgress;
import io.hayloft.proto.v1.CopyVolumeRequest;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.io.IOException;
import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's part in repair, on meta's request: copying a volume from a healthy replica, taking a
 * new replica set, catching a secondary up with its primary, and dropping a replica.
 *
 * <p>Implementation notes. A copy pulls the source's records after its own last sequence (the
 * source's {@code CatchUp} stream), so an interrupted copy of the same volume resumes where it
 * stopped. Records are applied in sequence order through {@link ReplicaOrder}, many at once, so
 * that they share fsyncs; the copy ends once a pass over the source brings nothing new. The rate
 * limit holds the reading of the stream, and gRPC's flow control passes that back to the source.
 */
final class VolumeRepairs {
    private static final Logger log = LoggerFactory.getLogger(VolumeRepairs.class);
    /** Records of a copy being applied at once. */
    private static final int APPLYING_MAX = 256;
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long COPY_DEADLINE_HOURS = 24;

    private final String storeId;
    private final VolumeSet volumes;
    private final ReplicaSets sets;
    private final Replication replication;
    private final PeerChannels peers;
    private final Executor executor;
    private final Object creating;

    VolumeRepairs(String storeId, VolumeSet volumes, ReplicaSets sets, Replication replication, PeerChannels peers,
            Executor executor, Object creating) {
        this.storeId = storeId;
        this.volumes = volumes;
        this.sets = sets;
        this.replication = replication;
        this.peers = peers;
        this.executor = executor;
        this.creating = creating;
    }

    /**
     * Copies the volume from the request's source until this replica has every record the source
     * has, telling {@code progress} as it goes; the last progress is marked done.
     */
    void copy(CopyVolumeRequest request, Consumer<CopyVolumeProgress> progress)
            throws VolumeException, IOException, InterruptedException {
        StoreInfo source = request.getSource();
        if (source.getStoreId().equals(storeId)) {
            throw new IllegalArgumentException("a store does not copy volume " + request.getVolumeId() + " from itself");
        }
        PeerChannels.parseAddress(source.getAddress());
        CreateVolumeRequest set = ReplicaSets.normalize(CreateVolumeRequest.newBuilder()
                .setVolumeId(request.getVolumeId()).setSalt(request.getSalt())
                .addAllReplicas(request.getReplicasList()).build(), storeId);
        if (set.getReplicasCount() > 0 && set.getReplicas(0).getStoreId().equals(storeId)) {
            throw new IllegalArgumentException("a copy is made as a secondary: store " + storeId
                    + " must not be first in the replicas of volume " + request.getVolumeId());
        }
        Volume volume = prepare(set);
        RateLimit limit = new RateLimit(request.getBytesPerSecond());
        long bytes = 0;
        long records = 0;
        long lastReport = System.nanoTime();
        while (true) {
            long passRecords = 0;
            Pipeline pipeline = new Pipeline(volume);
            try {
                Iterator<CatchUpRecord> it = StoreGrpc.newBlockingStub(peers.get(source.getAddress()))
                        .withDeadlineAfter(COPY_DEADLINE_HOURS, TimeUnit.HOURS)
                        .catchUp(CatchUpRequest.newBuilder().setVolumeId(volume.id())
                                .setAfterSequence(volume.lastSequence()).build());
                long after = volume.lastSequence();
                while (it.hasNext()) {
                    CatchUpRecord r = it.next();
                    if (r.getSequence() <= after) {
                        continue;
                    }
                    after = r.getSequence();
                    CRC32C crc = new CRC32C();
                    crc.update(r.getData().asReadOnlyByteBuffer());
                    if ((int) crc.getValue() != r.getCrc32C()) {
                        throw new VolumeException(VolumeErrorCode.CORRUPT, "record " + r.getSequence() + " of volume "
                                + volume.id() + " arrived damaged from " + source.getStoreId());
                    }
                    pipeline.apply(new ReplicatedNeedle(r.getNeedleId(), r.getCookie(), r.getTombstone(),
                            r.getSequence(), r.getData().asReadOnlyByteBuffer()));
                    bytes += r.getData().size();
                    records++;
                    passRecords++;
                    limit.took(r.getData().size());
                    if (System.nanoTime() - lastReport > PROGRESS_EVERY_NANOS) {
                        progress.accept(CopyVolumeProgress.newBuilder().setBytesCopied(bytes)
                                .setRecordsCopied(records).setLastSequence(after).build());
                        lastReport = System.nanoTime();
                    }
                }
            } finally {
                pipeline.finish();
            }
            if (passRecords == 0) {
                break;
            }
        }
        log.info("volume {}: copied {} records ({} bytes) from store {}; last sequence {}", volume.id(), records,
                bytes, source.getStoreId(), volume.lastSequence());
        progress.accept(CopyVolumeProgress.newBuilder().setBytesCopied(bytes).setRecordsCopied(records)
                .setLastSequence(volume.lastSequence()).setDone(true).build());
    }

    /**
     * The volume to copy into: the one here when it was created for the same replica set (an
     * interrupted copy, resumed), else a new one, after dropping any other replica of the id.
     */
    private Volume prepare(CreateVolumeRequest set) throws VolumeException, IOException {
        int id = set.getVolumeId();
        synchronized (creating) {
            CreateVolumeRequest existing = sets.get(id).orElse(null);
            boolean present = volumes.volumes().stream().anyMatch(v -> v.id() == id);
            if (present && existing != null && existing.equals(set)) {
                return volumes.get(id);
            }
            if (present || volumes.failures().containsKey(id)) {
                log.info("volume {}: the replica here belongs to another replica set; dropped before the copy", id);
                volumes.drop(id);
            }
            sets.put(set);
            return volumes.create(id, set.getSalt());
        }
    }

    /** Keeps a new replica set for a volume this store holds. */
    void setReplicas(CreateVolumeRequest asked) throws VolumeException, IOException {
        synchronized (creating) {
            volumes.get(asked.getVolumeId());
            CreateVolumeRequest existing = sets.get(asked.getVolumeId()).orElse(null);
            CreateVolumeRequest set = ReplicaSets.normalize(asked.toBuilder()
                    .setSalt(existing == null ? 0 : existing.getSalt()).build(), storeId);
            if (!set.equals(existing)) {
                sets.put(set);
                log.info("volume {}: replicas now {}", set.getVolumeId(), ReplicaSets.idsOf(set));
            }
        }
    }

    /** Brings this secondary replica level with its primary; returns the records applied. */
    long catchUp(int volumeId) throws VolumeException, InterruptedException {
        Volume volume = volumes.get(volumeId);
        CreateVolumeRequest set = sets.get(volumeId).orElseThrow(() -> WireErrors.toStatus(ErrorCode.NOT_PRIMARY,
                "volume " + volumeId + " has no replica set on store " + storeId));
        if (set.getReplicasCount() < 2 || set.getReplicas(0).getStoreId().equals(storeId)) {
            return 0;
        }
        return replication.catchUp(volume, set.getReplicas(0));
    }

    /** Deletes this store's replica of a volume and its replica set; no error when there is none. */
    void drop(int volumeId) throws VolumeException, IOException {
        synchronized (creating) {
            volumes.drop(volumeId);
            sets.remove(volumeId);
        }
        log.info("volume {}: replica dropped from store {}", volumeId, storeId);
    }

    /**
     * Applies records in sequence order, many at once: each on a thread of the executor, waiting
     * its turn in {@link ReplicaOrder}; bounded; the first failure stops the copy.
     */
    private final class Pipeline {
        private final Volume volume;
        private final Semaphore slots = new Semaphore(APPLYING_MAX);
        private final AtomicReference<Exception> failure = new AtomicReference<>();

        Pipeline(Volume volume) {
            this.volume = volume;
        }

        void apply(ReplicatedNeedle record) throws VolumeException, InterruptedException {
            rethrow();
            slots.acquire();
            try {
                executor.execute(() -> {
                    try {
                        replication.order().apply(volume, record);
                    } catch (VolumeException | RuntimeException e) {
                        failure.compareAndSet(null, e);
                    } catch (InterruptedException e) {
                        failure.compareAndSet(null, e);
                        Thread.currentThread().interrupt();
                    } finally {
                        slots.release();
                    }
                });
            } catch (RuntimeException e) {
                slots.release();
                throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "store " + storeId + " is stopping");
            }
        }

        /** Waits for every record handed over; throws the first failure. */
        void finish() throws VolumeException, InterruptedException {
            slots.acquire(APPLYING_MAX);
            slots.release(APPLYING_MAX);
            rethrow();
        }

        private void rethrow() throws VolumeException, InterruptedException {
            Exception e = failure.get();
            switch (e) {
                case null -> { }
                case VolumeException v -> throw v;
                case InterruptedException i -> throw i;
                case StatusRuntimeException s -> throw s;
                default -> throw new VolumeException(VolumeErrorCode.IO_ERROR, "copy of volume " + volume.id()
                        + " failed: " + e, e);
            }
        }
    }
}
