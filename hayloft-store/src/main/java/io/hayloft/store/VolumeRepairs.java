package io.hayloft.store;

import io.grpc.Context;
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
import io.hayloft.volume.RecordSummary;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.io.IOException;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's part in repair, on meta's request: copying a volume from a healthy replica, taking a
 * new replica set, catching a secondary up with its primary, and dropping a replica.
 *
 * <p>Implementation notes. A copy or a catch-up pulls the source's records after the replica's
 * own last sequence (the source's {@code CatchUp} stream), so an interrupted copy of the same
 * volume resumes where it stopped. Records are applied in sequence order, many at once so that
 * they share fsyncs ({@link Pipeline}); a pull ends once a pass over the source brings nothing
 * new. The rate limit holds the reading of the stream, and gRPC's flow control passes that back
 * to the source.
 */
final class VolumeRepairs {
    private static final Logger log = LoggerFactory.getLogger(VolumeRepairs.class);
    /** Records of a copy being applied at once. */
    private static final int APPLYING_MAX = 256;
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long PULL_DEADLINE_HOURS = 24;
    /** Looks for stalled pulls; one for the process, as pulls are few and it only compares times. */
    private static final ScheduledExecutorService STALL_WATCH = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("hayloft-pull-stall-watch").unstarted(r));

    private final String storeId;
    private final VolumeSet volumes;
    private final ReplicaSets sets;
    private final PeerChannels peers;
    private final Executor executor;
    private final Object creating;
    private final long stallNanos;

    VolumeRepairs(String storeId, VolumeSet volumes, ReplicaSets sets, PeerChannels peers,
            Executor executor, Object creating, long pullStallMs) {
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(pullStallMs);
        this.storeId = storeId;
        this.volumes = volumes;
        this.sets = sets;
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
        Volume volume = prepare(set, request.getRebuild());
        RateLimit limit = new RateLimit(request.getBytesPerSecond());
        CopyVolumeProgress last;
        try {
            last = pull(volume, source, limit, progress);
        } catch (StatusRuntimeException e) {
            if (request.getRebuild() || !diverged(e)) {
                throw e;
            }
            log.info("volume {}: the replica here is not a prefix of store {}'s; rebuilt from scratch", volume.id(),
                    source.getStoreId());
            volume = prepare(set, true);
            last = pull(volume, source, limit, progress);
        }
        log.info("volume {}: copied {} records ({} bytes) from store {}; last sequence {}", volume.id(),
                last.getRecordsCopied(), last.getBytesCopied(), source.getStoreId(), last.getLastSequence());
        progress.accept(last.toBuilder().setDone(true).build());
    }

    /**
     * Applies the records {@code source} has after the volume's last sequence, pass after pass,
     * until a pass brings nothing new; returns what was pulled, with the volume's last sequence.
     */
    private CopyVolumeProgress pull(Volume volume, StoreInfo source, RateLimit limit,
            Consumer<CopyVolumeProgress> progress) throws VolumeException, InterruptedException {
        return pull(volume, source, limit, progress, TimeUnit.HOURS.toMillis(PULL_DEADLINE_HOURS));
    }

    private CopyVolumeProgress pull(Volume volume, StoreInfo source, RateLimit limit,
            Consumer<CopyVolumeProgress> progress, long deadlineMs) throws VolumeException, InterruptedException {
        long bytes = 0;
        long records = 0;
        long lastReport = System.nanoTime();
        while (true) {
            long passRecords = 0;
            Pipeline pipeline = new Pipeline(volume);
            // The call is made in a context of its own, cancelled when the source has kept this
            // pull waiting for its next record longer than the stall limit.
            Context.CancellableContext call = Context.current().withCancellation();
            AtomicLong waitingSince = new AtomicLong();
            long checkMs = Math.max(10, TimeUnit.NANOSECONDS.toMillis(stallNanos) / 4);
            ScheduledFuture<?> watch = STALL_WATCH.scheduleWithFixedDelay(() -> {
                long since = waitingSince.get();
                if (since != 0 && System.nanoTime() - since > stallNanos) {
                    call.cancel(new TimeoutException("no record for " + TimeUnit.NANOSECONDS.toMillis(stallNanos)
                            + " ms"));
                }
            }, checkMs, checkMs, TimeUnit.MILLISECONDS);
            Context previous = call.attach();
            try {
                long after = volume.lastSequence();
                Iterator<CatchUpRecord> it = StoreGrpc.newBlockingStub(peers.get(source.getAddress()))
                        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).catchUp(catchUpAfter(volume, after));
                while (true) {
                    waitingSince.set(System.nanoTime());
                    boolean more = it.hasNext();
                    waitingSince.set(0);
                    if (!more) {
                        break;
                    }
                    CatchUpRecord r = it.next();
                    if (r.getSequence() <= after) {
                        continue;
                    }
                    after = r.getSequence();
                    pipeline.apply(CatchUpRecords.fromWire(r, volume.id(), source.getStoreId()));
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
            } catch (StatusRuntimeException e) {
                if (call.isCancelled() && call.cancellationCause() instanceof TimeoutException) {
                    throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "store " + source.getStoreId() + " at "
                            + source.getAddress() + " sent no record of volume " + volume.id() + " for "
                            + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms; the pull is given up");
                }
                throw e;
            } finally {
                call.detach(previous);
                watch.cancel(false);
                call.cancel(null);
                pipeline.finish();
            }
            if (passRecords == 0) {
                return CopyVolumeProgress.newBuilder().setBytesCopied(bytes).setRecordsCopied(records)
                        .setLastSequence(volume.lastSequence()).build();
            }
        }
    }

    /**
     * The request to pull the records after {@code after}, carrying this replica's record at that
     * sequence, so that the source refuses ({@code REPLICA_DIVERGED}) when it holds another one.
     */
    private static CatchUpRequest catchUpAfter(Volume volume, long after) throws VolumeException {
        CatchUpRequest.Builder request = CatchUpRequest.newBuilder().setVolumeId(volume.id()).setAfterSequence(after);
        RecordSummary last = after == 0 ? null : volume.recordAt(after);
        if (last != null) {
            request.setAfterRecord(CatchUpRecords.check(last));
        }
        return request.build();
    }

    static boolean diverged(StatusRuntimeException e) {
        return WireErrors.fromThrowable(e).map(err -> err.getCode() == ErrorCode.REPLICA_DIVERGED).orElse(false);
    }

    /**
     * The volume to copy into, now kept under {@code set}: the replica already here (an
     * interrupted copy, or a store's replica from before it was replaced), whose pull then checks
     * that its records are a prefix of the source's and brings only the ones it lacks; or, when
     * asked to rebuild or when the replica here failed, a new one.
     */
    private Volume prepare(CreateVolumeRequest set, boolean rebuild) throws VolumeException, IOException {
        int id = set.getVolumeId();
        synchronized (creating) {
            CreateVolumeRequest existing = sets.get(id).orElse(null);
            boolean present = volumes.volumes().stream().anyMatch(v -> v.id() == id);
            if (present && !rebuild && !volumes.get(id).stats().failed()) {
                CreateVolumeRequest kept = set.toBuilder().setSalt(existing == null ? set.getSalt()
                        : existing.getSalt()).build();
                if (!kept.equals(existing)) {
                    log.info("volume {}: the replica here is kept and brought level with the copy's source", id);
                    sets.put(kept);
                }
                Volume volume = volumes.get(id);
                if (volume.isSealed()) {
                    // Sealed by the repair that replaced it, or by a failed write before it left:
                    // it joins as a secondary, which takes its source's records, and the catch-up
                    // that ends the repair would unseal it anyway.
                    log.info("volume {}: the replica here is unsealed to take the copy's records", id);
                    volume.unseal();
                }
                return volume;
            }
            if (present || volumes.failures().containsKey(id)) {
                log.info("volume {}: the replica here is dropped before the copy", id);
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
        StoreInfo primary = set.getReplicas(0);
        long applied;
        try {
            applied = pull(volume, primary, new RateLimit(0), p -> { }).getRecordsCopied();
        } catch (StatusRuntimeException e) {
            if (!diverged(e)) {
                throw e;
            }
            // It holds a record the primary does not (one that never reached the others, so never
            // acknowledged): no catch-up can mend that, so the replica is made again from the primary.
            log.warn("volume {}: the replica here differs from primary {}'s; rebuilt from it", volumeId,
                    primary.getStoreId());
            try {
                volume = prepare(set.toBuilder().setSalt(ThreadLocalRandom.current().nextLong()).build(), true);
            } catch (IOException io) {
                throw VolumeException.fromIo("rebuild of volume " + volumeId, io);
            }
            applied = pull(volume, primary, new RateLimit(0), p -> { }).getRecordsCopied();
        }
        if (applied > 0) {
            log.info("volume {}: caught up {} records from primary {}", volumeId, applied, primary.getStoreId());
        }
        return applied;
    }

    /**
     * Takes from a secondary the records it holds after this primary's last one, and returns how
     * many. A primary forwards a write before its own fsync, so after a crash its secondaries can
     * hold records it lost: never acknowledged, but their sequences must not be given to other
     * records. Taken back, the replicas agree again and no rebuild is needed. A secondary that
     * lacks this replica's last record (it is behind, and catches up from here) or holds another
     * record there (it diverged; the catch-up rebuilds it) gives nothing.
     */
    long takeBack(Volume volume, StoreInfo secondary, long deadlineMs) throws VolumeException, InterruptedException {
        try {
            long taken = pull(volume, secondary, new RateLimit(0), p -> { }, deadlineMs).getRecordsCopied();
            if (taken > 0) {
                log.info("volume {}: took back {} records from secondary {} that this primary had forwarded and "
                        + "then lost in a stop before its fsync", volume.id(), taken, secondary.getStoreId());
            }
            return taken;
        } catch (StatusRuntimeException e) {
            if (diverged(e)) {
                return 0;
            }
            throw e;
        }
    }

    /**
     * Brings every secondary replica of this store level with its primary. Run when the store
     * starts, since records may have reached the primaries while it was away (writes that then
     * failed, unacknowledged, and turned the volume read-only). Returns the records applied; a
     * volume whose primary cannot be reached is left as it is and logged (the replication manager
     * catches it up later).
     */
    long catchUpWithPrimaries() {
        long applied = 0;
        for (Volume volume : volumes.volumes()) {
            try {
                applied += catchUp(volume.id());
            } catch (StatusRuntimeException | VolumeException e) {
                log.warn("volume {}: could not catch up with its primary: {}", volume.id(), e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return applied;
            }
        }
        return applied;
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
     * Applies records in sequence order, many at once: each on a thread of the executor, starting
     * once the one before has its place in the volume's write order (so that they share fsyncs),
     * never after one that was refused: a pull must not leave a gap that the refused record could
     * no longer fill. Bounded; the first failure stops the pull.
     */
    private final class Pipeline {
        private final Volume volume;
        private final Semaphore slots = new Semaphore(APPLYING_MAX);
        private final AtomicReference<Exception> failure = new AtomicReference<>();
        /** Completes once the record handed over last has its place; fails when it was refused. */
        private CompletableFuture<Void> placed = CompletableFuture.completedFuture(null);

        Pipeline(Volume volume) {
            this.volume = volume;
        }

        void apply(ReplicatedNeedle record) throws VolumeException, InterruptedException {
            rethrow();
            slots.acquire();
            CompletableFuture<Void> before = placed;
            CompletableFuture<Void> mine = new CompletableFuture<>();
            placed = mine;
            try {
                executor.execute(() -> {
                    try {
                        before.join();
                        volume.applyReplicated(record, () -> mine.complete(null));
                    } catch (CompletionException e) {
                        mine.completeExceptionally(e.getCause()); // the one before was refused
                    } catch (VolumeException | RuntimeException e) {
                        mine.completeExceptionally(e);
                        failure.compareAndSet(null, e);
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
