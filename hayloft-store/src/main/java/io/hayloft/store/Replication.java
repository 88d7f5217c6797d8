package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's part in replication: a client's write or delete is taken by the volume's primary,
 * appended there and forwarded to every secondary; a record forwarded by a primary is applied in
 * sequence order.
 *
 * <p>The failure rule: a write is acknowledged only once every replica took it. When a secondary
 * fails or does not answer in time, the primary makes its own replica read-only (durably, so that
 * no later write can be acknowledged without that secondary), tells the {@link
 * ReplicaFailureListener}, and answers REPLICA_FAILED. The record stays on the replicas that took
 * it, unacknowledged; the client writes it again elsewhere.
 *
 * <p>A write leaves for the secondaries before the primary's own fsync, so a primary that crashed
 * can find its secondaries holding records it lost; before its first write to a volume after it
 * starts, it takes those back ({@link #settle}).
 */
final class Replication {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    /** After a volume's secondaries could not all be asked, writes go on without asking for this long. */
    private static final long SETTLE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String storeId;
    private final ReplicaSets sets;
    private final Forwarder forwarder;
    private final PeerChannels peers;
    private final ReplicaOrder order;
    private final ReplicaFailureListener listener;
    private final TakeBack takeBack;
    private final long forwardTimeoutMs;
    /**
     * Per volume this store is primary of: whether its secondaries were asked, since this store
     * started or they changed, for records they hold and it lacks ({@link #settle}).
     */
    private final ConcurrentHashMap<Integer, Settling> settled = new ConcurrentHashMap<>();

    /** Takes from a secondary the records it holds past this replica's last one; returns how many. */
    @FunctionalInterface
    interface TakeBack {
        long from(Volume volume, StoreInfo secondary, long deadlineMs) throws VolumeException, InterruptedException;
    }

    /** One asking of a volume's secondaries: true once all were asked, false when one could not be. */
    private static final class Settling {
        final List<StoreInfo> secondaries;
        final CompletableFuture<Boolean> done = new CompletableFuture<>();
        final long startedNanos = System.nanoTime();

        Settling(List<StoreInfo> secondaries) {
            this.secondaries = List.copyOf(secondaries);
        }
    }

    Replication(String storeId, ReplicaSets sets, PeerChannels peers, StoreConfig config,
            ReplicaFailureListener listener, TakeBack takeBack) {
        this.storeId = storeId;
        this.sets = sets;
        this.peers = peers;
        this.forwarder = new Forwarder(storeId, peers, config.forwardTimeoutMs());
        this.order = new ReplicaOrder(config.replicaOrderWaitMs());
        this.listener = listener;
        this.takeBack = takeBack;
        this.forwardTimeoutMs = config.forwardTimeoutMs();
    }

    /** Secondaries in this process, which forwards then reach without gRPC. */
    void localPeers(LocalPeers peers) {
        forwarder.localPeers(peers);
    }

    ReplicaOrder order() {
        return order;
    }

    /**
     * Refuses a client's write or delete unless this store is the volume's primary: the first of
     * its replicas, or its only store when meta gave it none.
     */
    void checkPrimary(int volumeId) {
        CreateVolumeRequest set = sets.get(volumeId).orElseThrow(() -> WireErrors.toStatus(ErrorCode.NOT_PRIMARY,
                "volume " + volumeId + " has no usable replica set on store " + storeId
                        + ", which takes no client writes for it until meta creates the volume again"));
        if (set.getReplicasCount() > 0 && !set.getReplicas(0).getStoreId().equals(storeId)) {
            StoreInfo primary = set.getReplicas(0);
            throw WireErrors.toStatus(ErrorCode.NOT_PRIMARY, "store " + storeId + " is not the primary of volume "
                    + volumeId + "; store " + primary.getStoreId() + " at " + primary.getAddress() + " is");
        }
    }

    /** A client's write on the primary: appends, forwards, and returns the sequence once every replica has it. */
    long writeAsPrimary(Volume volume, WriteHeader header, ByteString data)
            throws VolumeException, InterruptedException {
        return startAsPrimary(volume, header, data).finish();
    }

    /**
     * A client's write that this primary has durable, its secondaries' answers still to come:
     * {@link #finish} waits for them and applies the failure rule. It is called once per write,
     * whatever else fails, for a secondary that did not take the record must seal the volume.
     */
    final class PrimaryWrite {
        private final Volume volume;
        private final long needleId;
        private final long sequence;
        private final List<StoreInfo> secondaries;
        private final Forwarder.Sent sent;

        private PrimaryWrite(Volume volume, long needleId, long sequence, List<StoreInfo> secondaries,
                Forwarder.Sent sent) {
            this.volume = volume;
            this.needleId = needleId;
            this.sequence = sequence;
            this.secondaries = secondaries;
            this.sent = sent;
        }

        /**
         * Returns the record's sequence once every secondary has it durable.
         *
         * @throws StatusRuntimeException REPLICA_FAILED when one did not take it; the volume is
         *     read-only then, and the record stays on the replicas that took it
         */
        long finish() throws InterruptedException {
            if (secondaries.isEmpty()) {
                return sequence;
            }
            List<String> failed = sent == null ? Forwarder.notSent(secondaries) : forwarder.await(sent);
            checkForwarded(volume, "write of needle " + needleId, sequence, failed);
            return sequence;
        }
    }

    /**
     * A client's write on the primary: appends and forwards it, and returns once this replica has
     * it durable; {@link PrimaryWrite#finish} then waits for the secondaries.
     */
    PrimaryWrite startAsPrimary(Volume volume, WriteHeader header, ByteString data)
            throws VolumeException, InterruptedException {
        checkPrimary(volume.id());
        Fid fid = header.getFid();
        List<StoreInfo> secondaries = secondaries(volume.id());
        if (secondaries.isEmpty()) {
            long sequence = volume.append(fid.getNeedleId(), fid.getCookie(), data.asReadOnlyByteBuffer());
            return new PrimaryWrite(volume, fid.getNeedleId(), sequence, secondaries, null);
        }
        settle(volume, secondaries);
        // The record leaves for the secondaries as soon as it is written here, before this fsync,
        // so that the three fsyncs run together rather than one after the other. The callback runs
        // in whichever caller writes the batch, and does not wait for the secondaries' answers.
        // A secondary can then hold a record this store loses in a crash, never acknowledged:
        // settle takes such records back before the first write after a start. Should a sequence
        // be given twice all the same (a secondary was down when asked), the secondary refuses
        // the second record (SEQUENCE_REGRESSION): the failure rule applies, and the catch-up
        // that follows finds the replicas diverged and rebuilds the secondary from this one.
        AtomicReference<Forwarder.Sent> sent = new AtomicReference<>();
        long sequence;
        try {
            sequence = volume.append(fid.getNeedleId(), fid.getCookie(), data.asReadOnlyByteBuffer(),
                    seq -> sent.set(forwarder.startWrite(secondaries, header.toBuilder().setSequence(seq).build(),
                            data)));
        } catch (VolumeException | RuntimeException e) {
            // Failed here after it was sent (its fsync failed, the volume failed): the caller's
            // bytes must stay unchanged until the secondaries are done with them.
            Forwarder.Sent s = sent.get();
            if (s != null) {
                forwarder.await(s);
            }
            throw e;
        }
        return new PrimaryWrite(volume, fid.getNeedleId(), sequence, secondaries, sent.get());
    }

    /**
     * Before this store, as primary, gives a volume's first sequence since it started, or since
     * its secondaries changed, takes back from them the records they hold after its last one:
     * what it forwarded and lost in a crash (writes leave before the primary's fsync), or what an
     * earlier primary forwarded to them alone. Were such a sequence given to another record, the
     * secondaries would refuse it and be rebuilt. Concurrent writers wait for the one that asks.
     * When a secondary cannot be asked (it is down), writes go on, and the asking is tried again
     * after {@link #SETTLE_RETRY_NANOS}; a record given such a sequence meanwhile is refused by
     * the secondary (SEQUENCE_REGRESSION), which is safe, only costlier.
     */
    private void settle(Volume volume, List<StoreInfo> secondaries) throws VolumeException, InterruptedException {
        Settling seen = settled.get(volume.id());
        if (seen != null && seen.done.isDone() && seen.secondaries.equals(secondaries)
                && (seen.done.getNow(false) || System.nanoTime() - seen.startedNanos < SETTLE_RETRY_NANOS)) {
            return;
        }
        if (volume.isSealed()) {
            return; // it takes no writes; the replication manager catches its replicas up
        }
        Settling mine = new Settling(secondaries);
        boolean asking = seen == null ? settled.putIfAbsent(volume.id(), mine) == null
                : seen.done.isDone() && settled.replace(volume.id(), seen, mine);
        if (!asking) {
            Settling other = settled.get(volume.id());
            if (other != null) {
                try {
                    other.done.get();
                } catch (ExecutionException e) {
                    // Completed only normally.
                }
            }
            return;
        }
        boolean all = false;
        try {
            for (StoreInfo secondary : secondaries) {
                takeBack.from(volume, secondary, forwardTimeoutMs);
            }
            all = true;
        } catch (VolumeException | StatusRuntimeException e) {
            log.info("volume {}: could not yet ask the secondaries for records this primary lost: {}", volume.id(),
                    e.getMessage());
        } finally {
            mine.done.complete(all);
        }
    }

    /** A client's delete on the primary: a tombstone here and on every secondary. */
    long deleteAsPrimary(Volume volume, Fid fid) throws VolumeException, InterruptedException {
        checkPrimary(volume.id());
        List<StoreInfo> secondaries = secondaries(volume.id());
        if (!secondaries.isEmpty()) {
            settle(volume, secondaries);
        }
        long sequence = volume.delete(fid.getNeedleId(), fid.getCookie());
        if (!secondaries.isEmpty()) {
            List<String> failed = forwarder.delete(secondaries, fid, sequence);
            checkForwarded(volume, "delete of needle " + fid.getNeedleId(), sequence, failed);
        }
        return sequence;
    }

    /**
     * A record forwarded by the primary {@code primaryStoreId}, applied in sequence order. Refused
     * with NOT_PRIMARY when this replica's set names another primary: a store replaced while it
     * was away, and back with its old replica set, must not write to its old secondaries. An
     * empty id (a primary that does not name itself) is taken.
     */
    void applyFromPrimary(Volume volume, ReplicatedNeedle record, String primaryStoreId)
            throws VolumeException, InterruptedException {
        checkSender(volume.id(), primaryStoreId);
        order.apply(volume, record);
    }

    /**
     * Records of consecutive sequences forwarded by the primary {@code primaryStoreId}, applied
     * together ({@link ReplicaOrder#applyAll}); one outcome per record, null when it is durable.
     */
    List<VolumeException> applyAllFromPrimary(Volume volume, List<ReplicatedNeedle> records, String primaryStoreId)
            throws VolumeException, InterruptedException {
        checkSender(volume.id(), primaryStoreId);
        return order.applyAll(volume, records);
    }

    /** Throws NOT_PRIMARY unless {@code primaryStoreId} is empty or the primary of the volume's replica set. */
    void checkSender(int volumeId, String primaryStoreId) {
        if (primaryStoreId.isEmpty()) {
            return;
        }
        CreateVolumeRequest set = sets.get(volumeId).orElse(null);
        if (set == null || set.getReplicasCount() == 0) {
            throw WireErrors.toStatus(ErrorCode.NOT_PRIMARY, "volume " + volumeId + " has no replica set on store "
                    + storeId + "; it takes no records from " + primaryStoreId);
        }
        String primary = set.getReplicas(0).getStoreId();
        if (!primary.equals(primaryStoreId) || primary.equals(storeId)) {
            throw WireErrors.toStatus(ErrorCode.NOT_PRIMARY, "store " + primaryStoreId + " is not the primary of volume "
                    + volumeId + " on store " + storeId + "; " + primary + " is");
        }
    }

    private List<StoreInfo> secondaries(int volumeId) {
        List<StoreInfo> replicas = sets.get(volumeId).map(CreateVolumeRequest::getReplicasList).orElse(List.of());
        return replicas.size() <= 1 ? List.of() : replicas.subList(1, replicas.size());
    }

    /** Applies the failure rule when some secondary did not take the record. */
    private void checkForwarded(Volume volume, String what, long sequence, List<String> failed) {
        if (failed.isEmpty()) {
            return;
        }
        String reason = what + " (sequence " + sequence + ") in volume " + volume.id() + " failed on "
                + String.join("; ", failed);
        if (peers.isClosed()) {
            // Our own channels were closed under the forward: this store is stopping, no secondary failed.
            throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, reason + "; the store is stopping");
        }
        try {
            volume.seal();
            reason += "; the volume is read-only now";
        } catch (VolumeException e) {
            log.error("volume {}: a replica failed a write, and making the volume read-only failed too: {}",
                    volume.id(), e.getMessage());
            reason += "; making the volume read-only failed too: " + e.getMessage();
        }
        try {
            listener.onReplicaFailed(volume.id(), reason);
        } catch (RuntimeException e) {
            log.error("volume {}: the replica failure listener failed", volume.id(), e);
        }
        throw WireErrors.toStatus(ErrorCode.REPLICA_FAILED, reason);
    }
}
