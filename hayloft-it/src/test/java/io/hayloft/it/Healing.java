package io.hayloft.it;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.hayloft.it.ProcessCluster.Node;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.ClusterStatusResponse;
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
            return Optional.of("repairs queued " + status.getRepair().getQueued() + ", running "
                    + status.getRepair().getRunning());
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
        Map<Long, String> first = null;
        String firstStore = null;
        for (StoreInfo replica : v.getReplicasList()) {
            Node store = cluster.storeByAdvertisedAddress(replica.getAddress());
            Map<Long, String> needles;
            try {
                needles = newestRecords(cluster, store, v.getVolumeId());
            } catch (StatusRuntimeException e) {
                return Optional.of("volume " + v.getVolumeId() + " on " + store + " cannot be read: " + e.getMessage());
            }
            if (first == null) {
                first = needles;
                firstStore = store.name;
            } else if (!first.equals(needles)) {
                for (Map.Entry<Long, String> e : first.entrySet()) {
                    if (!e.getValue().equals(needles.get(e.getKey()))) {
                        return Optional.of("volume " + v.getVolumeId() + ": needle " + e.getKey() + " is "
                                + e.getValue() + " on " + firstStore + " but " + needles.get(e.getKey()) + " on "
                                + store);
                    }
                }
                return Optional.of("volume " + v.getVolumeId() + " on " + store + " holds needles " + firstStore
                        + " does not");
            }
        }
        return Optional.empty();
    }

    /** Live needle id → its newest record (sequence, length, CRC of the data read). */
    private static Map<Long, String> newestRecords(ProcessCluster cluster, Node store, int volumeId) {
        ManagedChannel channel = cluster.channelTo(store);
        try {
            Iterator<CatchUpRecord> records = StoreGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .catchUp(CatchUpRequest.newBuilder().setVolumeId(volumeId).setAfterSequence(0).build());
            Map<Long, String> newest = new TreeMap<>();
            while (records.hasNext()) {
                CatchUpRecord r = records.next();
                CRC32C crc = new CRC32C();
                crc.update(r.getData().asReadOnlyByteBuffer());
                if (r.getTombstone()) {
                    newest.remove(r.getNeedleId());  // compaction may have dropped it on another replica
                } else {
                    newest.put(r.getNeedleId(), "seq " + r.getSequence() + ", " + r.getData().size() + " bytes, crc "
                            + Long.toHexString(crc.getValue()));
                }
            }
            return newest;
        } finally {
            channel.shutdownNow();
        }
    }
}
