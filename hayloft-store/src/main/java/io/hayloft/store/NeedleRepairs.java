package io.hayloft.store;

import io.grpc.StatusRuntimeException;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.ReadRecordRequest;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs damaged needles on this store from a healthy replica, and scrubs every volume on a
 * schedule to find them.
 *
 * <p>A needle is queued for repair when a read finds it damaged (the client has already gone on to
 * another replica) or a scrub does. The repair asks the other replicas of its volume for the
 * needle's record ({@code ReadRecord}, checked there and again here) and rewrites the damaged
 * record in place ({@link Volume#repairRecord}): same offset, sequence and index entry, so the
 * replicas stay identical. A needle no replica holds whole stays damaged and is logged; the next
 * scrub finds it again.
 *
 * <p>The scrub reads each volume at a bounded rate ({@link StoreConfig#scrubBytesPerSecond()}),
 * one volume after another, every {@link StoreConfig#scrubIntervalMs()}.
 */
final class NeedleRepairs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NeedleRepairs.class);
    private static final int QUEUED_MAX = 100_000;
    private static final long READ_RECORD_MS = 60_000;

    private record Damaged(int volumeId, long needleId) {}

    private final String storeId;
    private final VolumeSet volumes;
    private final ReplicaSets sets;
    private final PeerChannels peers;
    private final StoreConfig config;
    private final LinkedBlockingQueue<Damaged> queue = new LinkedBlockingQueue<>(QUEUED_MAX);
    private final Set<Damaged> queued = ConcurrentHashMap.newKeySet();
    private final AtomicLong repaired = new AtomicLong();
    private final AtomicLong unrepaired = new AtomicLong();
    private final Thread worker;
    private final Thread scrubber;
    private volatile boolean closed;

    NeedleRepairs(String storeId, VolumeSet volumes, ReplicaSets sets, PeerChannels peers, StoreConfig config) {
        this.storeId = storeId;
        this.volumes = volumes;
        this.sets = sets;
        this.peers = peers;
        this.config = config;
        this.worker = Thread.ofVirtual().name("needle-repairs-" + storeId).start(this::work);
        this.scrubber = config.scrubIntervalMs() == 0 ? null
                : Thread.ofVirtual().name("scrub-" + storeId).start(this::scrubForever);
    }

    /** Queues a damaged needle for repair; a needle queued already is not queued twice. */
    void submit(int volumeId, long needleId) {
        Damaged d = new Damaged(volumeId, needleId);
        if (!closed && queued.add(d) && !queue.offer(d)) {
            queued.remove(d);
            log.warn("volume {}: needle {} is damaged and the repair queue is full; the next scrub finds it again",
                    volumeId, needleId);
        }
    }

    /** Needles repaired, and repairs that found no healthy copy, since the store started. */
    long repaired() {
        return repaired.get();
    }

    long unrepaired() {
        return unrepaired.get();
    }

    /** Scrubs every volume once, now, at the configured rate; returns the damaged needles found and queued. */
    long scrubAll() throws InterruptedException {
        long found = 0;
        for (Volume v : volumes.volumes()) {
            if (closed) {
                break;
            }
            found += scrub(v);
        }
        return found;
    }

    private long scrub(Volume v) throws InterruptedException {
        Pace pace = new Pace(config.scrubBytesPerSecond());
        List<Long> bad;
        try {
            bad = v.scrub(pace);
        } catch (VolumeException e) {
            if (e.code() != VolumeErrorCode.CLOSED) {
                log.warn("volume {}: scrub failed: {}", v.id(), e.getMessage());
            }
            return 0;
        }
        if (pace.interrupted) {
            throw new InterruptedException("scrub interrupted");
        }
        for (long needleId : bad) {
            submit(v.id(), needleId);
        }
        if (!bad.isEmpty()) {
            log.warn("volume {}: scrub found {} damaged needles on store {}; repairing them from other replicas",
                    v.id(), bad.size(), storeId);
        }
        return bad.size();
    }

    private void scrubForever() {
        while (!closed) {
            try {
                Thread.sleep(config.scrubIntervalMs());
                scrubAll();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("scrub failed", e);
            }
        }
    }

    private void work() {
        while (!closed) {
            Damaged d;
            try {
                d = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            queued.remove(d);
            try {
                repair(d);
            } catch (RuntimeException e) {
                log.error("volume {}: repair of needle {} failed", d.volumeId(), d.needleId(), e);
            }
        }
    }

    private void repair(Damaged d) {
        Volume volume;
        try {
            volume = volumes.get(d.volumeId());
        } catch (VolumeException e) {
            return; // dropped meanwhile
        }
        try {
            volume.readRecord(d.needleId());
            return; // whole again: repaired already (it was queued twice), or deleted and rewritten
        } catch (VolumeException e) {
            if (e.code() != VolumeErrorCode.CORRUPT) {
                return; // deleted, compacted away or dropped meanwhile: nothing to repair
            }
        }
        CreateVolumeRequest set = sets.get(d.volumeId()).orElse(null);
        StringBuilder tried = new StringBuilder();
        for (StoreInfo r : set == null ? List.<StoreInfo>of() : set.getReplicasList()) {
            if (r.getStoreId().equals(storeId)) {
                continue;
            }
            try {
                CatchUpRecord record = StoreGrpc.newBlockingStub(peers.get(r.getAddress()))
                        .withDeadlineAfter(READ_RECORD_MS, TimeUnit.MILLISECONDS)
                        .readRecord(ReadRecordRequest.newBuilder().setVolumeId(d.volumeId())
                                .setNeedleId(d.needleId()).build());
                ReplicatedNeedle healthy;
                try {
                    healthy = CatchUpRecords.fromWire(record, d.volumeId(), r.getStoreId());
                } catch (VolumeException damaged) {
                    tried.append("; ").append(damaged.getMessage());
                    continue;
                }
                if (healthy.needleId() != d.needleId()) {
                    tried.append("; ").append(r.getStoreId()).append(": answered with another record");
                    continue;
                }
                volume.repairRecord(healthy);
                repaired.incrementAndGet();
                log.info("volume {}: needle {} repaired from store {}", d.volumeId(), d.needleId(), r.getStoreId());
                return;
            } catch (StatusRuntimeException e) {
                tried.append("; ").append(r.getStoreId()).append(": ").append(e.getMessage());
            } catch (VolumeException e) {
                if (e.code() == VolumeErrorCode.NOT_FOUND || e.code() == VolumeErrorCode.DELETED
                        || e.code() == VolumeErrorCode.CLOSED) {
                    return; // deleted or compacted away meanwhile: nothing to repair
                }
                if (e.code() == VolumeErrorCode.BAD_INPUT) {
                    // That replica's newest record of the needle is not this one's (a tombstone
                    // against data, another length): another replica may hold the same.
                    tried.append("; ").append(r.getStoreId()).append(": ").append(e.getMessage());
                    continue;
                }
                tried.append("; here: ").append(e.getMessage());
                break;
            }
        }
        unrepaired.incrementAndGet();
        log.error("volume {}: needle {} is damaged on store {} and could not be repaired{}", d.volumeId(),
                d.needleId(), storeId, tried);
    }

    /** Holds a scrub to its rate; the volume's scrub cannot be interrupted, so it is remembered. */
    private static final class Pace implements LongConsumer {
        private final RateLimit limit;
        boolean interrupted;

        Pace(long bytesPerSecond) {
            this.limit = new RateLimit(bytesPerSecond);
        }

        @Override
        public void accept(long bytes) {
            if (interrupted) {
                return;
            }
            try {
                limit.took(bytes);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        if (scrubber != null) {
            scrubber.interrupt();
        }
    }
}
