package io.hayloft.it;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.hayloft.it.ProcessCluster.Node;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.RepairStatus;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Whether a {@link ProcessCluster} is healthy again: every store live, nothing queued for repair,
 * every volume writable (or full) with its full set of replicas on live stores, and the replicas of each
 * volume holding the same needles (the newest record of each, byte for byte).
 */
final class Healing {
    private Healing() {}

    /** Empty when healed, else what is not healed yet. */
    static Optional<String> unhealed(ProcessCluster cluster) {
        Optional<ClusterStatusResponse> s = cluster.status();
        if (s.isEmpty()) {
            return Optional.of("no meta leader answers");
        }
        ClusterStatusResponse status = s.get();
        for (StoreInfo store : status.getStoresList()) {
            if (store.getState() != StoreState.STORE_LIVE) {
                return Optional.of("store " + store.getStoreId() + " is " + store.getState());
            }
        }
        if (status.getStoresCount() != cluster.stores().size()) {
            return Optional.of(status.getStoresCount() + " stores registered of " + cluster.stores().size());
        }
        if (status.getRepair().getQueued() > 0 || status.getRepair().getRunning() > 0) {
            // Done and failed counts tell repairs that end without effect, and are planned again,
            // from repairs that never start.
            RepairStatus repair = status.getRepair();
            return Optional.of("repairs queued " + repair.getQueued() + ", running " + repair.getRunning()
                    + " (done " + repair.getDone() + ", failed " + repair.getFailed() + " since the leader took office): "
                    + repair.getTasksList().stream()
                    .limit(8).map(t -> t.getKind() + " of volume " + t.getVolumeId() + " (" + t.getState()
                            + (t.getStoreId().isEmpty() ? "" : ", to " + t.getStoreId())
                            + (t.getSourceStoreId().isEmpty() ? "" : ", from " + t.getSourceStoreId()) + ", "
                            + t.getLiveReplicas() + " live)").toList());
        }
        for (VolumeInfo v : status.getVolumesList()) {
            if (v.getState() != VolumeState.VOLUME_WRITABLE && !(v.getState() == VolumeState.VOLUME_READONLY
                    && v.getFull())) {
                return Optional.of("volume " + v.getVolumeId() + " is " + v.getState());
            }
            if (v.getReplicasCount() != v.getReplicationFactor()
                    || v.getReplicasList().stream().map(StoreInfo::getStoreId).distinct().count()
                            != v.getReplicationFactor()) {
                return Optional.of("volume " + v.getVolumeId() + " has replicas " + v.getReplicasList().stream()
                        .map(StoreInfo::getStoreId).toList() + " for a replication factor of "
                        + v.getReplicationFactor());
            }
        }
        for (VolumeInfo v : status.getVolumesList()) {
            Optional<String> differ = replicasDiffer(cluster, v);
            if (differ.isPresent()) {
                return differ;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> replicasDiffer(ProcessCluster cluster, VolumeInfo v) {
        Records first = null;
        String firstStore = null;
        for (StoreInfo replica : v.getReplicasList()) {
            Node store = cluster.storeByAdvertisedAddress(replica.getAddress());
            Records records;
            try {
                records = newestRecords(cluster, store, v.getVolumeId());
            } catch (StatusRuntimeException e) {
                return Optional.of("volume " + v.getVolumeId() + " on " + store + " cannot be read: " + e.getMessage());
            }
            if (first == null) {
                first = records;
                firstStore = store.name;
            } else if (!first.live().equals(records.live())) {
                String last = " (last sequence " + first.lastSequence() + " on " + firstStore + ", "
                        + records.lastSequence() + " on " + store + ")";
                for (Map.Entry<Long, String> e : first.live().entrySet()) {
                    if (!e.getValue().equals(records.live().get(e.getKey()))) {
                        return Optional.of("volume " + v.getVolumeId() + ": needle " + e.getKey() + " is "
                                + e.getValue() + " on " + firstStore + " but " + records.live().get(e.getKey())
                                + " on " + store + last);
                    }
                }
                Map<Long, String> extra = new TreeMap<>(records.live());
                extra.keySet().removeAll(first.live().keySet());
                return Optional.of("volume " + v.getVolumeId() + " on " + store + " holds needles " + firstStore
                        + " does not" + last + ": " + extra.entrySet().stream().limit(5).toList()
                        + (extra.size() > 5 ? " and " + (extra.size() - 5) + " more" : ""));
            }
        }
        return Optional.empty();
    }

    /** A replica's live needles, each with its newest record, and the highest sequence it holds. */
    private record Records(Map<Long, String> live, long lastSequence) {}

    /** Live needle id → its newest record (sequence, length, CRC of the data read), and the last sequence. */
    private static Records newestRecords(ProcessCluster cluster, Node store, int volumeId) {
        ManagedChannel channel = cluster.channelTo(store);
        try {
            Iterator<CatchUpRecord> records = StoreGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .catchUp(CatchUpRequest.newBuilder().setVolumeId(volumeId).setAfterSequence(0).build());
            Map<Long, String> newest = new TreeMap<>();
            long last = 0;
            while (records.hasNext()) {
                CatchUpRecord r = records.next();
                last = Math.max(last, r.getSequence());
                CRC32C crc = new CRC32C();
                crc.update(r.getData().asReadOnlyByteBuffer());
                if (r.getTombstone()) {
                    newest.remove(r.getNeedleId());  // compaction may have dropped it on another replica
                } else {
                    newest.put(r.getNeedleId(), "seq " + r.getSequence() + ", " + r.getData().size() + " bytes, crc "
                            + Long.toHexString(crc.getValue()));
                }
            }
            return new Records(newest, last);
        } finally {
            channel.shutdownNow();
        }
    }
}
