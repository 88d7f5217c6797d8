package io.hayloft.meta.server;

import io.grpc.StatusRuntimeException;
import io.hayloft.client.Channels;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.CreateVolumeCommand;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.SetVolumeStateCommand;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates volumes when assignments find no writable one: on the leader, one growth at a time.
 *
 * <p>A volume is first written to meta read-only (so nothing is assigned to it), then created on
 * each of its stores, then made writable. When a store fails its part, the volume stays
 * read-only and empty, and is never used; that is cheaper than undoing the other replicas.
 */
final class VolumeGrowth {
    private static final Logger log = LoggerFactory.getLogger(VolumeGrowth.class);
    private static final long STORE_CALL_MS = 10_000;

    private final MetaNode node;
    private final Channels channels;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicLong generation = new AtomicLong();
    private final SecureRandom random = new SecureRandom();
    private final Set<Integer> creating = ConcurrentHashMap.newKeySet();

    VolumeGrowth(MetaNode node, Channels channels) {
        this.node = node;
        this.channels = channels;
    }

    /** Whether the volume is being created now: its replicas may not exist yet. */
    boolean creating(int volumeId) {
        return creating.contains(volumeId);
    }

    /** Counts growths; a caller passes the count it saw before its assign failed. */
    long generation() {
        return generation.get();
    }

    /**
     * Creates new volumes, one per live store (each store primary of one), unless another caller
     * grew since {@code seenGeneration}. Throws UNAVAILABLE when none could be created.
     */
    void grow(long seenGeneration) throws MetaException {
        lock.lock();
        try {
            if (generation.get() != seenGeneration) {
                return;
            }
            int rf = node.config().replicationFactor();
            long live = node.readLocal(s -> s.volumes().stores()).stream()
                    .filter(s -> s.getState() == StoreState.STORE_LIVE).count();
            if (live < rf) {
                throw new MetaException(ErrorCode.NO_WRITABLE_VOLUME, "no writable volume, and only " + live
                        + " live stores for a replication factor of " + rf);
            }
            int created = 0;
            MetaException last = null;
            for (int i = 0; i < Math.max(2, live); i++) {
                try {
                    create(rf);
                    created++;
                } catch (MetaException e) {
                    last = e;
                    log.warn("could not create a volume: {}", e.getMessage());
                }
            }
            generation.incrementAndGet();
            if (created == 0) {
                throw new MetaException(ErrorCode.NO_WRITABLE_VOLUME, "no writable volume, and creating one failed: "
                        + (last == null ? "" : last.detail()));
            }
        } finally {
            lock.unlock();
        }
    }

    private void create(int rf) throws MetaException {
        VolumeInfo v = node.propose(MetaCommand.newBuilder().setCreateVolume(CreateVolumeCommand.newBuilder()
                .setReplicationFactor(rf).setState(VolumeState.VOLUME_READONLY))).getVolume();
        creating.add(v.getVolumeId());
        try {
            createReplicas(v);
        } finally {
            creating.remove(v.getVolumeId());
        }
    }

    private void createReplicas(VolumeInfo v) throws MetaException {
        CreateVolumeRequest request = CreateVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                .setSalt(random.nextLong()).addAllReplicas(v.getReplicasList()).build();
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (StoreInfo replica : v.getReplicasList()) {
            CompletableFuture<Void> call = new CompletableFuture<>();
            node.execute(() -> {
                try {
                    StoreGrpc.newBlockingStub(channels.get(replica.getAddress()))
                            .withDeadlineAfter(STORE_CALL_MS, TimeUnit.MILLISECONDS).createVolume(request);
                    call.complete(null);
                } catch (StatusRuntimeException | IllegalStateException e) {
                    call.completeExceptionally(new MetaException(ErrorCode.UNAVAILABLE, "store "
                            + replica.getStoreId() + " at " + replica.getAddress() + " did not create volume "
                            + v.getVolumeId() + ": " + e.getMessage(), e));
                }
            });
            calls.add(call);
        }
        for (CompletableFuture<Void> call : calls) {
            try {
                call.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MetaException(ErrorCode.UNAVAILABLE, "interrupted while creating a volume");
            } catch (java.util.concurrent.ExecutionException e) {
                throw (MetaException) e.getCause();
            }
        }
        node.propose(MetaCommand.newBuilder().setSetVolumeState(SetVolumeStateCommand.newBuilder()
                .setVolumeId(v.getVolumeId()).setState(VolumeState.VOLUME_WRITABLE)));
        log.info("volume {} created on {}", v.getVolumeId(), v.getReplicasList().stream()
                .map(StoreInfo::getStoreId).toList());
    }
}
