package io.hayloft.meta.server;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.SetStoreStateCommand;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeReport;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's view of which stores are alive, kept in memory: heartbeats are frequent and
 * carry nothing that must survive a leader change, so they never enter the Raft log. Only a
 * change of state does: a store that missed three heartbeats is written suspect (nothing is
 * assigned to its volumes, and reads try it last), one silent for the dead timeout is written
 * dead (its volumes turn degraded, and the {@link RepairManager} copies them elsewhere), and one
 * that heartbeats again is written live.
 *
 * <p>A new leader has heard from nobody yet: it counts every store as heard at the moment it
 * became leader, so a leader change alone never kills a store.
 */
final class Liveness {
    private static final Logger log = LoggerFactory.getLogger(Liveness.class);

    private final MetaNode node;
    private final long deadNanos;
    private final long suspectNanos;
    private final ConcurrentHashMap<String, Long> lastBeat = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Map<Integer, VolumeReport>> reportsByStore = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> freeBytes = new ConcurrentHashMap<>();
    private long term = -1;
    private long leadingSince;

    Liveness(MetaNode node, MetaConfig config) {
        this.node = node;
        this.deadNanos = config.deadTimeout().toNanos();
        this.suspectNanos = config.suspectTimeout().toNanos();
    }

    void beat(HeartbeatRequest heartbeat) {
        lastBeat.put(heartbeat.getStoreId(), System.nanoTime());
        freeBytes.put(heartbeat.getStoreId(), heartbeat.getFreeBytes());
        Map<Integer, VolumeReport> reports = new HashMap<>();
        for (VolumeReport r : heartbeat.getVolumesList()) {
            reports.put(r.getVolumeId(), r);
        }
        reportsByStore.put(heartbeat.getStoreId(), Map.copyOf(reports));
    }

    /**
     * Forgets a store's report of a replica it has just dropped, so that the replica is not
     * planned for dropping again before the store's next heartbeat says it is gone.
     */
    void dropped(String storeId, int volumeId) {
        reportsByStore.computeIfPresent(storeId, (id, reports) -> {
            Map<Integer, VolumeReport> left = new HashMap<>(reports);
            left.remove(volumeId);
            return Map.copyOf(left);
        });
    }

    void registered(String storeId) {
        lastBeat.put(storeId, System.nanoTime());
    }

    /**
     * The most advanced report of a volume among its replicas' latest heartbeats (the one with the
     * highest last sequence), or null when none reported it.
     */
    VolumeReport latestReport(int volumeId) {
        VolumeReport best = null;
        for (Map<Integer, VolumeReport> reports : reportsByStore.values()) {
            VolumeReport r = reports.get(volumeId);
            if (r != null && (best == null || r.getLastSequence() > best.getLastSequence())) {
                best = r;
            }
        }
        return best;
    }

    /**
     * The volumes a store reported in its latest heartbeat to this leader, or null when it has not
     * heartbeat to this leader yet.
     */
    Map<Integer, VolumeReport> reportsOf(String storeId) {
        return reportsByStore.get(storeId);
    }

    Long freeBytes(String storeId) {
        return freeBytes.get(storeId);
    }

    /**
     * Declares suspect the live stores that missed three heartbeats, and dead the stores silent
     * for longer than the dead timeout.
     */
    synchronized void tick(long currentTerm) throws MetaException {
        long now = System.nanoTime();
        if (currentTerm != term) {
            term = currentTerm;
            leadingSince = now;
            reportsByStore.clear();
        }
        List<StoreInfo> stores = node.readLocal(s -> s.volumes().stores());
        for (StoreInfo s : stores) {
            long last = lastBeat.getOrDefault(s.getStoreId(), leadingSince);
            long silent = now - Math.max(last, leadingSince);
            if (s.getState() != StoreState.STORE_DEAD && silent - deadNanos > 0) {
                log.warn("store {} at {} silent for more than {} ms: dead", s.getStoreId(), s.getAddress(),
                        deadNanos / 1_000_000);
                setState(s.getStoreId(), StoreState.STORE_DEAD);
            } else if (s.getState() == StoreState.STORE_LIVE && silent - suspectNanos > 0) {
                log.warn("store {} at {} missed {} heartbeats: suspect", s.getStoreId(), s.getAddress(),
                        MetaConfig.SUSPECT_AFTER_MISSED_HEARTBEATS);
                setState(s.getStoreId(), StoreState.STORE_SUSPECT);
            }
        }
    }

    private void setState(String storeId, StoreState state) throws MetaException {
        node.propose(MetaCommand.newBuilder().setSetStoreState(SetStoreStateCommand.newBuilder()
                .setStoreId(storeId).setState(state)));
    }
}
