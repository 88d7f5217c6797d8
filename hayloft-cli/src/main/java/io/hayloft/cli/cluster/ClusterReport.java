package io.hayloft.cli.cluster;

import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.MetaPeer;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What the cluster status says about health: the leader, the stores that are not live, and the
 * degraded volumes (fewer replicas than their replication factor, a replica on a store that is
 * not live, or read-only without being full), each with its reason.
 */
public record ClusterReport(ClusterStatusResponse status) {
    /** A volume that needs attention, and why. */
    public record Degraded(VolumeInfo volume, String reason) {}

    public Optional<MetaPeer> leader() {
        return status.getPeersList().stream().filter(MetaPeer::getLeader).findFirst();
    }

    public List<StoreInfo> storesNotLive() {
        return status.getStoresList().stream().filter(s -> s.getState() != StoreState.STORE_LIVE).toList();
    }

    public long liveStores() {
        return status.getStoresCount() - storesNotLive().size();
    }

    public List<Degraded> degradedVolumes() {
        Map<String, StoreInfo> stores = status.getStoresList().stream()
                .collect(Collectors.toMap(StoreInfo::getStoreId, Function.identity(), (a, b) -> a));
        List<Degraded> out = new ArrayList<>();
        for (VolumeInfo v : status.getVolumesList()) {
            reason(v, stores).ifPresent(r -> out.add(new Degraded(v, r)));
        }
        return out;
    }

    private static Optional<String> reason(VolumeInfo v, Map<String, StoreInfo> stores) {
        List<String> down = v.getReplicasList().stream().map(StoreInfo::getStoreId)
                .filter(id -> !stores.containsKey(id) || stores.get(id).getState() != StoreState.STORE_LIVE)
                .toList();
        if (!down.isEmpty()) {
            return Optional.of("replica on a store that is not live: " + String.join(", ", down));
        }
        if (v.getReplicasCount() < v.getReplicationFactor()) {
            return Optional.of(v.getReplicasCount() + " of " + v.getReplicationFactor() + " replicas");
        }
        if (v.getState() == VolumeState.VOLUME_DEGRADED) {
            return Optional.of("degraded");
        }
        if (v.getState() == VolumeState.VOLUME_READONLY && !v.getFull()) {
            return Optional.of("read-only after a failed write (repair catches its replicas up)");
        }
        return Optional.empty();
    }

    /** Why the cluster is not healthy, or empty when it is. */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        if (leader().isEmpty()) {
            out.add("no meta leader");
        }
        for (StoreInfo s : storesNotLive()) {
            out.add("store " + s.getStoreId() + " (" + s.getAddress() + ") is " + state(s.getState()));
        }
        for (Degraded d : degradedVolumes()) {
            out.add("volume " + d.volume().getVolumeId() + ": " + d.reason());
        }
        return out;
    }

    static String state(StoreState s) {
        return switch (s) {
            case STORE_LIVE -> "live";
            case STORE_DEAD -> "dead";
            case STORE_SUSPECT -> "suspect";
            default -> "unknown";
        };
    }

    static String state(VolumeState s) {
        return switch (s) {
            case VOLUME_WRITABLE -> "writable";
            case VOLUME_READONLY -> "read-only";
            case VOLUME_DEGRADED -> "degraded";
            default -> "unknown";
        };
    }
}
