package io.hayloft.meta.server;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.SetStoreStateCommand;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeReport;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's view of which stores are alive, kept in memory: heartbeats are frequent and
 * carry nothing that must survive a leader change, so they never enter the Raft log. Only a
 * change of state does: a store silent for the dead timeout is written dead, and one that
 * heartbeats again is written live.
 *
 * <p>A new leader has heard from nobody yet: it counts every store as heard at the moment it
 * became leader, so a leader change alone never kills a store.
 */
final class Liveness {
    private static final Logger log = LoggerFactory.getLogger(Liveness.class);

    private final MetaNode node;
    private final long deadNanos;
    private final ConcurrentHashMap<String, Long> lastBeat = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> freeBytes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, VolumeReport> volumeReports = new ConcurrentHashMap<>();
    private long term = -1;
    private long leadingSince;

    Liveness(MetaNode node, MetaConfig config) {
        this.node = node;
        this.deadNanos = config.deadTimeout().toNanos();
    }

    void beat(HeartbeatRequest heartbeat) {
        lastBeat.put(heartbeat.getStoreId(), System.nanoTime());
        freeBytes.put(heartbeat.getStoreId(), heartbeat.getFreeBytes());
        for (VolumeReport r : heartbeat.getVolumesList()) {
            volumeReports.merge(r.getVolumeId(), r, (old, now) -> now.getLastSequence() >= old.getLastSequence()
                    || now.getSizeBytes() >= old.getSizeBytes() ? now : old);
        }
    }

    void registered(String storeId) {
        lastBeat.put(storeId, System.nanoTime());
    }

    /** The latest report of each volume's size, from its replicas' heartbeats. */
    Map<Integer, VolumeReport> volumeReports() {
        return volumeReports;
    }

    Long freeBytes(String storeId) {
        return freeBytes.get(storeId);
    }

    /** Declares dead the live stores silent for longer than the dead timeout. */
    synchronized void tick(long currentTerm) throws MetaException {
        long now = System.nanoTime();
        if (currentTerm != term) {
            term = currentTerm;
            leadingSince = now;
        }
        List<StoreInfo> stores = node.readLocal(s -> s.volumes().stores());
        for (StoreInfo s : stores) {
            if (s.getState() != StoreState.STORE_LIVE) {
                continue;
            }
            long last = lastBeat.getOrDefault(s.getStoreId(), leadingSince);
            if (now - last - deadNanos > 0 && now - leadingSince - deadNanos > 0) {
                log.warn("store {} at {} silent for more than {} ms: dead", s.getStoreId(), s.getAddress(),
                        deadNanos / 1_000_000);
                node.propose(MetaCommand.newBuilder().setSetStoreState(SetStoreStateCommand.newBuilder()
                        .setStoreId(s.getStoreId()).setState(StoreState.STORE_DEAD)));
            }
        }
    }
}
