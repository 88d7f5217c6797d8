package io.hayloft.meta.state;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.AssignResponse;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Stores, volumes and their replicas, placement of new volumes, and assignments: the part of
 * meta's state that the data path sees.
 *
 * <p>Implementation notes. Deterministic like {@link NameTable}: iteration is in key order, ties
 * are broken by id, and nothing reads a clock. Needle ids come from one cluster-wide counter, so a
 * needle id never repeats, in any volume: an overwrite always writes new needles.
 */
public final class VolumeTable {
    private static final byte[] NEXT_VOLUME_ID = "next-volume-id".getBytes(StandardCharsets.UTF_8);
    private static final byte[] NEXT_NEEDLE_ID = "next-needle-id".getBytes(StandardCharsets.UTF_8);
    /** Largest block of needle ids leased at once. */
    public static final int ASSIGN_COUNT_MAX = 1 << 20;

    private final MetaDb db;

    public VolumeTable(MetaDb db) {
        this.db = db;
    }

    /** Adds a store or updates its address, rack and sizes; it is live afterwards. */
    public void registerStore(StoreInfo store) throws MetaException {
        if (store.getStoreId().isEmpty() || store.getAddress().isEmpty()) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "a store needs an id and an address");
        }
        putStore(store.toBuilder().setState(StoreState.STORE_LIVE).build());
    }

    /**
     * Records that a store turned suspect, died or came back. A death makes every volume with a
     * replica there degraded: not assigned, until the replication manager repairs it.
     */
    public void setStoreState(String storeId, StoreState state) throws MetaException {
        putStore(store(storeId).toBuilder().setState(state).build());
        if (state == StoreState.STORE_DEAD) {
            for (VolumeInfo v : volumes()) {
                if (v.getState() != VolumeState.VOLUME_DEGRADED
                        && v.getReplicasList().stream().anyMatch(r -> r.getStoreId().equals(storeId))) {
                    putVolume(v.toBuilder().setState(VolumeState.VOLUME_DEGRADED).build());
                }
            }
        }
    }

    /**
     * Replaces a volume's replica set and state after a repair, provided it still has the
     * replicas {@code expected} (in order); BAD_REQUEST otherwise, or when a new replica is not a
     * known store or is named twice.
     */
    public void setVolumeReplicas(int volumeId, List<String> expected, List<String> replicas, VolumeState state)
            throws MetaException {
        VolumeInfo v = volumeRecord(volumeId);
        List<String> current = v.getReplicasList().stream().map(StoreInfo::getStoreId).toList();
        if (!current.equals(expected)) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "volume " + volumeId + " has replicas " + current
                    + ", not " + expected + ": its replica set changed under the repair");
        }
        if (replicas.isEmpty() || new HashSet<>(replicas).size() != replicas.size()) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "replicas must be distinct and at least one: " + replicas);
        }
        VolumeInfo.Builder b = v.toBuilder().clearReplicas().setState(state == VolumeState.VOLUME_STATE_UNSPECIFIED
                ? v.getState() : state);
        for (String id : replicas) {
            store(id);
            b.addReplicas(StoreInfo.newBuilder().setStoreId(id));
        }
        putVolume(b.build());
    }

    public StoreInfo store(String storeId) throws MetaException {
        StoreInfo s = read(db.stores, storeId.getBytes(StandardCharsets.UTF_8), StoreInfo.parser());
        if (s == null) {
            throw new MetaException(ErrorCode.NO_SUCH_STORE, "no store " + storeId);
        }
        return s;
    }

    public List<StoreInfo> stores() throws MetaException {
        return readAll(db.stores, StoreInfo.parser());
    }

    /**
     * Creates a volume on {@code replicationFactor} distinct live stores, on distinct racks while
     * racks allow, preferring stores that hold the fewest volumes (then the most free bytes).
     * The first store chosen is the primary.
     */
    public VolumeInfo createVolume(int replicationFactor) throws MetaException {
        return createVolume(replicationFactor, VolumeState.VOLUME_WRITABLE);
    }

    /** As {@link #createVolume(int)}, starting in the given state. */
    public VolumeInfo createVolume(int replicationFactor, VolumeState state) throws MetaException {
        if (state != VolumeState.VOLUME_WRITABLE && state != VolumeState.VOLUME_READONLY) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "a volume starts writable or read-only, not " + state);
        }
        if (replicationFactor < 1 || replicationFactor > 5) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "replication factor must be 1 to 5");
        }
        Map<String, Integer> load = new HashMap<>();
        for (VolumeInfo v : volumes()) {
            for (StoreInfo r : v.getReplicasList()) {
                load.merge(r.getStoreId(), 1, Integer::sum);
            }
        }
        List<StoreInfo> candidates = new ArrayList<>();
        for (StoreInfo s : stores()) {
            if (s.getState() == StoreState.STORE_LIVE) {
                candidates.add(s);
            }
        }
        candidates.sort(Comparator.<StoreInfo>comparingInt(s -> load.getOrDefault(s.getStoreId(), 0))
                .thenComparing(Comparator.comparingLong(StoreInfo::getFreeBytes).reversed())
                .thenComparing(StoreInfo::getStoreId));
        List<StoreInfo> chosen = new ArrayList<>(pick(candidates, replicationFactor));
        // The primary takes the writes' forwarding work: give it to the chosen store that is
        // primary of the fewest volumes.
        Map<String, Integer> primaries = new HashMap<>();
        for (VolumeInfo v : volumes()) {
            if (v.getReplicasCount() > 0) {
                primaries.merge(v.getReplicas(0).getStoreId(), 1, Integer::sum);
            }
        }
        StoreInfo primary = chosen.stream().min(Comparator.<StoreInfo>comparingInt(
                s -> primaries.getOrDefault(s.getStoreId(), 0)).thenComparing(StoreInfo::getStoreId)).orElse(null);
        if (primary != null) {
            chosen.remove(primary);
            chosen.add(0, primary);
        }
        if (chosen.size() < replicationFactor) {
            throw new MetaException(ErrorCode.UNAVAILABLE, "need " + replicationFactor + " live stores, have "
                    + candidates.size());
        }
        int id = (int) nextCounter(NEXT_VOLUME_ID, 1);
        VolumeInfo.Builder v = VolumeInfo.newBuilder().setVolumeId(id).setState(state)
                .setReplicationFactor(replicationFactor);
        for (StoreInfo s : chosen) {
            v.addReplicas(StoreInfo.newBuilder().setStoreId(s.getStoreId()));
        }
        VolumeInfo volume = v.build();
        putVolume(volume);
        return withAddresses(volume);
    }

    /** Distinct racks first, then any store, keeping the candidates' order. */
    private static List<StoreInfo> pick(List<StoreInfo> candidates, int n) {
        List<StoreInfo> chosen = new ArrayList<>();
        Set<String> racks = new HashSet<>();
        for (StoreInfo s : candidates) {
            if (chosen.size() < n && (s.getRack().isEmpty() || racks.add(s.getRack()))) {
                chosen.add(s);
            }
        }
        for (StoreInfo s : candidates) {
            if (chosen.size() < n && !chosen.contains(s)) {
                chosen.add(s);
            }
        }
        return chosen;
    }

    /**
     * Leases a block of needle ids on a writable volume whose replicas are all live, skipping the
     * excluded ones; NO_WRITABLE_VOLUME when there is none (the leader then creates volumes).
     */
    public AssignResponse assign(int count, Set<Integer> excluded, int leaseMs) throws MetaException {
        return assign(count, excluded, leaseMs, List.of());
    }

    /** As {@link #assign(int, Set, int)}, taking the first suitable volume of {@code preferred} when there is one. */
    public AssignResponse assign(int count, Set<Integer> excluded, int leaseMs, List<Integer> preferred)
            throws MetaException {
        if (count < 1 || count > ASSIGN_COUNT_MAX) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "count must be 1 to " + ASSIGN_COUNT_MAX);
        }
        Map<String, StoreInfo> stores = new HashMap<>();
        for (StoreInfo s : stores()) {
            stores.put(s.getStoreId(), s);
        }
        VolumeInfo best = null;
        for (int id : preferred) {
            VolumeInfo v = read(db.volumes, volumeKey(id), VolumeInfo.parser());
            if (v != null && assignable(v, excluded, stores)) {
                best = v;
                break;
            }
        }
        if (best == null) {
            for (VolumeInfo v : volumes()) {
                if (assignable(v, excluded, stores) && (best == null || v.getSizeBytes() < best.getSizeBytes())) {
                    best = v;
                }
            }
        }
        if (best == null) {
            throw new MetaException(ErrorCode.NO_WRITABLE_VOLUME, "no writable volume with all replicas live");
        }
        long first = nextCounter(NEXT_NEEDLE_ID, count);
        return AssignResponse.newBuilder().setVolume(withAddresses(best)).setFirstNeedleId(first).setCount(count)
                .setLeaseMs(leaseMs).build();
    }

    private static boolean assignable(VolumeInfo v, Set<Integer> excluded, Map<String, StoreInfo> stores) {
        return v.getState() == VolumeState.VOLUME_WRITABLE && !excluded.contains(v.getVolumeId())
                && v.getReplicasList().stream().allMatch(r -> stores.containsKey(r.getStoreId())
                        && stores.get(r.getStoreId()).getState() == StoreState.STORE_LIVE);
    }

    public void setVolumeState(int volumeId, VolumeState state) throws MetaException {
        putVolume(volumeRecord(volumeId).toBuilder().setState(state).build());
    }

    /** The volume with its replicas' current addresses. */
    public VolumeInfo volume(int volumeId) throws MetaException {
        return withAddresses(volumeRecord(volumeId));
    }

    public List<VolumeInfo> volumes() throws MetaException {
        return readAll(db.volumes, VolumeInfo.parser());
    }

    private VolumeInfo volumeRecord(int volumeId) throws MetaException {
        VolumeInfo v = read(db.volumes, volumeKey(volumeId), VolumeInfo.parser());
        if (v == null) {
            throw new MetaException(ErrorCode.NO_SUCH_VOLUME, "no volume " + volumeId);
        }
        return v;
    }

    private VolumeInfo withAddresses(VolumeInfo v) throws MetaException {
        VolumeInfo.Builder b = v.toBuilder().clearReplicas();
        for (StoreInfo r : v.getReplicasList()) {
            b.addReplicas(store(r.getStoreId()));
        }
        return b.build();
    }

    /** Returns the counter's value and advances it by {@code n}; counters start at 1. */
    private long nextCounter(byte[] name, long n) throws MetaException {
        try {
            byte[] v = db.db().get(db.counters, name);
            long value = v == null ? 1 : ByteBuffer.wrap(v).getLong();
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(db.counters, name, ByteBuffer.allocate(8).putLong(value + n).array());
                db.write(batch);
            }
            return value;
        } catch (RocksDBException e) {
            throw new MetaException(ErrorCode.IO_ERROR, "meta database: " + e.getMessage(), e);
        }
    }

    private void putStore(StoreInfo s) throws MetaException {
        put(db.stores, s.getStoreId().getBytes(StandardCharsets.UTF_8), s.toByteArray());
    }

    private void putVolume(VolumeInfo v) throws MetaException {
        put(db.volumes, volumeKey(v.getVolumeId()), v.toByteArray());
    }

    private static byte[] volumeKey(int volumeId) {
        return ByteBuffer.allocate(4).putInt(volumeId).array();
    }

    private void put(org.rocksdb.ColumnFamilyHandle cf, byte[] k, byte[] v) throws MetaException {
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(cf, k, v);
            db.write(batch);
        } catch (RocksDBException e) {
            throw new MetaException(ErrorCode.IO_ERROR, "meta database: " + e.getMessage(), e);
        }
    }

    private <T> T read(org.rocksdb.ColumnFamilyHandle cf, byte[] k, com.google.protobuf.Parser<T> parser)
            throws MetaException {
        try {
            byte[] v = db.db().get(cf, k);
            return v == null ? null : parser.parseFrom(v);
        } catch (RocksDBException e) {
            throw new MetaException(ErrorCode.IO_ERROR, "meta database: " + e.getMessage(), e);
        } catch (InvalidProtocolBufferException e) {
            throw new MetaException(ErrorCode.INTERNAL, "damaged record in the meta database", e);
        }
    }

    private <T> List<T> readAll(org.rocksdb.ColumnFamilyHandle cf, com.google.protobuf.Parser<T> parser)
            throws MetaException {
        List<T> out = new ArrayList<>();
        try (RocksIterator it = db.db().newIterator(cf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(parser.parseFrom(it.value()));
            }
        } catch (InvalidProtocolBufferException e) {
            throw new MetaException(ErrorCode.INTERNAL, "damaged record in the meta database", e);
        }
        return out;
    }
}
